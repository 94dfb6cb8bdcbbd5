/**
 * Lab 3's real-time test: the student's servers, unchanged, talking real HTTP on loopback (each in a process of
 * its own, server-process.ts, on free ports; this process never loads the code) as `npm run lab3 -- CONFIG --real`
 * runs them, with one server starting late, so that the first calls to it are refused and must be sent again.
 */
import * as path from 'node:path';
import type { RpcEnd } from '../../labrpc';
import { HttpEnd } from '../../labrpc/http';
import { isolatedLoader } from '../../suite/loader';
import { PortTakenFailure, ServerProcesses, START_MS, type ServerProcess } from '../../suite/server-process';
import { TestFailure, type TestContext, type TestDefinition } from '../../suite';
import { freePorts } from '../../suite/ports';
import { within } from '../../suite/within';
import { CONSISTENCY_LEVELS, type ConsistencyLevel, type ReadReply } from '../rpc';
import type { Lab3Impl } from './harness';
import { RESEND_MS, RESEND_WITHIN_MS } from './resend';
import { show } from './harness';
import { PACING_SERVICE, SERVER_READY_PREFIX, type PacingFindings, type ServerProcessSettings } from './server-process';

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
/** Fresh starts when another program takes one of the chosen ports before a server listens on it. */
const PORT_ATTEMPTS = 3;

/** One level's cluster: each server's base URL, on free loopback ports. */
interface RealCluster {
  readonly level: ConsistencyLevel;
  readonly urls: readonly string[];
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

/** A cluster per level on free loopback ports (all different), none of their servers started yet. */
async function newClusters(): Promise<RealCluster[]> {
  const ports = await freePorts(CONSISTENCY_LEVELS.length * SERVERS);
  return CONSISTENCY_LEVELS.map((level, l) => ({
    level,
    urls: ports.slice(l * SERVERS, (l + 1) * SERVERS).map((p) => `http://127.0.0.1:${p}`),
  }));
}

const SERVER_CAUSES =
  'Likely causes: your KVServer (its constructor, a timer or a promise it started) threw an exception it did not catch; ' +
  'it used more memory than the process may have; or it called process.exit.';

/**
 * Starts the process of server `me` of every cluster (the student's KVServers behind HTTP hosts). A late one waits
 * itself until the earlier servers of every cluster listen, then `LATE_START_MS` more, before its servers start.
 */
function startServers(
  ctx: TestContext<Lab3Impl>,
  processes: ServerProcesses,
  clusters: readonly RealCluster[],
  me: number,
  late: boolean,
): Promise<ServerProcess> {
  const settings: ServerProcessSettings = {
    me,
    clusters,
    peerTimeoutMs: PEER_TIMEOUT_MS,
    late: late ? { after: clusters.flatMap((c) => c.urls.slice(0, me)), ms: LATE_START_MS } : undefined,
  };
  return processes.start({
    script: path.join(__dirname, 'server-process.ts'),
    args: [ctx.impl.dir, isolatedLoader() ? 'compartment' : 'node', JSON.stringify(settings)],
    readyPrefix: SERVER_READY_PREFIX,
    what: `your lab 3 server ${me} of each level's cluster (${clusters.map((c) => c.level).join(', ')})`,
    causes: SERVER_CAUSES,
    // A late process waits for the others' (each within the usual limit) before its own start.
    startMs: late ? 2 * START_MS : START_MS,
  });
}

const CAUSES =
  'Likely causes: a peer call that rejected (connection refused: the server was not listening yet) is not sent again, so a ' +
  'broadcast or an acknowledgement is lost for good and every server waits for it; a server that gives up on a peer after ' +
  'its first failures; a re-send loop that stops before the call succeeds.';

/**
 * One level's clients, once its cluster's earlier servers listen: a client per server writing its own key and a
 * shared one (the late server's client once its server listens), then agreement.
 */
async function exercise(
  ctx: TestContext<Lab3Impl>,
  cluster: RealCluster,
  processes: ServerProcesses,
  late: Promise<unknown>,
  ends: ClosableEnd[],
): Promise<void> {
  const { level } = cluster;
  const end = (url: string, name: string, timeoutMs: number): ClosableEnd => {
    const e = new ClosableEnd(new HttpEnd(url, { timeoutMs, name }));
    ends.push(e);
    return e;
  };
  // Clients sit next to their server (the late server's client starts with it); a write may wait for the
  // late server, so a client's call times out only after the settle time.
  const clients = cluster.urls.map((u, i) => end(u, `client ${i}`, LATE_START_MS + 2 * SETTLE_MS));
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
    processes.guard(Promise.all([...clients.keys()].map(writer))),
    LATE_START_MS + SETTLE_MS,
    () =>
      `${level}: server ${SERVERS - 1} started listening ${LATE_START_MS} ms after the others, and the clients' writes did not all finish within ${SETTLE_MS / 1000} s after that. ${CAUSES}`,
  );
  await processes.guard(late);
  // Every server must come to hold every client's last write of its own key, and one value for the shared key.
  const deadline = Date.now() + SETTLE_MS;
  let views: string[][] = [];
  for (;;) {
    views = await processes.guard(
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
  await expectPacing(cluster, processes, (url) => end(url, 'tester', PEER_TIMEOUT_MS));
}

/**
 * Fails unless every server of `cluster` waited RESEND_MS before each re-send, and sent each refused call again
 * within RESEND_WITHIN_MS: asks each server's process what its watches saw of the peer calls that server made
 * (server-process.ts), and, while a refused call waits for its copy, asks again once its time has run out.
 */
async function expectPacing(
  cluster: RealCluster,
  processes: ServerProcesses,
  end: (url: string) => RpcEnd,
): Promise<void> {
  const ask = (): Promise<PacingFindings[]> =>
    processes.guard(
      Promise.all(cluster.urls.map((url) => end(url).call<PacingFindings>(`${PACING_SERVICE}.Findings`, {}))),
    );
  let replies = await ask();
  const waitMs = Math.max(...replies.map((r) => (Number.isFinite(r.waitMs) ? r.waitMs : 0)));
  if (waitMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, RESEND_WITHIN_MS) + 50));
    replies = await ask();
  }
  const found = replies.map((r) => (typeof r.findings === 'string' ? r.findings : ''));
  const at = [...found.keys()].filter((i) => found[i] !== '');
  if (at.length === 0) return;
  const others = at.slice(1).map((i) => `server ${i}`);
  throw new TestFailure(
    `${cluster.level}: server ${SERVERS - 1} started listening ${LATE_START_MS} ms after the others, so their first ` +
      'calls to it were refused; every write finished and the servers agree, but refused calls were not sent again ' +
      `as the handout says. At server ${at[0]}: ${found[at[0]]}` +
      (others.length > 0 ? `\n${others.join(' and ')} broke it as well.` : ''),
  );
}

/**
 * Every level's cluster with a late server: one cluster per level, side by side (each on its own ports), and one
 * process per server index rather than per server: the test costs one late start and three process starts, not
 * three and nine. The processes all start at once; the late one holds its servers back itself.
 */
async function lateStarts(ctx: TestContext<Lab3Impl>): Promise<void> {
  const clusters = await newClusters();
  const processes = new ServerProcesses();
  const ends: ClosableEnd[] = [];
  const early = Promise.all(
    Array.from({ length: SERVERS - 1 }, (_, me) => startServers(ctx, processes, clusters, me, false)),
  );
  const late = startServers(ctx, processes, clusters, SERVERS - 1, true);
  late.catch(() => undefined); // awaited below; a failure here must not also be reported as unhandled
  try {
    await early;
    await Promise.all(clusters.map((c) => exercise(ctx, c, processes, late, ends)));
  } finally {
    for (const e of ends) e.close();
    await processes.closeAll(); // the late process too, even if it still waits for the others
  }
}

export const realLateStart: TestDefinition<Lab3Impl> = {
  name: 'TestRealLateStart',
  description: `your servers over real HTTP on loopback, one cluster per level side by side (server i of every cluster in one process): server ${SERVERS - 1} starts ${LATE_START_MS} ms after the others (their first calls to it are refused); ${SERVERS} clients write ${WRITES} times each: every write finishes, every server ends with the same values, and each refused peer call is sent again, the same call, no sooner than ${RESEND_MS} ms and within ${RESEND_WITHIN_MS / 1000} s after it failed`,
  realTime: true,
  codeElsewhere: true,
  // Its waits are seconds above the half second it needs, so it shares the cores with the simulated tests.
  alone: false,
  async run(ctx: TestContext<Lab3Impl>) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await lateStarts(ctx);
      } catch (err) {
        // A port is chosen free and given back until a server listens on it: another program may take it meanwhile.
        // Only the kit's own exit code says so (never the text of a failure, which the code under test can write).
        if (attempt >= PORT_ATTEMPTS || !(err instanceof PortTakenFailure)) throw err;
        ctx.log(
          'another program took one of the chosen ports before a server listened on it: starting again on new ports',
        );
      }
    }
  },
};
