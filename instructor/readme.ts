/**
 * The README.md of a student template: getting started, grading, replaying a failure, and the rules. What it
 * says about seeds and replay follows the labs shipped: simulated tests replay exactly from their seed,
 * real-time tests (`realTime: true`, all of lab 5, lab 4's TestRealHttp tests) do not.
 */
import { listNames } from '../grader/errors';

/** What the README says about one shipped lab. */
export interface ReadmeLab {
  readonly lab: string;
  readonly title: string;
  readonly implFiles: readonly string[];
  /** The test the examples name: the lab's first simulated test, or its first test if it has none. */
  readonly firstTest: string;
  /** The lab's tests that run on real sockets in real time (`realTime: true`), in suite order. */
  readonly realTimeTests: readonly string[];
  /** How many tests the lab has. */
  readonly testCount: number;
}

/** How a lab's tests run: all in the simulated world, all in real time, or some of each. */
export type LabTiming = 'simulated' | 'real-time' | 'mixed';

/** How `lab`'s tests run. */
export function labTiming(lab: ReadmeLab): LabTiming {
  if (lab.realTimeTests.length === 0) return 'simulated';
  return lab.realTimeTests.length >= lab.testCount ? 'real-time' : 'mixed';
}

/** The real-time tests of `labs`, for people: "every test of lab5 and lab4's TestRealHttp and TestRealHttpCatchUp". */
export function realTimeSummary(labs: readonly ReadmeLab[]): string {
  return listNames(
    labs.flatMap((l) => {
      const timing = labTiming(l);
      if (timing === 'simulated') return [];
      return timing === 'real-time'
        ? [`every test of ${l.lab}`]
        : [`${l.lab}'s ${listNames(l.realTimeTests.map((t) => `\`${t}\``))}`];
    }),
  );
}

/** The student README for a template shipping `labs`. */
export function studentReadme(labs: readonly ReadmeLab[], course = 'kvlabs'): string {
  const fallback: ReadmeLab = {
    lab: 'lab2',
    title: '',
    implFiles: ['server.ts'],
    firstTest: 'TestName',
    realTimeTests: [],
    testCount: 1,
  };
  const first = labs[0] ?? fallback;
  const simulated = labs.filter((l) => labTiming(l) !== 'real-time');
  const anyRealTime = labs.some((l) => labTiming(l) !== 'simulated');
  // The lab the grading examples use: one whose tests replay from a seed, when the template has one.
  const ex = simulated[0] ?? first;
  const realTime = realTimeSummary(labs);
  const rows = labs.map(
    (l) =>
      `| ${l.lab} | [${l.lab}/README.md](${l.lab}/README.md) | ${l.title} | ${l.implFiles.map((f) => `\`${l.lab}/${f}\``).join(', ')} |`,
  );
  return `# ${course} — distributed-systems labs

${intro(simulated.length > 0, anyRealTime, realTime)}

## Getting started

Requirements: Node.js 20 or later and npm.

\`\`\`bash
npm ci                        # install exactly the locked dependencies
npm run grade ${first.lab}            # grade your ${first.lab} files; reports in reports/${first.lab}/
\`\`\`

| lab | handout | what it is about | the files you write |
| --- | --- | --- | --- |
${rows.join('\n')}

Read the handout first. The files you write start as skeletons that compile and throw a "TODO" error, so
every test fails until you fill them in.

## Grading your work

\`\`\`bash
${gradingCommands(ex, simulated.length > 0)}
\`\`\`

${failureAdvice(ex, simulated.length > 0, anyRealTime, realTime)}

The grader runs your code as JavaScript, but first type-checks your lab's files and lists any type error above
the tests (and in the reports): a type error is often why a test fails. \`npm run typecheck\` type-checks the
whole project; \`npm test\` does the same (the kit's own tests stay with the course staff).

## Autograding

Every push runs the grader on GitHub (the **Actions** tab of your repository shows the run, and the
score appears in GitHub Classroom). The run's page shows a summary with the score and each failed test's
message and replay command, and offers the full reports (\`grading-reports\`: open \`index.html\`) to download. The autograder runs the same \`npm run grade <lab>\`, so your local score
is the score you get — except for seeds: the autograder uses fresh ones, so a rare failure may show up there${
    anyRealTime ? ",\nand real-time tests run with the timing of GitHub's machines" : ''
  }. It also gives the whole lab a time budget a little under the job's
limit (\`--budget\`): a test that hangs costs its own points, not the others'.

## Rules

- Change only the files you write (table above); you may add files of your own to your lab folder (say
  \`${first.lab}/helpers.ts\`) and import them. Everything else — tests and their points, the framework, the grader,
  \`labrpc/\`, the given types, \`package.json\` and \`package-lock.json\` — must stay as it is, and nothing may be
  added to those folders: the template records their checksums in \`.kvlabs/manifest.json\`. Locally the grader
  warns when one differs; the autograder and the course staff refuse to score a changed tree.
  To restore one, copy it from the template again (in your own git repository, as GitHub Classroom makes,
  \`git checkout <first commit> -- <file>\` does it: \`git log --reverse\` lists the first commit first).
- Do not add dependencies (\`npm install <package>\` changes the lockfile).
${clockRule(simulated.length > 0, anyRealTime, realTime)}
`;
}

/** The opening paragraph: how the tests run, and whether a failure replays exactly. */
function intro(anySimulated: boolean, anyRealTime: boolean, realTime: string): string {
  const simulated =
    'it delays, drops and reorders\nmessages in virtual time, and every run is decided by a seed, so any failure can be replayed exactly.';
  if (!anyRealTime) return `You build small key/value services that run on a **simulated network**: ${simulated}`;
  if (!anySimulated) {
    return (
      'You build small key/value services and test them on **real sockets, in real time**. The seed of a run only\n' +
      'chooses its keys, values and the like; timing is real, so a run does not replay exactly. The tests are\n' +
      'written so that a correct server passes them on a busy machine.'
    );
  }
  return (
    'You build small key/value services. Most tests run them on a **simulated network**: it delays, drops and\n' +
    'reorders messages in virtual time, and every run is decided by a seed, so such a failure can be replayed\n' +
    `exactly. Some tests run on real sockets in real time instead (${realTime}): their seed only\n` +
    'chooses keys, values and the like; timing is real, so such a run does not replay exactly.'
  );
}

/** The example commands of "Grading your work" for lab `ex`. */
function gradingCommands(ex: ReadmeLab, replayable: boolean): string {
  const lines = [
    [`npm run grade ${ex.lab}`, 'every test of the lab, with your score'],
    [`npm run grade ${ex.lab} -- --test ${ex.firstTest}`, 'one test'],
    ...(replayable
      ? [[`npm run grade ${ex.lab} -- --test ${ex.firstTest} --seed 12345`, 'replay one run exactly']]
      : []),
    [
      `npm run grade ${ex.lab} -- --runs 20`,
      replayable ? 'each test with 20 different seeds' : 'each test 20 times (real-time tests must never be flaky)',
    ],
    ['npm run grade -- --help', 'every option'],
  ];
  const width = Math.max(...lines.map(([cmd]) => cmd.length)) + 3;
  return lines.map(([cmd, why]) => `${cmd.padEnd(width)}# ${why}`).join('\n');
}

/** What a failure prints and how to chase it down. */
function failureAdvice(ex: ReadmeLab, anySimulated: boolean, anyRealTime: boolean, realTime: string): string {
  const report = `\`reports/${ex.lab}/index.html\` shows the results and, for a consistency failure, the history of operations\nthat broke.`;
  if (!anySimulated) {
    return (
      'A failing test prints what went wrong, its seed and the command that runs it again. The seed only chooses\n' +
      'the data; timing is real, so the next run may go differently. Add `console.log`s (`--verbose` shows them) and\n' +
      'run it a few times (`--runs 20`): a test that fails only sometimes points at a race in your code, such as a\n' +
      `reply sent before its write is done or a timer that is never cleared.\n${report}`
    );
  }
  const simulatedText =
    'A failing test prints what went wrong, the **seed** of that run and the command that replays it: run that\n' +
    'command, add `console.log`s (`--verbose` shows them), and you will see the very same run again.';
  const realText = anyRealTime
    ? `\nThat holds for the simulated tests. The real-time ones (${realTime}) print a \`rerun:\` command instead:\ntiming is real, so a run does not repeat exactly; run them several times (\`--runs 20\`) instead.`
    : '';
  return `${simulatedText}${realText}\n${report} Passing once is not proof: distributed bugs hide behind lucky seeds${anyRealTime ? ' and lucky timing' : ''},\nso try \`--runs 20\`.`;
}

/** The rule about timers and randomness, true for the labs shipped. */
function clockRule(anySimulated: boolean, anyRealTime: boolean, realTime: string): string {
  if (!anyRealTime) {
    return '- Your code runs in the simulated world: use `setTimeout`, `Date.now`, `Math.random` as usual; they are\n  virtual and seeded while the tests run.';
  }
  if (!anySimulated)
    return "- Your code runs on real sockets with the real clock: `setTimeout` and `Date.now` are Node's own.";
  return (
    '- Use `setTimeout`, `Date.now`, `Math.random` as usual. In the simulated tests they are virtual and seeded; in\n' +
    `  the real-time ones (${realTime}) they are Node's own.`
  );
}
