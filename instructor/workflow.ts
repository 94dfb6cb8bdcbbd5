/**
 * The template's GitHub Classroom workflow (`.github/workflows/classroom.yml`), in the shape Classroom itself
 * generates: job `run-autograding-tests`, one grader step per lab with an `id`, an upload of the reports, and
 * the classroom-resources reporter with one runner per test (each reading its own output of its lab's step). Built as a plain object and written as
 * YAML by a small writer; `parseYaml` reads that subset back (the tests run the steps from the file).
 */
import { classroomMissing, encodeClassroom, runnerName } from '../grader/reports/classroom';

/** A YAML value of the subset written here. */
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

/** The reporter action GitHub Classroom reads partial credit from. */
export const REPORTER = 'classroom-resources/autograding-grading-reporter@v1';

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

/** What the workflow needs of a lab: its name and its tests with their points (one reporter runner per test). */
export interface ClassroomLab {
  readonly lab: string;
  readonly tests: ReadonlyArray<{ readonly name: string; readonly points: number }>;
}

/** The Node.js version the workflow installs: the current LTS line (the kit is also tested on Node 20 and 24). */
export const WORKFLOW_NODE = '26';

/** Where the grader writes its reports in the template; the workflow uploads them as an artifact. */
const REPORTS_DIR = 'reports';

/**
 * The reporter's input for one test: the grader step's output for its runner or, when the step wrote none
 * (`npm ci` failed, the grader could not start or was killed), a fixed payload giving 0 with the reason, so
 * the reporter always has a score to post.
 */
function runnerInput(lab: string, test: string, points: number): string {
  const reason = `The grader reported no result for ${test}: npm ci failed, the grader could not start, or it was stopped. Open the "Grade ${lab}" step's log on the Actions tab.`;
  return `\${{ steps.${stepId(lab)}.outputs.${runnerName(lab, test)} || '${encodeClassroom(classroomMissing(lab, test, points, reason))}' }}`;
}

/** The workflow for a template shipping `labs`, as an object (the file is `toYaml` of it). */
export function classroomWorkflow(labs: readonly ClassroomLab[], minutesPerLab = 15): Record<string, YamlValue> {
  const runners = labs.flatMap((l) => l.tests.map((t) => ({ lab: l.lab, test: t.name, points: t.points })));
  const steps: WorkflowStep[] = [
    { name: 'Checkout code', uses: 'actions/checkout@v4' },
    { name: `Set up Node.js ${WORKFLOW_NODE}`, uses: 'actions/setup-node@v4', with: { 'node-version': WORKFLOW_NODE, cache: 'npm' } },
    { name: 'Install dependencies', run: 'npm ci' },
    ...labs.map(
      ({ lab }): WorkflowStep => ({
        name: `Grade ${lab}`,
        id: stepId(lab),
        run: gradeCommand(lab, minutesPerLab),
        // A failing test makes the grader exit 1; the reporter must still run and upload the partial score.
        'continue-on-error': true,
        'timeout-minutes': minutesPerLab,
      }),
    ),
    {
      // The HTML report, results.json and histories, for the student to download from the run's page.
      name: 'Upload the reports',
      uses: 'actions/upload-artifact@v4',
      if: 'always()',
      with: { name: 'grading-reports', path: `${REPORTS_DIR}/`, 'if-no-files-found': 'ignore' },
    },
    {
      name: 'Autograding Reporter',
      uses: REPORTER,
      if: 'always()',
      env: Object.fromEntries(runners.map((r) => [`${runnerName(r.lab, r.test).toUpperCase()}_RESULTS`, runnerInput(r.lab, r.test, r.points)])),
      with: { runners: runners.map((r) => runnerName(r.lab, r.test)).join(',') },
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

// ---- writing -------------------------------------------------------------------------------------------

/** Words YAML 1.1 readers (GitHub's included) take for booleans or null; such strings are quoted. */
const RESERVED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;

function scalar(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  const plain = /^[A-Za-z_./@][A-Za-z0-9_ ./@,-]*$/.test(v) && !v.endsWith(' ') && !RESERVED.test(v);
  return plain ? v : JSON.stringify(v);
}

function key(k: string): string {
  return scalar(k);
}

/** YAML text for a value built of maps, lists and scalars (block style, two-space indent). */
export function toYaml(value: YamlValue): string {
  return `${emit(value, 0).join('\n')}\n`;
}

function emit(value: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (typeof item === 'object') {
        const inner = emit(item, indent + 2);
        return [`${pad}- ${inner[0].trimStart()}`, ...inner.slice(1)];
      }
      return [`${pad}- ${scalar(item)}`];
    });
  }
  if (typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      if (typeof v === 'object') {
        const nested = Array.isArray(v) ? emit(v, indent) : emit(v, indent + 2);
        return [`${pad}${key(k)}:`, ...nested];
      }
      return [`${pad}${key(k)}: ${scalar(v)}`];
    });
  }
  return [`${pad}${scalar(value)}`];
}

// ---- reading -------------------------------------------------------------------------------------------

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly no: number;
}

/**
 * Reads the YAML subset `toYaml` writes: block maps and lists, plain and double-quoted scalars, comments.
 * Numbers and true/false come back typed; anything outside the subset is an error naming the line.
 */
export function parseYaml(text: string): YamlValue {
  const lines: Line[] = text
    .split('\n')
    .map((raw, i) => ({ raw, no: i + 1 }))
    .filter(({ raw }) => raw.trim() !== '' && !raw.trimStart().startsWith('#'))
    .map(({ raw, no }) => ({ indent: raw.length - raw.trimStart().length, text: raw.trim(), no }));
  let at = 0;

  const fail = (line: Line | undefined, why: string): never => {
    throw new Error(`YAML line ${line?.no ?? 'end'}: ${why}`);
  };
  const readScalar = (s: string, line: Line): YamlValue => {
    if (s.startsWith('"')) {
      try {
        return JSON.parse(s) as string;
      } catch {
        return fail(line, `bad quoted string ${s}`);
      }
    }
    if (s.startsWith("'")) {
      if (!s.endsWith("'") || s.length < 2) fail(line, `bad quoted string ${s}`);
      return s.slice(1, -1).replace(/''/g, "'");
    }
    if (s === 'true' || s === 'false') return s === 'true';
    if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
    return s;
  };
  /** Splits "key: value" (key maybe quoted); value '' means a nested block follows. */
  const splitKey = (s: string, line: Line): [string, string] => {
    const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^:'"]+?):(?:\s+(.*))?$/.exec(s);
    if (!m) return fail(line, `expected "key: value", got ${s}`);
    return [String(readScalar(m[1], line)), m[2] ?? ''];
  };

  const block = (indent: number): YamlValue => {
    const first = lines[at];
    if (!first || first.indent !== indent) return fail(first, `expected a block at indent ${indent}`);
    return first.text.startsWith('- ') || first.text === '-' ? list(indent) : map(indent);
  };
  const map = (indent: number, firstInline?: string, line?: Line): Record<string, YamlValue> => {
    const out: Record<string, YamlValue> = {};
    const entry = (text: string, l: Line): void => {
      const [k, v] = splitKey(text, l);
      if (k in out) fail(l, `duplicate key ${k}`);
      if (v !== '') out[k] = readScalar(v, l);
      else {
        const next = lines[at];
        // A list may sit at the same indent as its key (GitHub's style) or deeper.
        if (next && (next.indent > indent || (next.indent === indent && next.text.startsWith('- ')))) out[k] = block(next.indent);
        else out[k] = '';
      }
    };
    if (firstInline !== undefined && line) entry(firstInline, line);
    while (at < lines.length && lines[at].indent === indent && !lines[at].text.startsWith('- ')) {
      const l = lines[at++];
      entry(l.text, l);
    }
    return out;
  };
  const list = (indent: number): YamlValue[] => {
    const out: YamlValue[] = [];
    while (at < lines.length && lines[at].indent === indent && lines[at].text.startsWith('- ')) {
      const l = lines[at++];
      const rest = l.text.slice(2).trim();
      if (/^("(?:[^"\\]|\\.)*"|'[^']*'|[^:'"]+?):(\s|$)/.test(rest)) out.push(map(indent + 2, rest, l));
      else out.push(readScalar(rest, l));
    }
    return out;
  };

  const value = block(0);
  if (at < lines.length) fail(lines[at], 'unexpected indentation');
  return value;
}
