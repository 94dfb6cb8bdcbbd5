/** Runs the Classroom workflow's points step (grader/reports/classroom-step.js) as the workflow does, for the kit's tests. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { POINTS_COMMAND } from '../../workflow';

/** What the step printed and how it ended. */
export interface PointsStepRun {
  /** Its exit code: 0 when every test passed, 1 when one did not, 2 when its inputs were unusable. */
  readonly code: number | null;
  /** Every line it printed. */
  readonly log: string;
  /**
   * The workflow commands GitHub would act on (`::notice ...`, `::error ...`), one per line: each line's leading
   * spaces trimmed (the worst case), none while `::stop-commands::<token>` holds, up to its `::<token>::`.
   */
  readonly commands: readonly string[];
}

/** Runs the step in the kit (or a template at `root`) with `env` as its whole environment besides PATH. */
export function runPointsStep(
  env: Record<string, string>,
  root = path.join(__dirname, '..', '..', '..'),
): PointsStepRun {
  const [node, script] = POINTS_COMMAND.split(' ');
  const r = spawnSync(node === 'node' ? process.execPath : node, [script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  const log = `${r.stdout}${r.stderr}`;
  return { code: r.status, log, commands: actedOn(log) };
}

/** The workflow commands in `log` that GitHub's runner would act on (see PointsStepRun.commands). */
export function actedOn(log: string): string[] {
  const commands: string[] = [];
  let stoppedUntil: string | undefined;
  for (const raw of log.split('\n')) {
    const line = raw.trim();
    if (stoppedUntil !== undefined) {
      if (line === stoppedUntil) stoppedUntil = undefined;
    } else if (line.startsWith('::stop-commands::')) stoppedUntil = `::${line.slice('::stop-commands::'.length)}::`;
    else if (line.startsWith('::')) commands.push(line);
  }
  return commands;
}
