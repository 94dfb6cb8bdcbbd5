/** What the instructor command lines share: commander parsing, and exit codes (2 usage, 3 a bug in the tool). */
import { Command, CommanderError } from 'commander';
import { GraderUsageError } from '../grader/errors';

/**
 * Parses `argv` with `program`, then runs `body`. Returns 0 for --help, 2 for bad arguments or a
 * GraderUsageError (printed as one line); other errors propagate.
 */
export async function runCommand(
  program: Command,
  argv: readonly string[],
  body: () => Promise<number>,
): Promise<number> {
  try {
    program.exitOverride().parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  try {
    return await body();
  } catch (err) {
    if (err instanceof GraderUsageError) {
      process.stderr.write(`Error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** Runs `main` when the file is the program itself, mapping an unexpected error to exit code 3. */
export function runAsScript(module: NodeModule, main: (argv: readonly string[]) => Promise<number>): void {
  if (require.main !== module) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 3;
    },
  );
}
