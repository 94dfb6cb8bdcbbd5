/**
 * Lab 4 tools' shared parts: starting a real cluster of node processes, the original's load test over HTTP,
 * latency statistics, and the cross-replica consistency check. Used by the npm scripts, the kit's
 * integration test and the bench.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { withoutSeedEnv } from './settings';

/** The repository root (tools run from anywhere). */
export const REPO_ROOT = path.resolve(__dirname, '../..');
const NODE_ENTRY = path.join(__dirname, 'node.ts');
/**
 * How a node process loads TypeScript: through the kit's compile cache (as suite/spawn.ts starts kit scripts), not
 * ts-node. A warm start is several times quicker, and ts-node loads node's REPL, whose `domain` module wraps every
 * EventEmitter: about 5% more CPU on each HTTP request a node serves or sends.
 */
export const TS_LOADER = path.join(REPO_ROOT, 'grader', 'register.js');
/** The environment variable that gives a node its cluster's shared secret (NodeConfig.token). */
export const TOKEN_ENV = 'LAB4_TOKEN';

/** How a cluster is started. */
export interface ClusterSpec {
  followers: number;
  quorum: number;
  /** Leader port; followers take the next ones. 0: every node picks a free port. */
  port: number;
  /** The followers' own ports, in order (from the original's FOLLOWERS URLs); overrides the ports after the leader's. */
  followerPorts?: number[];
  host: string;
  minDelayMs: number;
  maxDelayMs: number;
  writeTimeoutMs: number;
  /** Folder of the KVNode implementation: lab4 (the student's) or solutions/lab4. */
  implDir: string;
  /** Where per-node log files go (undefined: no files). */
  logDir?: string;
  /** Also echo each node's lines here, prefixed with its id. */
  echo?: (line: string) => void;
}

/** One running node process. */
export interface NodeProcess {
  id: string;
  url: string;
  child: ChildProcess;
  logFile?: string;
  /** The flags it was started with (after --id), so it can be started again the same way. */
  args: string[];
}

/** A running cluster. */
export interface Cluster {
  leader: NodeProcess;
  followers: NodeProcess[];
  /** Stops every node (SIGTERM, then SIGKILL after a grace period) and resolves when all have exited. */
  stop(): Promise<void>;
  /** Starts an exited follower again, empty, on its old address (its log file is appended to); replaces it in `followers`. */
  restartFollower(old: NodeProcess): Promise<NodeProcess>;
}

/** Starts one node process and resolves once it printed its READY line. */
export function startNode(
  id: string,
  args: string[],
  /** token: the cluster's shared secret, passed in LAB4_TOKEN. */
  spec: Pick<ClusterSpec, 'logDir' | 'echo'> & { token?: string },
  /** Every spawned child is added here at once, so a caller can stop it even if it never gets ready. */
  track: ChildProcess[] = [],
  readyTimeoutMs = 60_000,
  /** Append to the node's log file instead of starting it afresh (a restart keeps the crash's log). */
  appendLog = false,
): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['-r', TS_LOADER, NODE_ENTRY, '--id', id, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Every setting goes as a flag: the original's variables (meant for the tool) must not reach the nodes.
    env: {
      ...withoutSeedEnv(process.env),
      ...(spec.token === undefined ? {} : { [TOKEN_ENV]: spec.token }),
    },
  });
  track.push(child);
  let logStream: fs.WriteStream | undefined;
  let logFile: string | undefined;
  if (spec.logDir) {
    fs.mkdirSync(spec.logDir, { recursive: true });
    logFile = path.join(spec.logDir, `${id}.log`);
    logStream = fs.createWriteStream(logFile, { flags: appendLog ? 'a' : 'w' });
  }
  return new Promise((resolve, reject) => {
    let ready = false;
    let buffered = '';
    const timer = setTimeout(() => {
      if (!ready) {
        child.kill('SIGKILL');
        reject(new Error(`${id} did not start within ${readyTimeoutMs / 1000} s`));
      }
    }, readyTimeoutMs);
    const onLine = (line: string): void => {
      logStream?.write(line + '\n');
      spec.echo?.(`[${id}] ${line}`);
      const m = /^READY (\S+)/.exec(line);
      if (m && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve({ id, url: m[1], child, logFile, args });
      }
    };
    const feed = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    };
    child.stdout?.on('data', feed);
    child.stderr?.on('data', feed);
    child.on('exit', (code, signal) => {
      if (buffered) onLine(buffered);
      buffered = '';
      logStream?.end();
      if (!ready) {
        clearTimeout(timer);
        reject(
          new Error(
            `${id} exited before it was ready (code ${code}, signal ${signal})${logFile ? `; see ${logFile}` : ''}`,
          ),
        );
      }
    });
  });
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts the followers, then the leader pointing at them. On any failure, stops what it started. */
export async function startCluster(clusterSpec: ClusterSpec): Promise<Cluster> {
  // A fresh secret per cluster: only its leader can make its followers apply entries (a restart keeps it).
  const spec = { ...clusterSpec, token: randomBytes(16).toString('hex') };
  const common = ['--host', spec.host, '--impl', spec.implDir];
  const children: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopProcess(c)));
  };
  try {
    const followers = await Promise.all(
      Array.from({ length: spec.followers }, (_, i) =>
        startNode(
          `follower-${i + 1}`,
          [
            '--role',
            'follower',
            '--port',
            String(spec.followerPorts?.[i] ?? (spec.port === 0 ? 0 : spec.port + i + 1)),
            ...common,
          ],
          spec,
          children,
        ),
      ),
    );
    const leader = await startNode(
      'leader',
      [
        '--role',
        'leader',
        '--port',
        String(spec.port),
        '--quorum',
        String(spec.quorum),
        '--min-delay',
        String(spec.minDelayMs),
        '--max-delay',
        String(spec.maxDelayMs),
        '--write-timeout',
        String(spec.writeTimeoutMs),
        '--followers',
        followers.map((f) => f.url).join(','),
        ...common,
      ],
      spec,
      children,
    );
    const restartFollower = async (old: NodeProcess): Promise<NodeProcess> => {
      const port = new URL(old.url).port; // the same address, even when it was first picked by port 0
      const args = old.args.map((a, i) => (old.args[i - 1] === '--port' ? port : a));
      const node = await startNode(old.id, args, spec, children, undefined, true);
      const at = followers.indexOf(old);
      if (at >= 0) followers[at] = node;
      return node;
    };
    return { leader, followers, stop: stopAll, restartFollower };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A keep-alive JSON request; resolves to the status and parsed body. */
export function requestJson(
  agent: http.Agent,
  url: string,
  method: 'GET' | 'POST',
  body?: unknown,
  timeoutMs = 10_000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const u = new URL(url);
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(raw) as Record<string, unknown>;
          } catch {
            parsed = { raw };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** Latency statistics, ms. */
export interface LatencyStats {
  count: number;
  mean: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Summarises latencies (ms). */
export function latencyStats(samples: number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]);
  return {
    count: s.length,
    mean: s.length === 0 ? 0 : s.reduce((a, b) => a + b, 0) / s.length,
    median: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: s.length === 0 ? 0 : s[s.length - 1],
  };
}

/** The original's load: how many writes, how many at a time, over how many keys. */
export interface LoadSpec {
  url: string;
  writes: number;
  concurrency: number;
  keys: number;
  /** Stop sending once this many writes failed (default: never). */
  maxFailures?: number;
  /** A write with no answer after this many ms fails (default 10,000). */
  requestTimeoutMs?: number;
  /** Keep-alive connections to reuse (and leave open) across runs; default: fresh ones, closed at the end. */
  agent?: http.Agent;
  /** Told of each write as it is sent (by which of the concurrent writers); the function it returns, of how it ended. */
  observe?: (writer: number, write: { key: string; value: string }) => (outcome: unknown) => void;
}

/** What a load run measured. */
export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, in words. */
  errors: string[];
  seconds: number;
  throughput: number;
  latency: LatencyStats;
  /** Every successful write's latency, ms, in the order they finished. */
  latencies: number[];
}

/** Sends `writes` POST /set requests, `concurrency` at a time, to random keys among `keys`. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent =
    spec.agent ?? new http.Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });
  const latencies: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  let issued = 0;
  const url = spec.url.replace(/\/$/, '') + '/set';
  const start = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (issued < spec.writes && failed < (spec.maxFailures ?? Infinity)) {
      const i = issued++;
      const key = `key_${Math.floor(Math.random() * spec.keys)}`;
      const value = `value_${w}_${i}_${Math.random().toString(36).slice(2, 10)}`;
      const t0 = performance.now();
      const ended = spec.observe?.(w, { key, value });
      try {
        const { status, body } = await requestJson(agent, url, 'POST', { key, value }, spec.requestTimeoutMs);
        ended?.({ status, body });
        if (status === 200 && body.success === true) latencies.push(performance.now() - t0);
        else {
          failed++;
          if (errors.length < 5) errors.push(`HTTP ${status}: ${String(body.error ?? JSON.stringify(body))}`);
        }
      } catch (err) {
        ended?.({ error: (err as Error).message });
        failed++;
        if (errors.length < 5) errors.push((err as Error).message);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.concurrency }, (_, w) => worker(w)));
  } finally {
    if (!spec.agent) agent.destroy();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    ok: latencies.length,
    failed,
    errors,
    seconds,
    throughput: latencies.length / seconds,
    latency: latencyStats(latencies),
    latencies,
  };
}

/** What the consistency check found. */
export interface ConsistencyReport {
  consistent: boolean;
  lines: string[];
}

interface StatusBody {
  node_type?: string;
  id?: string;
  last_seq?: number;
  commit_seq?: number;
  data_count?: number;
  followers?: string[];
  data?: Record<string, string>;
}

/**
 * The original's consistency check: waits (up to `settleMs`) for every follower to hold the leader's whole log,
 * then compares every replica's data with the leader's, key by key.
 */
export async function checkConsistency(leaderUrl: string, settleMs = 5000): Promise<ConsistencyReport> {
  const agent = new http.Agent({ keepAlive: true });
  const lines: string[] = [];
  try {
    const get = async (url: string, query = ''): Promise<StatusBody> => {
      const r = await requestJson(agent, url.replace(/\/$/, '') + '/status' + query, 'GET');
      if (r.status !== 200) throw new Error(`GET ${url}/status answered HTTP ${r.status}`);
      return r.body as StatusBody;
    };
    let leader = await get(leaderUrl, '?nodata');
    if (leader.node_type !== 'leader')
      return { consistent: false, lines: [`${leaderUrl} is not a leader (node_type ${leader.node_type})`] };
    const followers = leader.followers ?? [];
    const deadline = performance.now() + settleMs;
    for (;;) {
      leader = await get(leaderUrl, '?nodata');
      const behind = (await Promise.all(followers.map((f) => get(f, '?nodata')))).filter(
        (s) => s.last_seq !== leader.last_seq,
      );
      if ((behind.length === 0 && leader.commit_seq === leader.last_seq) || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const full = await get(leaderUrl);
    const want = full.data ?? {};
    lines.push(`leader   ${leaderUrl}: ${full.data_count} keys, log #${full.last_seq}, committed #${full.commit_seq}`);
    let consistent = full.commit_seq === full.last_seq;
    if (!consistent) lines.push(`  the leader has committed only #${full.commit_seq} of #${full.last_seq}`);
    for (const f of followers) {
      const st = await get(f);
      const data = st.data ?? {};
      const diffs: string[] = [];
      for (const [k, v] of Object.entries(want))
        if (data[k] !== v) diffs.push(`${k}: leader ${JSON.stringify(v)}, follower ${JSON.stringify(data[k] ?? null)}`);
      for (const k of Object.keys(data)) if (!(k in want)) diffs.push(`${k}: only on the follower`);
      const same = diffs.length === 0 && st.last_seq === full.last_seq;
      consistent &&= same;
      lines.push(
        `${same ? 'same    ' : 'DIFFERS '} ${f} (${st.id}): ${st.data_count} keys, log #${st.last_seq}${diffs.length ? `, ${diffs.length} keys differ` : ''}`,
      );
      for (const d of diffs.slice(0, 5)) lines.push(`    ${d}`);
    }
    lines.push(
      consistent
        ? `CONSISTENT: all ${followers.length + 1} replicas hold the same data`
        : 'INCONSISTENT: replicas differ',
    );
    return { consistent, lines };
  } finally {
    agent.destroy();
  }
}

/** Formats a LoadResult the way the original's performance test prints it. */
export function formatLoad(r: LoadResult): string[] {
  const ms = (x: number): string => `${x.toFixed(2)} ms`;
  return [
    `Total writes: ${r.ok + r.failed}`,
    `Successful:   ${r.ok}`,
    `Failed:       ${r.failed}${r.errors.length ? ` (${r.errors.join('; ')})` : ''}`,
    `Duration:     ${r.seconds.toFixed(2)} s`,
    `Throughput:   ${r.throughput.toFixed(0)} writes/s`,
    `Average:      ${ms(r.latency.mean)}`,
    `Median:       ${ms(r.latency.median)}`,
    `P95:          ${ms(r.latency.p95)}`,
    `P99:          ${ms(r.latency.p99)}`,
  ];
}
