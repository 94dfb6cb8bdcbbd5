/**
 * `npm run release -- --out DIR [--labs lab1,lab2] [--force] [--git] [--allow-dirty]`: writes the student
 * template repository — handouts, skeletons, given files, tests, labrpc, tester, grader, package.json and
 * lockfile, a student README, the GitHub Classroom workflow and the tamper manifest — with no solution
 * anywhere. It refuses when shipped files are not committed, unless --allow-dirty.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { runAsScript, runCommand } from './cli';
import { GraderUsageError, listNames } from '../grader/errors';
import { listLabs, loadLab, type LoadedLab } from '../grader/labs';
import { describeEntry, DirtyTreeError, dirtyShippedFiles } from './dirty';
import { distinctiveSolutionLines, Finding, scanTemplate } from './leaks';
import { Lockfile, pruneLockfile } from './lockfile';
import { buildManifest, MANIFEST_PATH, writeManifest } from './manifest';
import { studentReadme } from './readme';
import {
  scrubComments,
  shippedFiles,
  STUDENT_GITIGNORE,
  studentMocharc,
  studentPackageJson,
  studentTsconfig,
} from './template';
import { classroomWorkflow, DEPENDABOT_CONFIG, DEPENDABOT_PATH, toYaml, WORKFLOW_PATH } from './workflow';
import { describeFindings, lintWorkflow } from './workflow-lint';

/** The kit repository these tools belong to. */
export const KIT_ROOT = path.resolve(__dirname, '..');

/** What to release. */
export interface ReleaseOptions {
  /** Folder to write (created; must be empty unless `force`). */
  readonly out: string;
  /** Labs to ship (default: every lab with a test suite). */
  readonly labs?: readonly string[];
  /** Replace an earlier template in `out` (only a folder that holds a template manifest is ever removed). */
  readonly force?: boolean;
  /** Make the folder a git repository with one commit, ready to push. */
  readonly git?: boolean;
  /** The kit repository (default: this one). */
  readonly repo?: string;
  /** Release even when shipped files have uncommitted changes or are untracked (they ship as they are on disk). */
  readonly allowDirty?: boolean;
}

/** What was written. */
export interface ReleaseResult {
  readonly out: string;
  readonly labs: readonly string[];
  /** Every file of the template, relative, sorted. */
  readonly files: readonly string[];
  /** Files protected by the manifest. */
  readonly protectedFiles: readonly string[];
  /** Code that names the solutions folder (not a leak, but a tool option that cannot work in the template). */
  readonly mentions: readonly Finding[];
  /** With allowDirty: shipped files not as committed, e.g. "lab2/rpc.ts (modified)" (they shipped as they are on disk). */
  readonly uncommitted: readonly string[];
}

/**
 * Writes the student template; rejects with a GraderUsageError for a bad lab or output folder, a leak, or
 * (a DirtyTreeError) shipped files that are not committed, unless `allowDirty`.
 */
export async function release(options: ReleaseOptions): Promise<ReleaseResult> {
  const repo = path.resolve(options.repo ?? KIT_ROOT);
  const out = path.resolve(options.out);
  const labs = labsToShip(repo, out, options.labs);
  const dirty = dirtyShippedFiles(repo, labs);
  if (dirty.length > 0 && options.allowDirty !== true) throw new DirtyTreeError(dirty);
  prepareOut(out, options.force === true);

  const loaded = labs.map((l) => loadLab(repo, l));
  const copied = copyShippedFiles(repo, out, labs);
  // The Classroom workflow grades the labs asked for; the earlier labs they build on ship to be built on (and graded
  // by hand with npm run grade), not scored in the assignment.
  const asked = options.labs && options.labs.length > 0 ? options.labs : labs;
  const graded = loaded.filter((l) => asked.includes(l.lab));
  const generated = await generatedFiles(repo, labs, { loaded, graded }, copied);
  for (const [rel, text] of generated) {
    fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    fs.writeFileSync(path.join(out, rel), text);
  }

  const files = [...copied, ...generated.keys()].sort();
  const findings = expectNoLeaks(repo, out, files);
  const implFilesByLab = new Map(loaded.map((l) => [l.lab, l.suite.implFiles]));
  const manifest = buildManifest(out, files, implFilesByLab);
  writeManifest(out, manifest);
  const all = [...files, MANIFEST_PATH].sort();
  if (options.git) commitAll(out, labs);
  const uncommitted = dirty.map(describeEntry);
  return {
    out,
    labs,
    files: all,
    protectedFiles: Object.keys(manifest.files),
    mentions: findings.filter((f) => f.kind === 'mention'),
    uncommitted,
  };
}

/** The labs to ship (default every lab with a test suite); refuses unknown labs and an `out` that holds the kit. */
function labsToShip(repo: string, out: string, asked: readonly string[] | undefined): string[] {
  const available = listLabs(repo).map((p) => p.lab);
  const labs = asked && asked.length > 0 ? [...asked] : available;
  const unknown = labs.filter((l) => !available.includes(l));
  if (unknown.length > 0)
    throw new GraderUsageError(`Unknown lab ${listNames(unknown)}. Labs with a test suite: ${listNames(available)}.`);
  if (out === repo || repo.startsWith(`${out}${path.sep}`))
    throw new GraderUsageError(`--out ${out} would overwrite the kit itself; choose a new folder.`);
  // A lab whose code builds on earlier labs' (lab 7 on lab 6 and lab 2) ships them too: the student's own code runs.
  const needed = new Set(labs.flatMap((l) => [l, ...(loadLab(repo, l).suite.buildsOn ?? []).map((b) => b.lab)]));
  return available.filter((l) => needed.has(l));
}

/** Copies the labs' shipped files into `out` (TypeScript with its comments scrubbed), keeping their modes; returns them. */
function copyShippedFiles(repo: string, out: string, labs: readonly string[]): string[] {
  const copied = shippedFiles(repo, labs);
  for (const rel of copied) {
    const from = path.join(repo, rel);
    const to = path.join(out, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (rel.endsWith('.ts')) fs.writeFileSync(to, scrubComments(fs.readFileSync(from, 'utf8')));
    else fs.copyFileSync(from, to);
    fs.chmodSync(to, fs.statSync(from).mode & 0o777);
  }
  return copied;
}

/** A JSON file of the kit, or undefined when it has none. */
function readKitJson(repo: string, name: string): Record<string, unknown> | undefined {
  return fs.existsSync(path.join(repo, name))
    ? (JSON.parse(fs.readFileSync(path.join(repo, name), 'utf8')) as Record<string, unknown>)
    : undefined;
}

/** JSON as the template's files are written: two-space indents and a final newline. */
function jsonText(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/**
 * The template's files made rather than copied, by path: configuration, README, the Classroom workflow (checked
 * with actionlint) and Dependabot's settings.
 */
async function generatedFiles(
  repo: string,
  labs: readonly string[],
  { loaded, graded }: { loaded: readonly LoadedLab[]; graded: readonly LoadedLab[] },
  copied: readonly string[],
): Promise<Map<string, string>> {
  const generated = studentConfigFiles(repo, labs, copied);
  generated.set(
    'README.md',
    studentReadme(
      loaded.map((l) => ({
        lab: l.lab,
        title: l.suite.title,
        implFiles: l.suite.implFiles,
        firstTest: (l.suite.tests.find((t) => t.realTime !== true) ?? l.suite.tests[0])?.name ?? 'TestName',
        realTimeTests: l.suite.tests.filter((t) => t.realTime === true).map((t) => t.name),
        testCount: l.suite.tests.length,
      })),
    ),
  );
  generated.set(
    WORKFLOW_PATH,
    toYaml(
      classroomWorkflow(
        graded.map((l) => ({
          lab: l.lab,
          tests: l.suite.tests.map((t) => ({ name: t.name, points: l.rubric.tests[t.name]?.points ?? 0 })),
        })),
      ),
    ),
  );
  generated.set(DEPENDABOT_PATH, toYaml(DEPENDABOT_CONFIG));
  const workflowFindings = await lintWorkflow(generated.get(WORKFLOW_PATH) ?? '', WORKFLOW_PATH);
  if (workflowFindings.length > 0)
    throw new GraderUsageError(
      `actionlint finds the generated ${WORKFLOW_PATH} unsound; GitHub would refuse or misread it (a bug of the kit's instructor/workflow.ts):\n${describeFindings(workflowFindings)}`,
    );
  return generated;
}

/** The student's .mocharc.json (when tests ship), package.json and its lockfile, tsconfig.json and .gitignore. */
function studentConfigFiles(repo: string, labs: readonly string[], copied: readonly string[]): Map<string, string> {
  const generated = new Map<string, string>();
  // The framework's and the labs' own tests stay with the instructors: a template's `npm test` type-checks.
  const mocharc = readKitJson(repo, '.mocharc.json');
  const studentMocha = mocharc ? studentMocharc(mocharc, copied) : undefined;
  const shipsTests = ((studentMocha?.spec ?? []) as string[]).length > 0;
  if (studentMocha && shipsTests) generated.set('.mocharc.json', jsonText(studentMocha));
  const pkg = readKitJson(repo, 'package.json');
  if (pkg) {
    const studentPkg = studentPackageJson(pkg, labs, shipsTests);
    generated.set('package.json', jsonText(studentPkg));
    const lock = readKitJson(repo, 'package-lock.json');
    if (lock) generated.set('package-lock.json', jsonText(pruneLockfile(lock as unknown as Lockfile, studentPkg)));
  }
  const tsconfig = readKitJson(repo, 'tsconfig.json');
  if (tsconfig) generated.set('tsconfig.json', jsonText(studentTsconfig(tsconfig, copied)));
  generated.set('.gitignore', STUDENT_GITIGNORE);
  return generated;
}

/** Scans the written template: throws when it would reveal a solution; returns every finding (leaks are none). */
function expectNoLeaks(repo: string, out: string, files: readonly string[]): Finding[] {
  const findings = scanTemplate(out, files, distinctiveSolutionLines(repo));
  const leaks = findings.filter((f) => f.kind === 'leak');
  if (leaks.length > 0) {
    throw new GraderUsageError(
      `The template in ${out} would reveal solutions; nothing should be published from it:\n` +
        leaks.map((f) => `  ${f.file}:${f.line}  ${f.why}: ${f.text}`).join('\n'),
    );
  }
  return findings;
}

/** A path from the command line, relative to where the user ran `npm run` (npm itself runs in the package root). */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** Creates `out`, or empties an earlier template there when `force`; anything else already there is an error. */
function prepareOut(out: string, force: boolean): void {
  if (!fs.existsSync(out)) {
    fs.mkdirSync(out, { recursive: true });
    return;
  }
  const entries = fs.readdirSync(out);
  if (entries.length === 0) return;
  if (!force)
    throw new GraderUsageError(
      `${out} is not empty. Choose a new folder, or add --force to replace an earlier template there.`,
    );
  if (!fs.existsSync(path.join(out, MANIFEST_PATH))) {
    throw new GraderUsageError(
      `${out} is not empty and does not hold an earlier template (no ${MANIFEST_PATH}); --force only replaces templates. Choose a new folder.`,
    );
  }
  for (const e of entries) if (e !== '.git') fs.rmSync(path.join(out, e), { recursive: true, force: true });
}

/** Makes `out` a git repository (if it is not one) and commits everything. */
function commitAll(out: string, labs: readonly string[]): void {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: out, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!fs.existsSync(path.join(out, '.git'))) git('init', '-q', '-b', 'main');
  git('add', '-A');
  git(
    '-c',
    'user.name=kvlabs release',
    '-c',
    'user.email=release@kvlabs.invalid',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    `Student template: ${labs.join(', ')}`,
  );
}

/** Runs the command line and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('npm run release --')
    .description(
      'Writes the student template repository (no solutions), with GitHub Classroom autograding and a tamper manifest.',
    )
    .requiredOption('-o, --out <dir>', 'folder to write the template to (new or empty)')
    .option('-l, --labs <labs>', 'comma-separated labs to ship (default: every lab with a test suite)')
    .option('--force', 'replace an earlier template in --out')
    .option('--git', 'make --out a git repository with one commit, ready to push')
    .option(
      '--allow-dirty',
      'release even when shipped files have uncommitted changes or are untracked (they ship as they are on disk)',
    )
    .option('--repo <dir>', 'the kit repository to release from (default: the one these tools belong to)');
  return runCommand(program, argv, async () => {
    const o = program.opts<{
      out: string;
      labs?: string;
      force?: boolean;
      git?: boolean;
      allowDirty?: boolean;
      repo?: string;
    }>();
    const labs = o.labs
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const r = await release({
      out: userPath(o.out),
      labs,
      force: o.force,
      git: o.git,
      allowDirty: o.allowDirty,
      repo: o.repo === undefined ? undefined : userPath(o.repo),
    });
    process.stdout.write(
      `Wrote the student template for ${listNames([...r.labs])} to ${r.out}\n` +
        `  ${r.files.length} files, ${r.protectedFiles.length} protected by ${MANIFEST_PATH}, Classroom workflow in ${WORKFLOW_PATH}\n`,
    );
    if (r.uncommitted.length > 0) {
      process.stdout.write(
        `  Note (--allow-dirty): ${r.uncommitted.length} shipped file(s) are not committed and shipped as they are on disk: ${listNames(r.uncommitted)}\n`,
      );
    }
    if (r.mentions.length > 0) {
      process.stdout.write(
        `  Note: ${r.mentions.length} line(s) of shipped code name the solutions folder (their --solution options cannot work for students):\n`,
      );
      for (const m of r.mentions) process.stdout.write(`    ${m.file}:${m.line}  ${m.text}\n`);
    }
    process.stdout.write(
      `Next: check it (cd ${r.out} && npm ci && npm run grade ${labs?.at(-1) ?? r.labs[0]}), push it to a new GitHub repository, mark that a template, and create the Classroom assignment from it.\n`,
    );
    return 0;
  });
}

runAsScript(module, main);
