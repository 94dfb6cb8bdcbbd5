/**
 * The template's GitHub Classroom workflow (`.github/workflows/classroom.yml`), in the shape Classroom itself
 * generates: job `run-autograding-tests`, one grader step per lab with an `id`, an upload of the reports, and a
 * points step with one runner per test (each reading its own output of its lab's step) that reports the points to
 * Classroom (grader/reports/classroom-step.js). Built as a plain object and written as YAML with the `yaml`
 * package; the tests read it back, check it with actionlint, and run the steps from the file.
 */
import YAML from 'yaml';
import { classroomMissing, encodeClassroom, runnerName } from '../grader/reports/classroom';

/** A YAML value of the kind a workflow holds: maps, lists and scalars. */
export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

/** One workflow step. */
export interface WorkflowStep {
  [key: string]: YamlValue | undefined;
  name: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}

/** Where the workflow sits in the template. */
export const WORKFLOW_PATH = '.github/workflows/classroom.yml';

/**
 * The actions the workflows use, each pinned by the commit of a release (a tag can be moved, a commit cannot), with
 * the release it is: written beside the pin as a comment, and read by Dependabot (the template's dependabot.yml)
 * when it proposes a newer release. All run on Node 24. (Classroom's own reporter action is not among them: its only
 * release runs on the retired Node 20, so the kit's points step writes the two notices Classroom reads instead.)
 */
export const ACTIONS = {
  checkout: { uses: 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', release: 'v7.0.1' },
  setupNode: { uses: 'actions/setup-node@820762786026740c76f36085b0efc47a31fe5020', release: 'v7.0.0' },
  uploadArtifact: { uses: 'actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f', release: 'v7.0.0' },
  downloadArtifact: { uses: 'actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c', release: 'v8.0.1' },
} as const;

/** The command of the points step: totals the runners' payloads and writes the notices Classroom reads the points from. */
export const POINTS_COMMAND = 'node grader/reports/classroom-step.js';

/** The template's Dependabot configuration: a weekly look for newer releases of the workflow's actions. */
export const DEPENDABOT_PATH = '.github/dependabot.yml';
export const DEPENDABOT_CONFIG = {
  version: 2,
  updates: [{ 'package-ecosystem': 'github-actions', directory: '/', schedule: { interval: 'weekly' } }],
};

/** The step id of a lab's grader step. */
export function stepId(lab: string): string {
  return lab;
}

/** Real time a grader step keeps back from its timeout to start up and write its results, s. */
const STEP_RESERVE_SEC = 90;

/** The grader command a lab's step runs: its --budget ends grading before the step's timeout would. */
export function gradeCommand(lab: string, minutesPerLab = 15): string {
  return `npm run grade ${lab} -- --classroom --no-color --budget ${minutesPerLab * 60 - STEP_RESERVE_SEC}`;
}

/** What the workflow needs of a lab: its name and its tests with their points (one runner per test). */
export interface ClassroomLab {
  readonly lab: string;
  readonly tests: ReadonlyArray<{ readonly name: string; readonly points: number }>;
}

/** The Node.js version the workflow installs: the current LTS line (the kit is also tested on Node 20 and 24). */
export const WORKFLOW_NODE = '26';

/** Where the grader writes its reports in the template; the workflow uploads them as an artifact. */
const REPORTS_DIR = 'reports';

/**
 * The points step's input for one test: the grader step's output for its runner or, when the step wrote none
 * (`npm ci` failed, the grader could not start or was killed), a fixed payload giving 0 with the reason, so
 * the points step always has a score to post.
 */
function runnerInput(lab: string, test: string, points: number): string {
  const reason = `The grader reported no result for ${test}: npm ci failed, the grader could not start, or it was stopped. Open the "Grade ${lab}" step's log on the Actions tab.`;
  return `\${{ steps.${stepId(lab)}.outputs.${runnerName(lab, test)} || '${encodeClassroom(classroomMissing(lab, test, points, reason))}' }}`;
}

/** The workflow for a template shipping `labs`, as an object (the file is `toYaml` of it). */
export function classroomWorkflow(labs: readonly ClassroomLab[], minutesPerLab = 15): Record<string, YamlValue> {
  const runners = labs.flatMap((l) => l.tests.map((t) => ({ lab: l.lab, test: t.name, points: t.points })));
  const steps: WorkflowStep[] = [
    { name: 'Checkout code', uses: ACTIONS.checkout.uses },
    {
      name: `Set up Node.js ${WORKFLOW_NODE}`,
      uses: ACTIONS.setupNode.uses,
      with: { 'node-version': WORKFLOW_NODE, cache: 'npm' },
    },
    { name: 'Install dependencies', run: 'npm ci' },
    ...labs.map(({ lab }): WorkflowStep => ({
      name: `Grade ${lab}`,
      id: stepId(lab),
      run: gradeCommand(lab, minutesPerLab),
      // A failing test makes the grader exit 1; the points step must still run and report the partial score.
      'continue-on-error': true,
      'timeout-minutes': minutesPerLab,
    })),
    {
      // The HTML report, results.json and histories, for the student to download from the run's page.
      name: 'Upload the reports',
      uses: ACTIONS.uploadArtifact.uses,
      if: 'always()',
      with: { name: 'grading-reports', path: `${REPORTS_DIR}/`, 'if-no-files-found': 'ignore' },
    },
    {
      // Plain JavaScript with no installed package, so it reports 0 points with the reason even when npm ci failed.
      name: 'Report the points to GitHub Classroom',
      if: 'always()',
      run: POINTS_COMMAND,
      env: {
        RUNNERS: runners.map((r) => runnerName(r.lab, r.test)).join(','),
        ...Object.fromEntries(
          runners.map((r) => [
            `${runnerName(r.lab, r.test).toUpperCase()}_RESULTS`,
            runnerInput(r.lab, r.test, r.points),
          ]),
        ),
      },
    },
  ];
  return {
    name: 'Autograding Tests',
    on: ['push', 'repository_dispatch', 'workflow_dispatch'],
    permissions: { checks: 'write', actions: 'read', contents: 'read' },
    jobs: {
      'run-autograding-tests': {
        'runs-on': 'ubuntu-latest',
        if: "github.actor != 'github-classroom[bot]'",
        'timeout-minutes': 10 + minutesPerLab * labs.length,
        steps: steps.map(dropUndefined),
      },
    },
  };
}

function dropUndefined(step: WorkflowStep): Record<string, YamlValue> {
  return Object.fromEntries(Object.entries(step).filter((e): e is [string, YamlValue] => e[1] !== undefined));
}

/**
 * YAML text for the workflow. Written as YAML 1.1, the version GitHub's reader follows, so that strings such
 * as "on", "yes" or "true" are quoted rather than read back as booleans.
 */
export function toYaml(value: YamlValue): string {
  const text = YAML.stringify(value, { version: '1.1', lineWidth: 0 });
  // Each pinned action gets its release beside it, as Dependabot and people read it: "uses: owner/repo@sha # v7.0.1".
  return text.replace(/^(\s*-? ?uses: )(\S+)$/gm, (line, head: string, uses: string) => {
    const pin = Object.values(ACTIONS).find((a) => a.uses === uses);
    return pin ? `${head}${uses} # ${pin.release}` : line;
  });
}

/** Reads a workflow file back (as YAML 1.1, as GitHub does); a syntax error names its line. */
export function parseYaml(text: string): YamlValue {
  return YAML.parse(text, { version: '1.1', prettyErrors: true }) as YamlValue;
}
