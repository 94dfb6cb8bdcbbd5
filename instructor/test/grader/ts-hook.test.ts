/** The grader's TypeScript loader compiles code under test with its private names lowered, the harness's as tsconfig says. */
import { expect } from 'chai';
import path from 'node:path';

const tsHook = require('../../../grader/ts-hook.js') as { transpile(source: string, filename: string): string };
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
});
