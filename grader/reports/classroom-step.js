// The Classroom workflow's last step: totals each test's payload, prints the points table, and reports the points to GitHub Classroom.
'use strict';
/*
 * Runs in the student's workflow as `node grader/reports/classroom-step.js`, after the grader steps and even when
 * `npm ci` failed, so it is plain JavaScript for the workflow's Node and needs no installed package (the payload's
 * type is `ClassroomResult` in grader/reports/classroom.ts, which writes it).
 *
 * Inputs, from the step's environment: RUNNERS, the runner names joined by commas, and per runner
 * `<RUNNER IN CAPITALS>_RESULTS`, the base64 of its payload's JSON (the grader step's output for that runner, or
 * the workflow's fallback payload of 0 points when the grader wrote none).
 *
 * What GitHub Classroom reads is two notice annotations of the job, the contract that
 * classroom-resources/autograding-grading-reporter (v1) fulfils: "Points <total>/<max>" titled "Autograding complete"
 * and the JSON {"totalPoints": <total>, "maxPoints": <max>} titled "Autograding report". This step writes the same
 * two workflow commands itself, so the workflow needs no action on a retired Node runtime (that reporter's only
 * release runs on Node 20). A runner's points are the sum of its tests' scores; its maximum is its max_score.
 * The step fails (exit 1) when a test did not pass, so the run shows red, as the reporter's did.
 */

/**
 * @typedef {{ name: string, status: string, score: number, message: string | null, test_code: string }} StepTest
 * @typedef {{ status: string, max_score: number, tests: StepTest[] }} StepPayload
 * @typedef {{ runner: string, payload: StepPayload }} RunnerPayload
 */

/**
 * Each runner's payload, read from the environment.
 * @param {Record<string, string | undefined>} env
 * @returns {RunnerPayload[]}
 */
function readPayloads(env) {
  const runners = (env.RUNNERS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (runners.length === 0)
    throw new Error('RUNNERS is empty: the workflow step must list its runners (see instructor/workflow.ts).');
  return runners.map((runner) => {
    const encoded = env[`${runner.toUpperCase()}_RESULTS`];
    if (!encoded) throw new Error(`${runner.toUpperCase()}_RESULTS is not set: the workflow lists ${runner} but gives it no input.`);
    return { runner, payload: JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) };
  });
}

/**
 * Points earned and points possible over every runner.
 * @param {RunnerPayload[]} runners
 */
function totals(runners) {
  let total = 0;
  let max = 0;
  for (const { payload } of runners) {
    max += payload.max_score;
    for (const t of payload.tests) total += t.score;
  }
  return { total, max };
}

/**
 * A workflow command's message with the characters GitHub's parser reserves escaped.
 * @param {string} text
 */
function commandData(text) {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * The two notices GitHub Classroom reads the points from.
 * @param {{ total: number, max: number }} points
 */
function notices(points) {
  return [
    `::notice title=Autograding complete::${commandData(`Points ${points.total}/${points.max}`)}`,
    `::notice title=Autograding report::${commandData(JSON.stringify({ totalPoints: points.total, maxPoints: points.max }))}`,
  ];
}

/**
 * What the student reads in the step's log: each failed test's message and replay command, then a table of every
 * test's points and the total.
 * @param {RunnerPayload[]} runners
 */
function logLines(runners) {
  const lines = [];
  for (const { payload } of runners)
    for (const t of payload.tests)
      if (t.status !== 'pass') {
        lines.push(t.message || `❌ ${t.name}: the grader reported no result for this test.`);
        if (t.test_code) lines.push(`Replay it: ${t.test_code}`, '');
      }
  const width = Math.max(4, ...runners.map((r) => r.runner.length));
  const row = (/** @type {string} */ a, /** @type {string} */ b, /** @type {string} */ c) =>
    `${a.padEnd(width)}  ${b.padStart(6)}  ${c.padStart(6)}`;
  lines.push(row('test', 'points', 'of'));
  for (const { runner, payload } of runners) {
    const earned = payload.tests.reduce((a, t) => a + t.score, 0);
    const mark = payload.tests.every((t) => t.status === 'pass') ? '✅' : '❌';
    lines.push(`${row(runner, String(earned), String(payload.max_score))}  ${mark}`);
  }
  const points = totals(runners);
  lines.push(row('total', String(points.total), String(points.max)));
  return lines;
}

/**
 * `lines` of text the code under test may have written (a failure's message holds its exception's text), made inert
 * for GitHub's parser of workflow commands: between `::stop-commands::<token>` and `::<token>::`, with a token drawn
 * here after that code ran, no line is read as a command (a forged "Autograding complete" notice would otherwise
 * count); and a line that would read as one anyway (a runner that ignores stop-commands) is marked with "| ", each
 * line of a text that holds several (split at "\n", "\r\n" and a lone "\r") on its own.
 * @param {string[]} lines
 * @param {string} token
 */
function inert(lines, token) {
  // Every line break GitHub's runner may end a line at (a lone carriage return too) starts a line here.
  const marked = lines
    .flatMap((text) => text.split(/\r\n|\r|\n/))
    .map((line) => (/^\s*(::|##)/.test(line) ? `| ${line}` : line));
  return [`::stop-commands::${token}`, ...marked, `::${token}::`];
}

/** A fresh token for inert(): 32 hex digits. */
function freshToken() {
  return require('node:crypto').randomBytes(16).toString('hex');
}

/**
 * Prints the log and the notices; returns the exit code (1 when a test did not pass).
 * @param {Record<string, string | undefined>} env
 * @param {(line: string) => void} print
 */
function main(env, print) {
  let runners;
  try {
    runners = readPayloads(env);
  } catch (err) {
    print(`::error title=Autograding::${commandData(`The points could not be totalled: ${err instanceof Error ? err.message : String(err)}`)}`);
    return 2;
  }
  for (const line of inert(logLines(runners), freshToken())) print(line);
  for (const line of notices(totals(runners))) print(line);
  return runners.every((r) => r.payload.tests.every((t) => t.status === 'pass')) ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.env, (line) => console.log(line));

module.exports = { readPayloads, totals, notices, logLines, inert, main };
