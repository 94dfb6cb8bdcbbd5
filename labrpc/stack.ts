/** Which frames of an error's stack are worth showing a student: their code's, not node's, the packages' or the kit's. */

/** Frames from node itself, installed packages, or with no file at all ("at Function.from (<anonymous>)"). */
const NOT_CODE = /\(node:|^at node:|node_modules|\(<anonymous>\)$|^at <anonymous>$/;
/** Frames in the kit's own folders (the framework's, grader/layout.ts's FRAMEWORK_FOLDERS, and a lab's tests)... */
const KIT = /[/\\](labrpc|world|checker|suite|grader|test)[/\\]/;
/** ...except the grader's fixture labs, which stand for student code in the kit's own tests. */
const FIXTURE = /[/\\]fixtures[/\\]/;

/** Whether a trimmed "at ..." line is a frame of the code under test. */
function isCodeFrame(line: string): boolean {
  return line.startsWith('at ') && !NOT_CODE.test(line) && (!KIT.test(line) || FIXTURE.test(line));
}

/** The first `max` frames of `stack` (the "at ..." lines after the message) that belong to the code under test, trimmed. */
export function codeFrames(stack: string | undefined, max = 5): string[] {
  return (stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(isCodeFrame)
    .slice(0, max);
}

/** A whole error output (messages and frames, e.g. a child process's stderr) with only the code under test's frames kept. */
export function trimStack(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.trim().startsWith('at ') || isCodeFrame(l.trim()))
    .join('\n');
}
