/** The earlier labs a lab's code builds on (LabSuite.buildsOn), where the grader finds them: kit folder and code folder. */
import path from 'node:path';
import type { LabSuite } from '../suite/types';

/** An earlier lab the code under test builds on. */
export interface EarlierLab {
  /** The lab's folder in the kit (lab6/): its modules outside test/ and tools/ are given modules. */
  readonly labDir: string;
  /** The folder of its code under test: the student's lab6/, or solutions/lab6/ beside a graded solutions/lab7/. */
  readonly codeDir: string;
  /** The files of `codeDir` that are code under test (its suite's implFiles). */
  readonly files: readonly string[];
}

/**
 * The earlier labs `suite` builds on, for grading the code in `implDir`: each lab's kit folder beside the suite's
 * lab folder, and its code beside `implDir` (the student's lab6/ beside lab7/, or solutions/lab6/ beside solutions/lab7/).
 */
export function earlierLabs(
  suite: Pick<LabSuite<unknown>, 'buildsOn'>,
  implDir: string,
  suitePath: string,
): EarlierLab[] {
  const root = path.dirname(path.dirname(path.dirname(path.resolve(suitePath))));
  return (suite.buildsOn ?? []).map((b) => ({
    labDir: path.join(root, b.lab),
    codeDir: path.join(path.dirname(path.resolve(implDir)), b.lab),
    files: b.files,
  }));
}
