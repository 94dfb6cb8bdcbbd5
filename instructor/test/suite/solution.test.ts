/** The lab tools' --solution: the reference solution in the course kit, a clear refusal in the student template. */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { implFolder, NoSolutionError, REPO_ROOT } from '../../../suite/solution';

/** Runs `fn` in a fresh folder laid out like a kit or template root, removed afterwards. */
function withRoot(layout: string[], fn: (root: string) => void): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-root-'));
  try {
    for (const file of layout) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), '');
    }
    fn(root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

// These tests ship in the student template, so they build their own layouts instead of expecting the kit's solutions folder.
describe('lab tools: which code --solution runs', () => {
  it('defaults to the folder this code was installed in', () => {
    expect(implFolder('lab2', false)).to.equal(path.join(REPO_ROOT, 'lab2'));
  });

  it('runs the student folder by default and the reference solution with --solution in the kit', () => {
    withRoot(['lab5/server.ts', path.join('solutions', 'lab5', 'server.ts')], (kit) => {
      expect(implFolder('lab5', false, kit)).to.equal(path.join(kit, 'lab5'));
      expect(implFolder('lab5', true, kit)).to.equal(path.join(kit, 'solutions', 'lab5'));
    });
  });

  it('in a template without solutions, --solution says why and what to run instead', () => {
    withRoot(['lab3/server.ts'], (template) => {
      expect(implFolder('lab3', false, template)).to.equal(path.join(template, 'lab3'));
      expect(() => implFolder('lab3', true, template))
        .to.throw(NoSolutionError)
        .with.property('message')
        .that.contains('the student template has no reference solution')
        .and.contains('without --solution to use your lab3/ files');
    });
  });
});
