/**
 * Lab 3's real-time test: the student's servers, unchanged, talking real HTTP on loopback (in this process, on
 * free ports) as `npm run lab3 -- CONFIG --real` runs them, with one server starting late, so that the first
 * calls to it are refused and must be sent again.
 */
import { Server } from '../../labrpc';
import type { RpcEnd } from '../../labrpc';
import { HttpEnd, RpcHttpHost } from '../../labrpc/http';
import { TestFailure, type TestContext, type TestDefinition } from '../../suite';
import { freePort } from '../../suite/ports';
import { within } from '../../suite/within';
import { CONSISTENCY_LEVELS, type ConsistencyLevel, type ReadReply } from '../rpc';
import type { Lab3Impl } from './harness';
import { show } from './harness';

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

/** One running cluster: its hosts, the ends it made, and each server's address. */
interface RealCluster {
  readonly urls: readonly string[];
  readonly hosts: RpcHttpHost[];
  readonly ends: ClosableEnd[];
}

/**
 * An HTTP end that goes quiet when the test ends: a call made after `close` never settles, so a server's
 * re-send loop stops there instead of running on (a lab 3 server has no way to be stopped) into the next test.
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
  return { urls: ports.map((p) => `http://127.0.0.1:${p}`), hosts: [], ends: [] };
}

/** Builds server `me` (the student's KVServer) and starts its HTTP host. */
async function startServer(
  ctx: TestContext<Lab3Impl>,
  cluster: RealCluster,
  level: ConsistencyLevel,
  me: number,
): Promise<void> {
  const peers: RpcEnd[] = cluster.urls.map((u, j) => end(cluster, u, `server ${j}`, PEER_TIMEOUT_MS));
  const server = new Server().addService(new ctx.impl.KVServer({ me, peers, level }), 'KVServer');
  const host = new RpcHttpHost(server);
  cluster.hosts.push(host);
  await host.listen(Number(new URL(cluster.urls[me]).port));
}

function end(cluster: RealCluster, url: string, name: string, timeoutMs: number): ClosableEnd {
  const e = new ClosableEnd(new HttpEnd(url, { timeoutMs, name }));
  cluster.ends.push(e);
  return e;
}

async function stopCluster(cluster: RealCluster): Promise<void> {
  for (const e of cluster.ends) e.close();
  await Promise.all(cluster.hosts.map((h) => h.close().catch(() => undefined)));
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
      Promise.all([...clients.keys()].map(writer)),
      LATE_START_MS + SETTLE_MS,
      () =>
        `${level}: server ${SERVERS - 1} started listening ${LATE_START_MS} ms after the others, and the clients' writes did not all finish within ${SETTLE_MS / 1000} s after that. ${CAUSES}`,
    );
    await late;
    // Every server must come to hold every client's last write of its own key, and one value for the shared key.
    const deadline = Date.now() + SETTLE_MS;
    let views: string[][] = [];
    for (;;) {
      views = await Promise.all(
        clients.map(async (c) =>
          Promise.all(
            [...last.keys(), 'shared'].map(async (key) => (await c.call<ReadReply>('KVServer.Read', { key })).value),
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
    await late.catch(() => undefined); // the late server's host too, once it exists
    await stopCluster(cluster);
  }
}

export const realLateStart: TestDefinition<Lab3Impl> = {
  name: 'TestRealLateStart',
  description: `your servers over real HTTP on loopback, one cluster per level side by side: server ${SERVERS - 1} starts ${LATE_START_MS} ms after the others (their first calls to it are refused); ${SERVERS} clients write ${WRITES} times each: every write finishes and every server ends with the same values`,
  realTime: true,
  // Its waits are seconds above the half second it needs, so it shares the cores with the simulated tests.
  alone: false,
  async run(ctx: TestContext<Lab3Impl>) {
    // One cluster per level, side by side (each on its own ports): the test costs one late start, not three.
    await Promise.all(CONSISTENCY_LEVELS.map((level) => lateStart(ctx, level)));
  },
};
