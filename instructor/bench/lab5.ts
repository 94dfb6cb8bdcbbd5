/**
 * Lab 5 figures: GET and SET throughput of the reference server with 50 concurrent connections, one request
 * in flight per connection and 16 in flight (pipelined), measured by one load generator. Where redis-server is
 * installed, the same load runs against it in the same run and the figures include our/Redis ratios.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeCommand, ReplyParser } from '../../lab5/resp';
import type { BenchFigure } from './figure';
import { GOALS, goalNote } from './goals';
import { redisServerPath, startRedis as startRedisServer } from '../redis-record';

const CONNECTIONS = 50;
const KEYSPACE = 10_000;
const VALUE = 'v'.repeat(32);
const WARMUP_MS = 300;
const MEASURE_MS = 1000;
/** Each figure is the best of this many runs, interleaved across targets (the machine is shared: the best run is the least disturbed). */
const REPEATS = 3;

/** A server under load: its port and how to stop it. */
interface Target {
  name: string;
  port: number;
  stop(): Promise<void>;
}

/** Waits until the child prints a line matching `re`; resolves the first group. */
function waitFor(child: ChildProcess, re: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 20 s:\n${out.slice(-500)}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}) before it was ready:\n${out.slice(-500)}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
}

/** The word the bench's server process signs its ready line with (the bench runs the reference: no secret needed). */
const BENCH_READY_WORD = 'bench';

/** The reference server in a child process (so that it has a core to itself, as Redis has). */
async function startOurs(name: string, options: Record<string, unknown>): Promise<Target> {
  const script = path.resolve(__dirname, '../../lab5/test/child-server.ts');
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.resolve(__dirname, '../../grader/register.js'),
      script,
      path.resolve(__dirname, '../../solutions/lab5'),
      'node',
      JSON.stringify({ port: 0, ...options }),
      BENCH_READY_WORD,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const port = Number(await waitFor(child, new RegExp(`LAB5-READY ${BENCH_READY_WORD} (\\d+)`), 'the lab 5 server'));
  return { name, port, stop: stopper(child) };
}

/** redis-server without persistence, or undefined when it is not installed. */
async function startRedis(): Promise<Target | undefined> {
  const binary = redisServerPath();
  if (binary === undefined) return undefined;
  const redis = await startRedisServer(binary);
  return { name: 'redis', port: redis.port, stop: redis.stop };
}

/** Requests per second: CONNECTIONS connections, each keeping `depth` requests in flight, for MEASURE_MS. */
async function load(port: number, op: 'GET' | 'SET', depth: number): Promise<number> {
  const commands = Array.from({ length: 1024 }, (_, i) => {
    const key = `key:${(i * 7919) % KEYSPACE}`;
    return op === 'GET' ? encodeCommand(['GET', key]) : encodeCommand(['SET', key, VALUE]);
  });
  let counting = false;
  let done = 0;
  let stop = false;
  const sockets: net.Socket[] = [];
  const finished = Array.from({ length: CONNECTIONS }, (_, c) => {
    return new Promise<void>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      sockets.push(socket);
      socket.setNoDelay(true);
      const parser = new ReplyParser('latin1');
      let next = c * 31;
      let inFlight = 0;
      const send = (): void => {
        const batch: Buffer[] = [];
        while (inFlight < depth) {
          batch.push(commands[next++ % commands.length]);
          inFlight++;
        }
        socket.write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
      };
      socket.on('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        parser.push(chunk);
        while (parser.next() !== undefined) {
          inFlight--;
          if (counting) done++;
        }
        if (stop) {
          if (inFlight === 0) {
            socket.destroy();
            resolve();
          }
          return;
        }
        if (inFlight === 0) send();
      });
    });
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const n = done;
  const seconds = (performance.now() - t0) / 1000;
  counting = false;
  stop = true;
  await Promise.race([Promise.all(finished), new Promise((r) => setTimeout(r, 2000))]);
  for (const s of sockets) s.destroy();
  return Math.round(n / seconds);
}

/** Fills the keyspace so that GETs hit. */
async function fill(port: number): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const parser = new ReplyParser('latin1');
  let replies = 0;
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk) => {
      parser.push(chunk);
      while (parser.next() !== undefined) replies++;
      if (replies === KEYSPACE) resolve();
    });
    const batch: Buffer[] = [];
    for (let i = 0; i < KEYSPACE; i++) batch.push(encodeCommand(['SET', `key:${i}`, VALUE]));
    socket.write(Buffer.concat(batch));
  });
  socket.destroy();
}

/** The figures. */
export async function benchLab5(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-bench-lab5-'));
  const targets: Target[] = [];
  try {
    targets.push(await startOurs('ours', {}));
    targets.push(await startOurs('ours+aof', { dataDir, fsync: 'everysec' }));
    const redis = await startRedis();
    if (redis) targets.push(redis);
    const results = new Map<string, number>();
    for (const t of targets) await fill(t.port);
    for (let rep = 0; rep < REPEATS; rep++) {
      for (const depth of [1, 16]) {
        for (const op of ['SET', 'GET'] as const) {
          for (const t of targets) {
            const key = `${t.name}/${op}/${depth}`;
            results.set(key, Math.max(results.get(key) ?? 0, await load(t.port, op, depth)));
          }
        }
      }
    }
    for (const depth of [1, 16]) {
      for (const op of ['SET', 'GET'] as const) {
        const mode =
          depth === 1 ? 'one request in flight per connection' : `pipelined, ${depth} in flight per connection`;
        const ours = results.get(`ours/${op}/${depth}`)!;
        const aof = results.get(`ours+aof/${op}/${depth}`)!;
        const theirs = results.get(`redis/${op}/${depth}`);
        figures.push({
          name: `lab5: ${op} throughput, ${CONNECTIONS} connections, ${depth === 1 ? 'not pipelined' : `pipelined x${depth}`}`,
          value: ours,
          unit: 'req/s',
          note: `reference server, no persistence; ${mode}; best of ${REPEATS} runs of ${MEASURE_MS / 1000} s; the original reports ~1,000 req/s per server${theirs ? `; redis-server ${theirs.toLocaleString('en-US')} req/s, ours/redis = ${(ours / theirs).toFixed(2)}` : '; redis-server not installed (apt-get install redis-server to compare)'}`,
        });
        figures.push({
          name: `lab5: ${op} throughput, ${depth === 1 ? 'not pipelined' : `pipelined x${depth}`}, AOF fsync everysec`,
          value: aof,
          unit: 'req/s',
          note: `reference server with a data folder; ${mode}`,
        });
        if (theirs)
          figures.push({
            name: `lab5: ${op} ours/redis, ${depth === 1 ? 'not pipelined' : `pipelined x${depth}`}`,
            value: Number((ours / theirs).toFixed(2)),
            unit: 'ratio',
            note: goalNote(ours / theirs, GOALS.lab5OverRedis),
          });
      }
    }
  } finally {
    for (const t of targets) await t.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}
