/**
 * Runs a configuration's client scripts against a cluster and judges the outcome by the cluster's consistency
 * level. The same code drives the simulated cluster (tests and `npm run lab3`) and real processes (`--real`):
 * it only needs an end per client and a way to read every replica.
 */
import type { RpcEnd } from '../../labrpc';
import { HistoryRecorder } from '../../suite/history';
import { checkOrExplain, kvModel } from '../../checker';
import type { KvInput, KvOutput, Operation } from '../../checker';
import type { ConsistencyLevel, ReadReply } from '../rpc';
import type { ClientScript, Lab3Config } from './config';

/** One finished request of a client script, with its start and end times (ms). */
export interface OpRecord {
  kind: 'read' | 'write' | 'sleep';
  key?: string;
  /** The value written (write). */
  value?: string;
  /** The value read (read). */
  result?: string;
  start: number;
  end: number;
}

/** The judgement of a run for its consistency level. */
export interface Verdict {
  /** What was checked, e.g. "linearizability". */
  check: string;
  ok: boolean;
  /** One or more lines explaining the verdict. */
  text: string;
  /** The history viewer page when a checker found the history illegal. */
  html?: string;
}

/** Everything a run produced. */
export interface ScenarioResult {
  config: Lab3Config;
  /** Per client (in the configuration's order), its requests as they ran. */
  records: OpRecord[][];
  /** The reads and writes as the checkers see them. */
  history: Operation<KvInput, KvOutput>[];
  /** Per key written or read: the value at every server after the quiet period. */
  replicas: Map<string, string[]>;
  verdict: Verdict;
  /** Mean latency of reads and writes, ms. */
  meanLatencyMs: number;
}

/** What a run needs from the cluster it drives. */
export interface ScenarioDriver {
  /** An end that reaches the server of this client script. */
  endFor(script: ClientScript): RpcEnd;
  /** Reads a key at every server, in server order. */
  readEverywhere(key: string): Promise<string[]>;
  /** The length of one `sleep` request (the original: a random 0–1 s). */
  sleepMs(): number;
  /** Waits (virtual time in the simulation, real time with processes). */
  wait(ms: number): Promise<void>;
  /** The current time, ms. */
  now(): number;
}

/** How long to let the cluster settle after the last request before reading every replica, ms. */
export const QUIET_MS = 2000;

/** Runs every client script of `config` at once through `driver`, then judges the result. */
export async function runScenario(
  config: Lab3Config,
  driver: ScenarioDriver,
  quietMs = QUIET_MS,
): Promise<ScenarioResult> {
  const history = new HistoryRecorder<KvInput, KvOutput>(() => driver.now());
  const records = await Promise.all(
    config.clients.map(async (script) => {
      const end = driver.endFor(script);
      const out: OpRecord[] = [];
      for (const req of script.requests) {
        const start = driver.now();
        if (req.type === 'sleep') {
          await driver.wait(driver.sleepMs());
          out.push({ kind: 'sleep', start, end: driver.now() });
        } else if (req.type === 'write') {
          const op = history.begin(script.client, { op: 'put', key: req.key, value: req.value });
          await end.call('KVServer.Write', { key: req.key, value: req.value });
          history.end(op, '');
          out.push({ kind: 'write', key: req.key, value: req.value, start, end: driver.now() });
        } else {
          const op = history.begin(script.client, { op: 'get', key: req.key });
          const reply = await end.call<ReadReply>('KVServer.Read', { key: req.key });
          const value = typeof reply?.value === 'string' ? reply.value : JSON.stringify(reply);
          history.end(op, value);
          out.push({ kind: 'read', key: req.key, result: value, start, end: driver.now() });
        }
      }
      return out;
    }),
  );
  await driver.wait(quietMs);
  const keys = [
    ...new Set(config.clients.flatMap((c) => c.requests.flatMap((r) => (r.type === 'sleep' ? [] : [r.key])))),
  ].sort();
  const replicas = new Map<string, string[]>();
  for (const key of keys) replicas.set(key, await driver.readEverywhere(key));
  const ops = history.operations();
  const latencies = ops.map((o) => o.return - o.call);
  const meanLatencyMs = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return { config, records, history: ops, replicas, verdict: judge(config.level, ops, replicas), meanLatencyMs };
}

/** Judges a finished run by the guarantee of `level`. */
export function judge(
  level: ConsistencyLevel,
  ops: Operation<KvInput, KvOutput>[],
  replicas: Map<string, string[]>,
): Verdict {
  const lines: string[] = [];
  let ok = true;
  let html: string | undefined;
  if (level === 'eventual') {
    const written = new Map<string, Set<string>>();
    for (const o of ops)
      if (o.input.op === 'put')
        (written.get(o.input.key) ?? written.set(o.input.key, new Set()).get(o.input.key)!).add(o.input.value);
    for (const o of ops) {
      if (o.input.op !== 'get' || o.output === undefined || o.output === '') continue;
      if (!written.get(o.input.key)?.has(o.output)) {
        ok = false;
        lines.push(
          `client ${o.clientId} read ${JSON.stringify(o.output)} from key ${JSON.stringify(o.input.key)}, a value nobody wrote there.`,
        );
      }
    }
  } else {
    const mode = level === 'linearizable' ? 'linearizable' : 'sequential';
    const r = checkOrExplain(kvModel, ops, { mode, timeoutMs: 10_000, html: true, title: `lab3: ${level} run` });
    if (r.result.verdict === 'illegal') {
      ok = false;
      html = r.html;
      lines.push(r.explanation);
    } else {
      lines.push(
        `the history is ${mode === 'linearizable' ? 'linearizable' : 'sequentially consistent'} (${r.result.verdict}, ${ops.length} operations).`,
      );
    }
  }
  for (const [key, values] of replicas) {
    const same = values.every((v) => v === values[0]);
    if (!same) {
      ok = false;
      lines.push(
        `after the quiet period the servers disagree on key ${JSON.stringify(key)}: ${values.map((v, i) => `server ${i} ${JSON.stringify(v)}`).join(', ')}.`,
      );
    }
  }
  if (ok && level === 'eventual')
    lines.push(
      `every read returned a value somebody wrote, and all ${[...replicas.values()][0]?.length ?? 0} servers converged on every key.`,
    );
  const check =
    level === 'linearizable'
      ? 'linearizability'
      : level === 'sequential'
        ? 'sequential consistency'
        : 'convergence (eventual consistency)';
  return { check, ok, text: lines.join('\n'), html };
}
