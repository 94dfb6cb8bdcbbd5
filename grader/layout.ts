/** The kit's layout in one place: which top-level folders are the framework every lab runs on. */

/**
 * The framework's folders: the simulated network (labrpc), the simulated world, the consistency checker, the
 * contract between named tests and the grader (suite), and the grader. They ship to students with their labs;
 * everything the instructors alone use lives in solutions/ and instructor/.
 */
export const FRAMEWORK_FOLDERS = ['labrpc', 'world', 'checker', 'suite', 'grader'] as const;

/** The folders holding the labs' students' code: lab1, lab2, ... */
export const LAB_FOLDER = /^lab\d+$/;
