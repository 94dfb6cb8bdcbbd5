/** Lab 1's restart-mid-write test: a stopped copy comes back while a write is being copied, at a moment drawn per seed. */
import { keyedRng } from '../../world';
import type { Rng } from '../../world';
import { TestDefinition, TestContext, check } from '../../suite';
import { keyToShard, shardServers } from '../rpc';
import { CAUSES_DUPLICATE, Lab1Impl, Lab1Tester, show, within } from './harness';

type Ctx = TestContext<Lab1Impl>;

/** Virtual time a test gives one operation that must finish (ms). */
const SETTLE_MS = 10_000;
/** Three servers that all hold every shard, each shard led by its own server first. */
const ALL_THREE = { nshards: 3, nreplicas: 3, reliable: true } as const;
/** Rounds per run: each of the three roles restarts twice, in an order drawn per seed. */
const ROUNDS = 6;
/** Longest time the write's copy to the other running copy is held at its arrival (virtual ms). */
const MAX_HOLD_MS = 300;

/** Which copy of the shard is stopped before the write and restarted in the middle of it. */
type Role = 'next backup' | 'last backup' | 'primary';
const ROLES: readonly Role[] = ['next backup', 'last backup', 'primary'];

/** One round's draw: the shard's key, the copy that restarts, and when. */
interface Draw {
  key: string;
  role: Role;
  /** Restart as the write reaches the server serving it (before its handler runs), else while its copy is held. */
  atRequest: boolean;
  /** How long the copy to the other running server is held at its arrival (virtual ms). */
  holdMs: number;
  /** When, after that arrival, the stopped copy restarts (virtual ms, below holdMs: the write is not acknowledged yet). */
  restartMs: number;
}

/** Draws round `round`'s key, role and moment from the seed's own stream (`order` is the seed's order of roles). */
function draw(rng: Rng, round: number, order: readonly Role[]): Draw {
  const key = String(rng.int(30));
  const holdMs = rng.between(1, MAX_HOLD_MS);
  return { key, role: order[round % 3], atRequest: rng.chance(0.25), holdMs, restartMs: rng.int(holdMs) };
}

/** The seed's order of the three roles (each comes twice in a run). */
function roleOrder(rng: Rng): Role[] {
  const order = [...ROLES];
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Whether a call's arguments carry `marker` (messages are the student's design; their JSON text is not). */
function mentions(args: unknown, marker: string): boolean {
  return JSON.stringify(args).includes(marker);
}

/**
 * The servers of the draw's shard by role: `restarted` is stopped before the write, `leader` serves the write,
 * `other` is the running copy that must receive it.
 */
function rolesOf(d: Draw): { restarted: number; leader: number; other: number } {
  const [first, second, third] = shardServers(keyToShard(d.key, ALL_THREE.nshards), ALL_THREE);
  if (d.role === 'primary') return { restarted: first, leader: second, other: third };
  if (d.role === 'next backup') return { restarted: second, leader: first, other: third };
  return { restarted: third, leader: first, other: second };
}

/**
 * Restarts `restarted` at the drawn moment of the write carrying `marker`: as the request reaches the leader, or
 * while the write's copy to `other` is held at its arrival. Returns a function telling what happened, for the log.
 */
function restartAtMoment(ts: Lab1Tester, d: Draw, marker: string): () => string | undefined {
  const { restarted, leader, other } = rolesOf(d);
  let moment: string | undefined;
  let armed = true;
  ts.onCall = (server, _method, args) => {
    if (!armed || !mentions(args, marker)) return;
    if (d.atRequest && server === leader) {
      armed = false;
      moment = `restarted as the write reached server ${leader}, before its handler ran`;
      ts.startServer(restarted);
      return;
    }
    if (!d.atRequest && server === other) {
      armed = false;
      moment = `server ${other} got the write's copy, held there ${d.holdMs} ms; restarted ${d.restartMs} ms into the hold`;
      setTimeout(() => ts.startServer(restarted), d.restartMs);
      return new Promise((resolve) => setTimeout(resolve, d.holdMs));
    }
  };
  return () => moment;
}

/** Reads `key` through a fresh recording clerk with only `server` of its shard running; returns the value. */
async function readAtOnly(ts: Lab1Tester, key: string, server: number, clerkId: number): Promise<string> {
  const others = [0, 1, 2].filter((s) => s !== server);
  for (const s of others) ts.stopServer(s);
  const v = await within(
    ts.makeRecordingClerk(clerkId).get(key),
    SETTLE_MS,
    () =>
      `get(${show(key)}) with only server ${server} running did not finish within ${SETTLE_MS / 1000} s: does the last running copy of a shard serve it?`,
  );
  for (const s of others) ts.startServer(s); // they missed no write: only this get ran meanwhile
  return v;
}

/** One round: put, stop the drawn copy, append while it restarts at the drawn moment, then read every copy alone. */
async function round(ts: Lab1Tester, ctx: Ctx, r: number, d: Draw): Promise<void> {
  const { restarted, leader } = rolesOf(d);
  const start = `start ${r} `;
  const marker = `x ${r} 0 y`;
  const ck = ts.makeRecordingClerk(10 * r);
  await within(
    ck.put(d.key, start),
    SETTLE_MS,
    () => `round ${r}: put(${show(d.key)}) did not finish with all three servers running.`,
  );
  ts.stopServer(restarted);
  const moment = restartAtMoment(ts, d, marker);
  const old = await within(
    ck.append(d.key, marker),
    SETTLE_MS + MAX_HOLD_MS,
    () =>
      `round ${r}: append(${show(d.key)}, ${show(marker)}) did not finish within ${SETTLE_MS / 1000} s while server ${restarted} (the shard's ${d.role}) restarted in the middle of it: does server ${leader} serve the write, and does the clerk re-send when refused?`,
  );
  ts.onCall = undefined;
  const servers = shardServers(keyToShard(d.key, ALL_THREE.nshards), ALL_THREE).join(', ');
  const what = `round ${r}, key ${show(d.key)} (servers ${servers} in order): server ${restarted}, the shard's ${d.role}, was stopped before append(${show(d.key)}, ${show(marker)}) and ${moment()}`;
  check(
    moment() !== undefined,
    () =>
      `round ${r}: append(${show(d.key)}, ${show(marker)}) returned while server ${restarted} was stopped, but no message carrying ${show(marker)} reached ${d.atRequest ? `server ${leader}, the shard's first running server` : `server ${rolesOf(d).other}, the shard's other running copy`}: a write must reach every running copy of its shard before it is acknowledged.`,
  );
  ctx.log(what);
  check(
    old === start,
    () =>
      `${what}. The append returned ${show(old)}; expected the value before it, ${show(start)}. ${CAUSES_DUPLICATE}`,
  );
  for (const server of [restarted, ...[0, 1, 2].filter((s) => s !== restarted)]) {
    const v = await readAtOnly(ts, d.key, server, 10 * r + 1 + server);
    check(
      v === start + marker,
      () =>
        `${what}. The append returned, so every copy must hold it; but with only server ${server} running, get(${show(d.key)}) returned ${show(v)}; expected ${show(start + marker)}: an acknowledged append was lost. ` +
        'Likely causes: a primary that skips a backup it found stopped and acknowledges the write although that backup came back before the reply (check again before replying, and bring a returning copy up to date); ' +
        'a restarted server that serves or leads with a copy it did not bring up to date; a primary that stops copying a write because another server now leads the shard, and replies OK anyway.',
    );
  }
}

export const restartMidWrite: TestDefinition<Lab1Impl> = {
  name: 'TestRestartMidWrite',
  description: `3 servers holding every shard; ${ROUNDS} rounds, each on a key drawn per seed: a copy (next backup, last backup or primary, each twice in an order drawn per seed) is stopped, then restarts in the middle of an append, as it reaches the server serving it or while its copy to the other running server is held (hold and restart time drawn, up to ${MAX_HOLD_MS} ms): every copy alone then holds the append; linearizable`,
  async run(ctx: Ctx) {
    const ts = new Lab1Tester(ctx, ALL_THREE);
    const rng = keyedRng(ctx.seed, 'lab1-restart-mid-write');
    const order = roleOrder(rng);
    for (let r = 0; r < ROUNDS; r++) await round(ts, ctx, r, draw(rng, r, order));
    ts.checkLinearizable();
  },
};
