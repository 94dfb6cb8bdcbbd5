/** The README.md of a student template: getting started, grading, replaying a failure, and the rules. */

/** What the README says about one shipped lab. */
export interface ReadmeLab {
  readonly lab: string;
  readonly title: string;
  readonly implFiles: readonly string[];
  readonly firstTest: string;
}

/** The student README for a template shipping `labs`. */
export function studentReadme(labs: readonly ReadmeLab[], course = 'kvlabs'): string {
  const first = labs[0] ?? { lab: 'lab2', title: '', implFiles: ['server.ts'], firstTest: 'TestName' };
  const rows = labs.map((l) => `| ${l.lab} | [${l.lab}/README.md](${l.lab}/README.md) | ${l.title} | ${l.implFiles.map((f) => `\`${l.lab}/${f}\``).join(', ')} |`);
  return `# ${course} — distributed-systems labs

You build small key/value services that run on a **simulated network**: it delays, drops and reorders
messages in virtual time, and every run is decided by a seed, so any failure can be replayed exactly.

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
npm run grade ${first.lab}                                   # every test of the lab, with your score
npm run grade ${first.lab} -- --test ${first.firstTest}      # one test
npm run grade ${first.lab} -- --test ${first.firstTest} --seed 12345   # replay one run exactly
npm run grade ${first.lab} -- --runs 20                      # each test with 20 different seeds
npm run grade -- --help                               # every option
\`\`\`

A failing test prints what went wrong, the **seed** of that run and the command that replays it: run that
command, add \`console.log\`s (\`--verbose\` shows them), and you will see the very same run again.
\`reports/${first.lab}/index.html\` shows the results and, for a consistency failure, the history of operations
that broke. Passing once is not proof: distributed bugs hide behind lucky seeds, so try \`--runs 20\`.

\`npm run typecheck\` type-checks the project (the grader only transpiles), \`npm test\` type-checks and runs the
tests of the network and tester libraries.

## Autograding

Every push runs the grader on GitHub (the **Actions** tab of your repository shows the run, and the
score appears in GitHub Classroom). The autograder runs exactly \`npm run grade <lab>\`, so your local score
is the score you get — except for seeds: the autograder uses fresh ones, so a rare failure may show up there.

## Rules

- Change only the files you write (table above). Everything else — tests, rubrics, the tester, the grader,
  \`labrpc/\`, the given types, \`package.json\` and \`package-lock.json\` — must stay as it is: the template records
  their checksums in \`.kvlabs/manifest.json\`. Locally the grader warns when one differs; the autograder and
  the course staff refuse to score a changed tree. \`git checkout <file>\` restores one.
- Do not add dependencies (\`npm install <package>\` changes the lockfile).
- Your code runs in the simulated world: use \`setTimeout\`, \`Date.now\`, \`Math.random\` as usual; they are
  virtual and seeded while the tests run.
`;
}
