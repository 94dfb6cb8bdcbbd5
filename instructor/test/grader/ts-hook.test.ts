/** The grader's TypeScript loader compiles code under test with its private names lowered, the harness's as tsconfig says. */
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const tsHook = require('../../../grader/ts-hook.js') as {
  transpile(source: string, filename: string): string;
  guardKitLoads(root: string, options?: { manifest: boolean }): () => void;
};
const KIT = path.resolve(__dirname, '..', '..', '..');

/** A class with a private field, stamped on whatever object its base's constructor returns (a frozen intrinsic too). */
const STAMP = `
class Identity { constructor(target: object) { return target; } }
export class Stamp extends Identity {
  #kept: unknown;
  constructor(target: object, kept: unknown) { super(target); this.#kept = kept; }
  static read(target: object): unknown { return (target as Stamp).#kept; }
}
`;

describe('grader: the TypeScript loader', () => {
  it('lowers private names to WeakMaps of the module in code under test (a lab folder, a solution, a submission), so no object outlives what they keep', () => {
    for (const file of [
      path.join(KIT, 'lab2', 'server.ts'),
      path.join(KIT, 'solutions', 'lab2', 'server.ts'),
      '/tmp/submission/lab2/server.ts',
    ]) {
      const js = tsHook.transpile(STAMP, file);
      expect(js, file).to.not.match(/#kept/);
      expect(js, file).to.contain('WeakMap');
    }
  });

  it('keeps native private names in the harness’s own files (the crossing’s brand is one)', () => {
    for (const file of [path.join(KIT, 'grader', 'probe.ts'), path.join(KIT, 'lab2', 'test', 'probe.ts')])
      expect(tsHook.transpile(STAMP, file), file).to.match(/#kept/);
  });

  describe('the guard on what node loads as the kit', () => {
    let root: string;
    const write = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    };
    const load = (rel: string): unknown => require(path.join(root, rel));
    beforeEach(() => {
      root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-guard-')));
    });
    afterEach(() => {
      for (const f of Object.keys(require.cache)) if (f.startsWith(root + path.sep)) delete require.cache[f];
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('refuses a file without a module extension that node would load in place of a kit module (red team: lab2/load beside lab2/load.ts ran in the grader)', () => {
      write('lab2/load.ts', 'export const who = "kit";\n');
      write('lab2/load', 'module.exports = { who: "student" };\n');
      write('node_modules/pkg/load', 'module.exports = { who: "package" };\n');
      expect((load('lab2/load') as { who: string }).who, 'unguarded, node takes the extensionless file').to.equal(
        'student',
      );
      delete require.cache[path.join(root, 'lab2', 'load')];
      const unguard = tsHook.guardKitLoads(root);
      try {
        expect(() => load('lab2/load')).to.throw(
          /refuses to load lab2\/load as part of the kit: its name has no module extension.*Remove or rename that file/,
        );
        expect((load('node_modules/pkg/load') as { who: string }).who, 'packages are not the kit tree').to.equal(
          'package',
        );
        expect((load('lab2/load.ts') as { who: string }).who, 'the kit module itself loads').to.equal('kit');
      } finally {
        unguard();
      }
    });

    it('with the manifest on, loads only the files the manifest lists, with their content', () => {
      const kit = 'module.exports = 1;\n';
      write('suite/kit.js', kit);
      write('suite/changed.js', 'module.exports = 2;\n');
      write('lab2/helper.js', 'module.exports = 3;\n');
      const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
      const files = { 'suite/kit.js': sha(kit), 'suite/changed.js': sha('module.exports = 0;\n') };
      write('.kvlabs/manifest.json', JSON.stringify({ version: 1, generatedBy: 'test', files }));
      const unguard = tsHook.guardKitLoads(root, { manifest: true });
      try {
        expect(load('suite/kit.js')).to.equal(1);
        expect(() => load('suite/changed.js')).to.throw(
          /suite\/changed\.js as part of the kit: it differs from the template's copy/,
        );
        expect(() => load('lab2/helper.js')).to.throw(
          /lab2\/helper\.js as part of the kit: the template's manifest .* does not list it/,
        );
      } finally {
        unguard();
      }
      expect(load('lab2/helper.js'), 'taken off again').to.equal(3);
    });
  });
});
