/**
 * Lab 3's real-time test: the student's servers, unchanged, talking real HTTP on loopback (each in a process of
 * its own, server-process.ts, on free ports; this process never loads the code) as `npm run lab3 -- CONFIG --real`
 * runs them, with one server starting late, so that the first calls to it are refused and must be sent again.
 */
import * as path from 'node:path';
import type { RpcEnd } from '../../labrpc';
import { HttpEnd } from '../../labrpc/http';
import { isolatedLoader } from '../../suite/loader';
import { ServerProcesses } from '../../suite/server-process';
import { TestFailure, type TestContext, type TestDefinition } from '../../suite';
import { freePort } from '../../suite/ports';
import { within } from '../../suite/within';
import { CONSISTENCY_LEVELS, type ConsistencyLevel, type ReadReply } from '../rpc';
import type { Lab3Impl } from './harness';
import { show } from './harness';
import { SERVER_READY_PREFIX, type ServerProcessSettings } from './server-process';

/** Servers of each cluster; the last one starts late. */
const SERVERS = 3;
/** How long after the others the last server starts listening, ms. */
const LATE_START_MS = 250;
/** Writes each client makes (one client per server, each on its own key, then on a shared one). */
const WRITES = 6;
/** How long every write and the final agreement may take once the late server listens, ms (generous: a shared machine). */
const SETTLE_MS = 10_000;
/** A peer call's own timeout over HTTP, as in `npm run lab3 -- --real` (lab3/tools/real-server.ts). */
const PEER_TIMEOUT_MS = 2000;

/** One running cluster: its server processes, the clients' ends, and each server's address. */
interface RealCluster {
  readonly urls: readonly string[];
  readonly servers: ServerProcesses;
  readonly ends: ClosableEnd[];
}

/**
 * A client's HTTP end that goes quiet when the test ends: a call made after `close` never settles, so nothing of
 * the test runs on into the next one.
 */
class ClosableEnd implements RpcEnd {
  private readonly inner: HttpEnd;
  private closed = false;

  constructor(inner: HttpEnd) {
    this.inner = inner;
  }

  call<Reply = unknown>(method: string, args?: unknown): Promise<Reply> {
    if (this.closed) return new Promise<Reply>(() => undefined);
    const reply = this.inner.call<Reply>(method, args);
    return reply.then(
      (value) => (this.closed ? new Promise<Reply>(() => undefined) : value),
      (err: unknown) => (this.closed ? new Promise<Reply>(() => undefined) : Promise.reject(err)),
    );
  }

  close(): void {
    this.closed = true;
    this.inner.close();
  }
}

/** A cluster on free loopback ports, none of its servers started yet. */
async function newCluster(): Promise<RealCluster> {
  const ports = await Promise.all(Array.from({ length: SERVERS }, () => freePort()));
  return { urls: ports.map((p) => `http://127.0.0.1:${p}`), servers: new ServerProcesses(), ends: [] };
}

const SERVER_CAUSES =
  'Likely causes: your KVServer (its constructor, a timer or a promise it started) threw an exception it did not catch; ' +
  'it used more memory than the process may have; or it called process.exit.';

/** Starts server `me` (the student's KVServer behind an HTTP host) in a process of its own. */
async function startServer(
  ctx: TestContext<Lab3Impl>,
  cluster: RealCluster,
  level: ConsistencyLevel,
  me: number,
): Promise<void> {
  const settings: ServerProcessSettings = { me, level, urls: cluster.urls, peerTimeoutMs: PEER_TIMEOUT_MS };
  await cluster.servers.start({
    script: path.join(__dirname, 'server-process.ts'),
    args: [ctx.impl.dir, isolatedLoader() ? 'compartment' : 'node', JSON.stringify(settings)],
    readyPrefix: SERVER_READY_PREFIX,
    what: `your lab 3 server ${me} (${level})`,
    causes: SERVER_CAUSES,
  });
}

function end(cluster: RealCluster, url: string, name: string, timeoutMs: number): ClosableEnd {
  const e = new ClosableEnd(new HttpEnd(url, { timeoutMs, name }));
  cluster.ends.push(e);
  return e;
}

async function stopCluster(cluster: RealCluster): Promise<void> {
  for (const e of cluster.ends) e.close();
  await cluster.servers.closeAll();
}

const CAUSES =
  'Likely causes: a peer call that rejected (connection refused: the server was not listening yet) is not sent again, so a ' +
  'broadcast or an acknowledgement is lost for good and every server waits for it; a server that gives up on a peer after ' +
  'its first failures; a re-send loop that stops before the call succeeds.';

/** One level: the cluster with a late server, a client per server writing its own key and a shared one, then agreement. */
async function lateStart(ctx: TestContext<Lab3Impl>, level: ConsistencyLevel): Promise<void> {
  const cluster = await newCluster();
  let late: Promise<void> = Promise.resolve();
  try {
    for (let me = 0; me < SERVERS - 1; me++) await startServer(ctx, cluster, level, me);
    late = new Promise<void>((resolve) => setTimeout(resolve, LATE_START_MS)).then(() =>
      startServer(ctx, cluster, level, SERVERS - 1),
    );
    late.catch(() => undefined); // awaited below; a failure here must not also be reported as unhandled
    // Clients sit next to their server (the late server's client starts with it); a write may wait for the
    // late server, so a client's call times out only after the settle time.
    const clients = cluster.urls.map((u, i) => end(cluster, u, `client ${i}`, LATE_START_MS + 2 * SETTLE_MS));
    const last = new Map<string, string>();
    const writer = async (i: number): Promise<void> => {
      if (i === SERVERS - 1) await late; // its client has no server to talk to before then
      for (let k = 0; k < WRITES; k++) {
        const key = k % 2 === 0 ? `own-${i}` : 'shared';
        const value = `${level[0]}${i}.${k}`;
        const id = ctx.transcript?.command(`${level} client ${i}`, `${level} server ${i}`, 'KVServer.Write', {
          key,
          value,
        });
        await clients[i].call('KVServer.Write', { key, value });
        if (id !== undefined) ctx.transcript?.replied(id, { ok: true });
        ctx.countOps();
        if (key !== 'shared') last.set(key, value);
      }
    };
    await within(
      cluster.servers.guard(Promise.all([...clients.keys()].map(writer))),
      LATE_START_MS + SETTLE_MS,
      () =>
        `${level}: server ${SERVERS - 1} started listening ${LATE_START_MS} ms after the others, and the clients' writes did not all finish within ${SETTLE_MS / 1000} s after that. ${CAUSES}`,
    );
    await cluster.servers.guard(late);
    // Every server must come to hold every client's last write of its own key, and one value for the shared key.
    const deadline = Date.now() + SETTLE_MS;
    let views: string[][] = [];
    for (;;) {
      views = await cluster.servers.guard(
        Promise.all(
          clients.map(async (c) =>
            Promise.all(
              [...last.keys(), 'shared'].map(async (key) => (await c.call<ReadReply>('KVServer.Read', { key })).value),
            ),
          ),
        ),
      );
      const agreed = views.every((v) => v.join('\n') === views[0].join('\n'));
      const complete = [...last.values()].every((value, k) => views[0][k] === value);
      if (agreed && complete) break;
      if (Date.now() > deadline) {
        const keys = [...last.keys(), 'shared'];
        const table = views
          .map((v, s) => `  server ${s}: ${keys.map((k, j) => `${k}=${show(v[j])}`).join(' ')}`)
          .join('\n');
        throw new TestFailure(
          `${level}: server ${SERVERS - 1} started listening ${LATE_START_MS} ms after the others; every write was acknowledged, ` +
            `but ${SETTLE_MS / 1000} s later the servers still disagree or miss a last write:\n${table}\n` +
            `Expected every server to hold ${[...last].map(([k, v]) => `${k}=${show(v)}`).join(' ')} and the same value of "shared". ${CAUSES}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    ctx.log(`${level}: every server agrees once server ${SERVERS - 1} is up`);
  } finally {
    await late.catch(() => undefined); // the late server's process too, once it exists
    await stopCluster(cluster);
  }
}

export const realLateStart: TestDefinition<Lab3Impl> = {
  name: 'TestRealLateStart',
  description: `your servers over real HTTP on loopback, one cluster per level side by side: server ${SERVERS - 1} starts ${LATE_START_MS} ms after the others (their first calls to it are refused); ${SERVERS} clients write ${WRITES} times each: every write finishes and every server ends with the same values`,
  realTime: true,
  codeElsewhere: true,
  // Its waits are seconds above the half second it needs, so it shares the cores with the simulated tests.
  alone: false,
  async run(ctx: TestContext<Lab3Impl>) {
    // One cluster per level, side by side (each on its own ports): the test costs one late start, not three.
    await Promise.all(CONSISTENCY_LEVELS.map((level) => lateStart(ctx, level)));
  },
};
