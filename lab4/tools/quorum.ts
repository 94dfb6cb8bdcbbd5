/**
 * npm run lab4:quorum -- [--writes 10000] [--warmup 1000] [--rounds 10] [--concurrency 20] [--out reports/lab4/quorum_analysis.svg]
 * The original's quorum analysis: a fresh cluster of 5 followers for each W = 1..5 (your lab4/server.ts, or with
 * --solution the reference), all started first and warmed up, then measured in turns (W = 1..5, then 5..1,
 * ...) so a busy machine slows every W alike. Prints a latency table and draws latency against W to an SVG file.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { implDirFor } from './impl';
import { Cluster, latencyStats, runLoad, startCluster } from './lib';
import { QuorumPoint, quorumPlotSvg } from './plot';
import {
  SettingsError,
  delayOptions,
  resolveSettings,
  wholeNumber,
  type SettingFlags,
  type Settings,
  sourcesOf,
  withOriginalEnv,
} from './settings';
import { colorsFor } from '../../suite/colors';
import { groupDigits } from '../../suite/digits';

const pc = colorsFor();

const [minDelayOption, maxDelayOption] = delayOptions();

const program = new Command()
  .name('npm run lab4:quorum --')
  .description(
    'Measure write latency for W = 1..N on real clusters and plot it. Every cluster is started and warmed up first; ' +
      'then each W gets its writes in turns (rounds), so a busy machine slows every W alike. ' +
      'With the defaults (10,000 writes per W, as the original) it takes one to two minutes on a 2-core machine.',
  )
  .addOption(withOriginalEnv(new Option('--followers <n>', 'followers per cluster (default 5)')))
  .option('--writes <n>', 'measured writes per W', '10000')
  .option('--warmup <n>', 'unmeasured writes per W before measuring (default: 10% of --writes, at least 200)')
  .option('--rounds <n>', 'turns each W gets; its writes are split among them', '10')
  .option('--concurrency <n>', 'writes in flight at once', '20')
  .option('--keys <n>', 'distinct keys', '100')
  .addOption(minDelayOption)
  .addOption(maxDelayOption)
  .addOption(
    withOriginalEnv(new Option('--port <n>', 'first port; each cluster takes the next N+1 (default 0: free ports)')),
  )
  .option(
    '--solution',
    'run the reference solution instead of your lab4/server.ts (course kit only; the student template has none)',
  )
  .option('--out <file>', 'where to write the plot (reports/ is not committed)', 'reports/lab4/quorum_analysis.svg')
  .parse();

interface Opts extends SettingFlags {
  writes: string;
  warmup?: string;
  rounds: string;
  concurrency: string;
  keys: string;
  solution?: boolean;
  out: string;
}

/** One W's cluster, its connections, and what was measured on it so far. */
interface Run {
  quorum: number;
  cluster: Cluster;
  agent: http.Agent;
  latencies: number[];
  /** Each turn's mean latency, ms: their spread shows how much of a difference between W's is noise. */
  turnMeans: number[];
  seconds: number;
  failed: number;
  errors: string[];
}

/** Splits `total` writes into `parts` turns whose sizes differ by at most one. */
function splitWrites(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** The order of the W's in round `r` (0-based): up, then down, so a steady drift in machine load evens out. */
function roundOrder(quorums: number[], r: number): number[] {
  return r % 2 === 0 ? [...quorums] : [...quorums].reverse();
}

/** The command line's settings, checked. */
interface QuorumSettings {
  s: Settings;
  implDir: string;
  writes: number;
  warmup: number;
  rounds: number;
  concurrency: number;
  keys: number;
}

/** Reads and checks the command line; on a bad setting prints it and exits with 2. */
function readSettings(o: Opts): QuorumSettings {
  try {
    const s = resolveSettings(o, sourcesOf(program), { followers: 'count', quorum: false, defaults: { port: 0 } });
    const writes = wholeNumber(o.writes, '--writes', 1);
    const warmup =
      o.warmup === undefined ? Math.max(200, Math.round(writes / 10)) : wholeNumber(o.warmup, '--warmup', 0);
    const rounds = wholeNumber(o.rounds, '--rounds', 1, writes);
    const concurrency = wholeNumber(o.concurrency, '--concurrency', 1);
    const keys = wholeNumber(o.keys, '--keys', 1);
    const implDir = implDirFor(o.solution === true);
    return { s, implDir, writes, warmup, rounds, concurrency, keys };
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    console.error(pc.red(err.message));
    process.exit(2);
  }
}

/** Starts the cluster for write quorum `quorum` (its ports follow those of the W's before it). */
async function startRun(quorum: number, q: QuorumSettings): Promise<Run> {
  const followers = q.s.followerCount;
  process.stdout.write(`W=${quorum}: starting ${followers} followers and a leader ... `);
  const port = q.s.port === 0 ? 0 : q.s.port + (quorum - 1) * (followers + 1);
  const cluster = await startCluster({
    followers,
    quorum,
    port,
    host: '127.0.0.1',
    minDelayMs: q.s.minDelayMs,
    maxDelayMs: q.s.maxDelayMs,
    writeTimeoutMs: 5000,
    implDir: q.implDir,
  });
  return {
    quorum,
    cluster,
    agent: new http.Agent({ keepAlive: true, maxSockets: q.concurrency, maxFreeSockets: q.concurrency }),
    latencies: [],
    turnMeans: [],
    seconds: 0,
    failed: 0,
    errors: [],
  };
}

/** Sends a run's unmeasured warm-up writes; fails if none of them succeeded. */
async function warmUp(run: Run, q: QuorumSettings): Promise<void> {
  if (q.warmup <= 0) return;
  process.stdout.write(`warm-up, ${q.warmup} writes (not measured) ... `);
  const w = await runLoad({
    url: run.cluster.leader.url,
    writes: q.warmup,
    concurrency: q.concurrency,
    keys: q.keys,
    agent: run.agent,
  });
  if (w.ok === 0)
    throw new Error(`W=${run.quorum}: no warm-up write succeeded (${w.errors.join('; ')}); is lab4/server.ts done?`);
}

/** Gives each run its turns of measured writes, round after round, adding what was measured to the run. */
async function measureInTurns(runs: Run[], quorums: number[], q: QuorumSettings): Promise<void> {
  const turns = splitWrites(q.writes, q.rounds);
  for (let r = 0; r < q.rounds; r++) {
    process.stdout.write(`round ${r + 1}/${q.rounds}, ${turns[r]} writes per W: `);
    for (const quorum of roundOrder(quorums, r)) {
      const run = runs[quorum - 1];
      const res = await runLoad({
        url: run.cluster.leader.url,
        writes: turns[r],
        concurrency: q.concurrency,
        keys: q.keys,
        agent: run.agent,
      });
      run.latencies.push(...res.latencies);
      if (res.ok > 0) run.turnMeans.push(res.latency.mean);
      run.seconds += res.seconds;
      run.failed += res.failed;
      for (const e of res.errors) if (run.errors.length < 3) run.errors.push(e);
      process.stdout.write(
        `W=${quorum} ${res.latency.mean.toFixed(2)} ms${res.failed ? pc.red(` (${res.failed} failed)`) : ''}  `,
      );
    }
    process.stdout.write('\n');
  }
}

/** Prints the latency table of every W, each W's failures, and a warning when the mean fell as W grew. */
function printTable(runs: Run[], points: QuorumPoint[], q: QuorumSettings): void {
  const head = ['W', 'writes/s', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'failed', 'turn means ms'];
  const spread = (run: Run): string =>
    run.turnMeans.length ? `${Math.min(...run.turnMeans).toFixed(1)}-${Math.max(...run.turnMeans).toFixed(1)}` : '-';
  const rows = points.map((p, i) => [
    String(p.quorum),
    p.throughput.toFixed(0),
    p.latency.mean.toFixed(2),
    p.latency.median.toFixed(2),
    p.latency.p95.toFixed(2),
    p.latency.p99.toFixed(2),
    String(runs[i].failed),
    spread(runs[i]),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(
    `\n${groupDigits(q.writes)} measured writes per W (after ${q.warmup} warm-up writes), ${q.concurrency} at a time, in ${q.rounds} round(s)`,
  );
  console.log([head, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n'));
  for (const run of runs)
    if (run.errors.length) console.log(pc.red(`W=${run.quorum} failures: ${run.errors.join('; ')}`));
  const falls = points.slice(1).filter((p, i) => p.latency.mean < points[i].latency.mean);
  if (falls.length > 0) {
    console.log(
      pc.yellow(
        `\nThe mean fell as W grew (at W=${falls.map((p) => p.quorum).join(', ')}). Waiting for more followers can only add time, so this is ` +
          'noise: other programs on this machine, or the differences between W being small next to the time a write queues ' +
          '(compare them with the spread of the turn means). Run again with more --rounds or --writes, or on a quieter machine.',
      ),
    );
  }
}

/** Draws latency against W to the --out file. */
async function writePlot(points: QuorumPoint[], q: QuorumSettings, outFile: string): Promise<void> {
  const title = `Write latency vs quorum (${q.s.followerCount} followers, ${q.writes} writes per W after ${q.warmup} warm-up, ${q.concurrency} concurrent)`;
  const svg = await quorumPlotSvg(points, title);
  const out = path.resolve(outFile);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, svg);
  console.log(`\nplot written to ${out}`);
}

/** Starts and warms up a cluster per W, measures them in turns, then prints the table and draws the plot. */
async function main(): Promise<void> {
  const o = program.opts<Opts>();
  const q = readSettings(o);
  const quorums = Array.from({ length: q.s.followerCount }, (_, i) => i + 1);
  const runs: Run[] = [];
  try {
    for (const quorum of quorums) {
      const run = await startRun(quorum, q);
      runs.push(run);
      await warmUp(run, q);
      console.log('ready');
    }
    await measureInTurns(runs, quorums, q);
  } finally {
    for (const run of runs) run.agent.destroy();
    await Promise.all(runs.map((run) => run.cluster.stop()));
  }
  const points: QuorumPoint[] = runs.map((run) => ({
    quorum: run.quorum,
    throughput: run.latencies.length / run.seconds,
    latency: latencyStats(run.latencies),
  }));
  printTable(runs, points, q);
  await writePlot(points, q, o.out);
}

main().catch((err: unknown) => {
  console.error(pc.red(err instanceof Error ? (err.stack ?? err.message) : String(err)));
  process.exit(1);
});
