/** What the instructor tools' tests share to run a released template as a student or Classroom would: the environment, commands, linked packages and the workflow's steps. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rubricOf } from '../../grader/rubric';
import type { LabSuite } from '../../suite';
import { suite as lab2Suite } from '../../lab2/test/suite';
import { linkModules } from '../batch';
import { KIT_ROOT } from '../release';
import { parseYaml, WORKFLOW_PATH, YamlValue } from '../workflow';

/** Lab 2's files a student writes. */
export const LAB2_FILES = ['server.ts', 'client.ts', 'lock.ts'];
/** Lab 2's rubric, as the grader reads it off the suite. */
export const RUBRIC = rubricOf(lab2Suite as LabSuite<unknown>, 'lab2/test/suite.ts');
/** Lab 2's tests with their points, in the suite's order. */
export const LAB2_TESTS = Object.entries(RUBRIC.tests).map(([name, e]) => ({ name, points: e.points }));

/** The environment of a command run "on a student's machine": no CI variables, no colours. */
export function localEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const k of ['GITHUB_ACTIONS', 'GITHUB_OUTPUT', 'KVLABS_LAB_ROOT', 'CI']) if (!(k in extra)) delete env[k];
  return env;
}

/** Runs a command to its end and returns its exit status and output. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = localEnv(),
  timeoutMs = 120_000,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Gives a copy of the template the installed packages (of the released template if installed, else the kit's), linked one by one as the batch links them. */
export function linkTemplateModules(dir: string, template: string): void {
  const installed = path.join(template, 'node_modules');
  const from = fs.existsSync(installed) ? fs.realpathSync(installed) : path.join(KIT_ROOT, 'node_modules');
  linkModules(from, path.join(dir, 'node_modules'));
}

/** One step of the Classroom workflow, as parsed from its YAML. */
export type Step = Record<string, YamlValue> & {
  name: string;
  id?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
};

/** The released template's Classroom workflow, parsed. */
export function workflowOf(template: string): Record<string, YamlValue> {
  return parseYaml(fs.readFileSync(path.join(template, WORKFLOW_PATH), 'utf8')) as Record<string, YamlValue>;
}

/** The steps of a Classroom workflow's one job. */
export function stepsOf(wf: Record<string, YamlValue>): Step[] {
  return ((wf.jobs as Record<string, Record<string, YamlValue>>)['run-autograding-tests'].steps as Step[]) ?? [];
}
