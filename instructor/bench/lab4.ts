/**
 * Lab 4 figures: the real cluster (reference solution, 1 leader + 5 followers as processes on loopback, W=3,
 * the original's 0.1-1 ms delay per message) under the original's load, the same load against a do-nothing HTTP server
 * as the ceiling, and the simulated load of the original's speed. A figure with a target says in its note whether it met
 * it; the bench only reports and never fails on a target.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runNamedTest } from '../../suite';
import { load as loadLab4 } from '../../lab4/load';
import { suite } from '../../lab4/test/suite';
import { TS_LOADER, runLoad, startCluster, stopProcess, type LoadResult } from '../../lab4/tools/lib';
import type { BenchFigure } from './figure';
import { GOALS, goalNote } from './goals';

const WRITES = 10_000;
const CONCURRENCY = 20;
const KEYS = 100;

/** Starts the do-nothing server (lab4/tools/null-server.ts), loaded as the cluster's nodes are, and resolves to its URL and process. */
async function startNullServer(): Promise<{ url: string; child: ChildProcess }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['-r', TS_LOADER, path.resolve(__dirname, '../../lab4/tools/null-server.ts'), '0'],
    {
      cwd: path.resolve(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /READY (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error('the null server exited before it was ready')));
  });
  return { url, child };
}

/** CPU time (user + system) a process has used so far, ms, from /proc (Linux); 0 where unavailable. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
/** Linux's USER_HZ. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A load run plus the CPU it cost: the servers' processes and the load generator (this process). */
interface Measured extends LoadResult {
  cpuMsPerWrite: number;
}

/** Warms up (JIT, connections), then measures the original's load against `url`, and the CPU spent on it. */
async function measure(url: string, pids: Array<number | undefined>): Promise<Measured> {
  await runLoad({ url, writes: 1000, concurrency: CONCURRENCY, keys: KEYS });
  const cpu = (): number =>
    pids.reduce<number>((sum, pid) => sum + processCpuMs(pid), 0) +
    process.cpuUsage().user / 1000 +
    process.cpuUsage().system / 1000;
  const before = cpu();
  const result = await runLoad({ url, writes: WRITES, concurrency: CONCURRENCY, keys: KEYS });
  return { ...result, cpuMsPerWrite: (cpu() - before) / Math.max(1, result.ok) };
}

/** The lab 4 bench: the real cluster, the do-nothing ceiling, the CPU they cost, and the simulated load. */
export async function benchLab4(): Promise<BenchFigure[]> {
  // Every process here shares the machine's cores: a busy machine lowers both runs, so read the ratio too.
  const loadBefore = os.loadavg()[0];
  const ours = await measureCluster();
  const ceiling = await measureCeiling();
  const figures = clusterFigures(ours, ceiling, loadBefore);
  if (ours.cpuMsPerWrite > 0) figures.push(...cpuFigures(ours, ceiling));
  figures.push(await simulatedLoadFigure());
  return figures;
}

/** The original's load against the reference solution's real cluster (W=3 of 5, the original's delays). */
async function measureCluster(): Promise<Measured> {
  const cluster = await startCluster({
    followers: 5,
    quorum: 3,
    port: 0,
    host: '127.0.0.1',
    minDelayMs: 0.1,
    maxDelayMs: 1,
    writeTimeoutMs: 5000,
    implDir: 'solutions/lab4',
  });
  try {
    return await measure(
      cluster.leader.url,
      [cluster.leader, ...cluster.followers].map((n) => n.child.pid),
    );
  } finally {
    await cluster.stop();
  }
}

/** The same load against the do-nothing HTTP server: the ceiling. */
async function measureCeiling(): Promise<Measured> {
  const nul = await startNullServer();
  try {
    return await measure(nul.url, [nul.child.pid]);
  } finally {
    await stopProcess(nul.child);
  }
}

/** The cluster's throughput and latencies, the ceiling's, and their ratio (with the machine's load around them). */
function clusterFigures(ours: Measured, ceiling: Measured, loadBefore: number): BenchFigure[] {
  const load = `${WRITES.toLocaleString('en-US')} writes, ${CONCURRENCY} concurrent, ${KEYS} keys`;
  return [
    {
      name: 'lab4: real cluster throughput (W=3 of 5)',
      value: Math.round(ours.throughput),
      unit: 'writes/s',
      note: `${goalNote(ours.throughput, GOALS.lab4Throughput)}; ${load}; ${ours.failed} failed`,
    },
    {
      name: 'lab4: real cluster mean latency',
      value: round2(ours.latency.mean),
      unit: 'ms',
      note: 'the original reports ~80 ms',
    },
    { name: 'lab4: real cluster median latency', value: round2(ours.latency.median), unit: 'ms' },
    {
      name: 'lab4: real cluster p95 latency',
      value: round2(ours.latency.p95),
      unit: 'ms',
      note: goalNote(ours.latency.p95, GOALS.lab4P95),
    },
    { name: 'lab4: real cluster p99 latency', value: round2(ours.latency.p99), unit: 'ms' },
    {
      name: 'lab4: do-nothing HTTP server (ceiling)',
      value: Math.round(ceiling.throughput),
      unit: 'writes/s',
      note: `same load and client; p95 ${ceiling.latency.p95.toFixed(2)} ms`,
    },
    {
      name: 'lab4: cluster / ceiling',
      value: round2(ours.throughput / ceiling.throughput),
      unit: 'ratio',
      note: `share of the bare HTTP request rate the replicated store keeps; machine load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after (${os.cpus().length} cores)`,
    },
  ];
}

/** CPU per write, and the throughput this machine's cores could sustain at that cost. */
function cpuFigures(ours: Measured, ceiling: Measured): BenchFigure[] {
  const cores = os.cpus().length;
  return [
    {
      name: 'lab4: CPU per write, cluster + client',
      value: round3(ours.cpuMsPerWrite),
      unit: 'ms',
      note: `all 6 node processes and the load generator; the ceiling's server + client: ${ceiling.cpuMsPerWrite.toFixed(3)} ms`,
    },
    {
      name: 'lab4: CPU-bound throughput on an idle machine',
      value: Math.round((cores * 1000) / ours.cpuMsPerWrite),
      unit: 'writes/s',
      note: `${cores} cores / CPU per write: the rate this machine could sustain without other load (ceiling: ${Math.round((cores * 1000) / ceiling.cpuMsPerWrite)})`,
    },
  ];
}

/** TestOriginalLoadUnreliable on the reference solution (seed 1): real time of the original's load, simulated. */
async function simulatedLoadFigure(): Promise<BenchFigure> {
  const impl = loadLab4(path.resolve(__dirname, '../../solutions/lab4'));
  const test = suite.tests.find((t) => t.name === 'TestOriginalLoadUnreliable')!;
  const outcome = await runNamedTest(test, impl, 1);
  return {
    name: 'lab4: simulated load of the original, unreliable net',
    value: Math.round(outcome.realMs),
    unit: 'ms real',
    note: `${outcome.status}; 10,000 writes, ${(outcome.virtualMs / 1000).toFixed(1)} virtual s, ${outcome.rpcs.toLocaleString('en-US')} RPCs`,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
