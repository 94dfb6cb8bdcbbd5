/** Tests for the template's lockfile pruning: instructor-only packages leave, everything still reachable stays. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Lockfile, pruneLockfile } from '../lockfile';
import { KIT_ROOT } from '../release';
import { studentPackageJson } from '../template';

const read = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(KIT_ROOT, name), 'utf8')) as Record<string, unknown>;

describe('template lockfile', () => {
  it('drops the packages only the instructors use (StrykerJS and what only it needs), keeps every package the template reaches', () => {
    const kitLock = read('package-lock.json') as unknown as Lockfile;
    const pkg = studentPackageJson(read('package.json'), ['lab2']);
    expect(Object.keys(pkg.devDependencies as object)).not.to.include('@stryker-mutator/core');
    const lock = pruneLockfile(kitLock, pkg);
    const kept = Object.keys(lock.packages);
    expect(kept.filter((k) => k.includes('@stryker-mutator'))).to.deep.equal([]);
    expect(kept.length).to.be.below(Object.keys(kitLock.packages).length);
    for (const name of [
      ...Object.keys(pkg.dependencies as object),
      ...Object.keys(pkg.devDependencies as object),
      'ts-node',
      'chai',
    ]) {
      expect(kept, `${name} is needed by the template`).to.include(`node_modules/${name}`);
    }
    expect(lock.packages[''].devDependencies).to.deep.equal(pkg.devDependencies);
  });

  it('resolves a dependency the way Node does: the nearest node_modules first, then each parent', () => {
    const lock: Lockfile = {
      lockfileVersion: 3,
      packages: {
        '': { dependencies: { a: '1' }, devDependencies: { gone: '1' } },
        'node_modules/a': { dependencies: { b: '1', c: '1' } },
        'node_modules/a/node_modules/b': { dependencies: { c: '1', f: '1' } },
        'node_modules/a/node_modules/f': {},
        'node_modules/f': {},
        'node_modules/b': {},
        'node_modules/c': { optionalDependencies: { d: '1', missing: '1' } },
        'node_modules/d': {},
        'node_modules/gone': { dependencies: { e: '1' } },
        'node_modules/e': {},
      },
    };
    const pruned = pruneLockfile(lock, { dependencies: { a: '1' } });
    expect(Object.keys(pruned.packages).sort()).to.deep.equal([
      '',
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/a/node_modules/f',
      'node_modules/c',
      'node_modules/d',
    ]);
    expect(pruned.packages[''].devDependencies, 'the root lists what package.json lists').to.equal(undefined);
    expect(() => pruneLockfile({ lockfileVersion: 1, packages: undefined as never }, {})).to.throw(
      /lockfile version 1.*npm 7/,
    );
  });
});
