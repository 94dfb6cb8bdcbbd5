/** The sandbox's stack traces: the student's frames and node's, no kit or package frame, and no count of them. */
import { expect } from 'chai';
import { hidingPrepareStackTrace } from '../../../grader/hide-harness';

/** A stand-in for V8's CallSite of a frame in `file`. */
function site(file: string, fn = 'f'): Parameters<ReturnType<typeof hidingPrepareStackTrace>>[1][number] {
  return {
    getFileName: () => file,
    getScriptNameOrSourceURL: () => file,
    getLineNumber: () => null,
    getColumnNumber: () => null,
    toString: () => `${fn} (${file})`,
  };
}

const STUDENT = '/sub/lab2/lock.ts';
const format = hidingPrepareStackTrace((file) => file === STUDENT);
const lines = (sites: ReturnType<typeof site>[]): string[] => format(new Error('x'), sites).split('\n').slice(1);

describe('grader: the stack traces code under test sees', () => {
  it('show no frame of a package (red team: fast-check’s frames named the model tests)', () => {
    const shown = lines([
      site(STUDENT),
      site('/kit/node_modules/fast-check/lib/cjs/fast-check.js', 'runModel'),
      site('node:internal/timers'),
    ]);
    expect(shown.join('\n')).to.not.contain('fast-check');
    expect(shown).to.have.length(2);
  });

  it('show as many lines however many kit frames sat among the captured ones (red team: a line fewer per spy wrapper)', () => {
    const student = Array.from({ length: 12 }, () => site(STUDENT));
    const kit = (n: number) => Array.from({ length: n }, () => site('/kit/lab5/test/spies.ts', 'spy'));
    const few = lines([...student.slice(0, 3), ...kit(1), ...student.slice(3)]);
    const many = lines([...student.slice(0, 3), ...kit(5), ...student.slice(3)]);
    expect(few).to.have.length(10);
    expect(many).to.deep.equal(few);
  });
});
