/** The symbol registry's keys kept open for the kit's packages (grader/symbol-registry.ts) are the keys they use. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ALWAYS_KEPT, FAST_CHECK_KEYS } from '../../../grader/symbol-registry';

/** Every `Symbol.for("...")` key in a package's files. */
function registeredKeys(dir: string): Set<string> {
  const keys = new Set<string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(c|m)?js$/.test(entry.name)) continue;
    const text = fs.readFileSync(path.join(entry.parentPath ?? entry.path, entry.name), 'utf8');
    for (const m of text.matchAll(/Symbol\.for\(\s*(['"`])([^'"`]*)\1\s*\)/g)) keys.add(m[2]);
  }
  return keys;
}

describe('the symbol registry kept open for fast-check', () => {
  it('lists every key fast-check registers, so that it may load after the code under test', () => {
    const dir = path.dirname(require.resolve('fast-check/package.json'));
    const used = registeredKeys(dir);
    expect(used.size, 'no Symbol.for key found in fast-check: has the package moved its files?').to.be.above(0);
    expect([...used].sort()).to.deep.equal([...FAST_CHECK_KEYS].sort());
    expect(ALWAYS_KEPT, 'the keys still answered once the code under test has loaded').to.include.members([...used]);
  });
});
