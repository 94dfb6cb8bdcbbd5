/**
 * Lab 6's scripted checks that a server's submits are not taken for another's: for those of its previous run (the
 * same server leads twice, across a restart, with operations at the same log indexes, and the old run's operations
 * are the ones another leader commits there), and for those of another server started at the same moment (each
 * one's first submit at index 1). Judged by the counter: an increment answered OK must have been applied.
 */
import { within, type TestContext } from '../../suite';
import { sleep, World } from '../../world';
import { ELECTION_TIMEOUT_MS, peerName, type Lab6Impl } from './harness';
import { RsmTester, type CounterOp } from './kvharness';

type Ctx = TestContext<Lab6Impl>;

const INC: CounterOp = { op: 'inc' };
const NULL: CounterOp = { op: 'null' };

/** Servers in the group: two majorities that share one clean voter need five. */
const SERVERS = 5;
/** No-ops the first run of the leader offers (log indexes 1-3), and increments the second offers (indexes 2-3). */
const OLD_OPS = 3;
const NEW_OPS = 2;
/** Between two increments of the second run: their leadership checks then tick at different moments. */
const NEW_OPS_APART_MS = 7;
/** How long each step may wait for the leader it needs (virtual ms). */
const STEP_MS = 10 * ELECTION_TIMEOUT_MS;

/** Waits until one of `among` leads (running and connected); returns it. Fails after STEP_MS. */
async function leaderAmong(ts: RsmTester, among: readonly number[], what: string): Promise<number> {
  const t0 = World.current().now();
  for (;;) {
    for (const i of among) if (ts.group.isRunning(i) && ts.group.isConnected(i) && ts.group.state(i).isLeader) return i;
    if (World.current().now() - t0 > STEP_MS)
      return ts.group.fail(
        `no leader among peers ${among.join(', ')} within ${STEP_MS / 1000} s (${what}), though they reach each ` +
          'other and a majority of all peers can vote. Likely causes: votes refused for an up-to-date log, or ' +
          'elections that never end (part 1).',
      );
    await sleep(10);
  }
}

/** Calls `fn` just after `peer` starts to lead (checked as each reply reaches it), before its first calls land. */
function onceLeading(ts: RsmTester, peer: number, fn: () => void): void {
  let done = false;
  ts.group.onDelivered = (from) => {
    if (from !== peer || done) return;
    // The reply is handled after this returns; a 0 ms timer runs after that and before any message it sent lands.
    void sleep(0).then(() => {
      if (done || !ts.group.isRunning(peer) || !ts.group.state(peer).isLeader) return;
      done = true;
      fn();
    });
  };
}

/** The five peers' roles, from the first leader on. */
interface Roles {
  /** The server that leads twice. */
  l: number;
  /** The peer that keeps l's first run's entries. */
  p: number;
  /** The peer that replaces them in l's log. */
  r: number;
  /** The two that vote for l's second run and then for p. */
  x: number;
  y: number;
}

/**
 * l's first run offers OLD_OPS no-ops, which reach only p; l crashes, and r, elected without p, puts an entry of a
 * later term at index 1 and reaches only l's second run, which it makes drop the old entries. Returns the roles.
 */
async function firstRunAndReplacement(ts: RsmTester): Promise<Roles> {
  const g = ts.group;
  const l = await g.checkOneLeader();
  const rest = Array.from({ length: SERVERS }, (_, i) => i).filter((i) => i !== l);
  const p = rest[0];
  for (const i of rest.slice(1)) g.cutLink(l, i);
  // The first run's submits return when it is shut down (TestShutdown4A checks that they do).
  for (let k = 0; k < OLD_OPS; k++) void ts.submit(l, NULL);
  await sleep(ELECTION_TIMEOUT_MS / 4);
  g.crash1(l);
  g.disconnect(p);
  const r = await leaderAmong(ts, rest.slice(1), 'three of five peers, the leader gone and one cut off');
  const [x, y] = rest.slice(1).filter((i) => i !== r);
  g.healLinks(); // only l's links to r, x and y were cut, and l is down
  g.cutLink(r, x);
  g.cutLink(r, y);
  void ts.submit(r, NULL); // r's entry, on r alone; r's submit returns when r is shut down
  await sleep(50);
  for (const i of [p, x, y]) g.cutLink(l, i);
  g.restart(l);
  await sleep(ELECTION_TIMEOUT_MS / 2);
  // One submit to the restarted l while r leads: a server that numbers every submit has used its number 1.
  const early = await ts.submit(l, NULL);
  if (early.err === 'OK')
    g.fail(
      `${peerName(l)}, a follower, answered a submit OK. Expected ErrWrongLeader from a server that does not lead.`,
    );
  return { l, p, r, x, y };
}

/**
 * A server restarted with submits of its previous run still in another peer's log must not take those entries for
 * its new submits: l leads again (voted in by x and y, then cut off before any entry of its reaches them), offers
 * increments at indexes 2 and 3, where p holds l's first run's no-ops; p, elected by x and y, commits them; l
 * rejoins. An increment answered OK must show in the counters.
 */
export async function restartedLeaderIds(ctx: Ctx): Promise<void> {
  const ts = new RsmTester(ctx, { servers: SERVERS, latencyMs: 0 });
  const g = ts.group;
  const { l, p, r, x, y } = await firstRunAndReplacement(ts);
  let alone = false;
  onceLeading(ts, l, () => {
    g.disconnect(l);
    alone = true;
  });
  g.crash1(r);
  g.healLinks(); // l, x and y reach each other; p stays detached
  await within(
    (async () => {
      while (!alone) await sleep(10);
    })(),
    STEP_MS,
    () =>
      `${peerName(l)} did not become leader within ${STEP_MS / 1000} s with two peers of empty logs to vote for it.`,
  );
  g.onDelivered = undefined;
  const results: Array<Promise<{ err: string; result?: unknown }>> = [];
  for (let k = 0; k < NEW_OPS; k++) {
    if (k > 0) await sleep(NEW_OPS_APART_MS);
    results.push(ts.submit(l, INC));
  }
  g.connect(p);
  const q = await leaderAmong(ts, [p, x, y], 'three of five peers');
  await within(ts.submit(q, NULL), STEP_MS, () => `${peerName(q)}, leading a majority, did not commit a no-op.`);
  g.connect(l);
  void ts.submit(q, NULL); // sends the new leader's entries at once
  const answers = await within(Promise.all(results), STEP_MS, () => `${peerName(l)}'s submits did not return.`);
  await judgeIncrements(ts, l, answers);
  for (let i = 0; i < g.n; i++) g.crash1(i);
  g.net.cleanup();
}

/** Servers of the cross-server check: built at one virtual moment, as every test builds its group. */
const CROSS_SERVERS = 3;

/**
 * Two servers' first submits at one index: the first leader, cut off before any entry of its leaves it, takes an
 * increment (its first submit, at index 1); the others elect a leader whose first submit, a no-op, commits at index 1;
 * the first leader rejoins. Its increment must not be answered OK: ids that tell only a run apart (the start time),
 * not the server, are equal here.
 */
export async function crossServerIds(ctx: Ctx): Promise<void> {
  const ts = new RsmTester(ctx, { servers: CROSS_SERVERS, latencyMs: 0 });
  const g = ts.group;
  const l = await g.checkOneLeader();
  g.disconnect(l);
  const answer = ts.submit(l, INC);
  const rest = Array.from({ length: CROSS_SERVERS }, (_, i) => i).filter((i) => i !== l);
  const q = await leaderAmong(ts, rest, `${CROSS_SERVERS - 1} of ${CROSS_SERVERS} peers, the first leader cut off`);
  await within(ts.submit(q, NULL), STEP_MS, () => `${peerName(q)}, leading a majority, did not commit a no-op.`);
  g.connect(l);
  void ts.submit(q, NULL); // sends the new leader's entries at once
  const a = await within(answer, STEP_MS, () => `${peerName(l)}'s submit did not return once it rejoined.`);
  await judgeIncrements(ts, l, [a], 'cross');
  for (let i = 0; i < g.n; i++) g.crash1(i);
  g.net.cleanup();
}

/** Every increment answered OK was applied: the count once every server runs again is at least their number. */
async function judgeIncrements(
  ts: RsmTester,
  l: number,
  answers: ReadonlyArray<{ err: string; result?: unknown }>,
  scenario: 'restart' | 'cross' = 'restart',
): Promise<void> {
  ts.group.reviveAll();
  const ok = answers.filter((a) => a.err === 'OK');
  const { n } = await ts.one(NULL);
  const wrong = n < ok.length || ok.some((a) => ((a.result as { n?: number } | undefined)?.n ?? 0) < 1);
  if (wrong && scenario === 'cross')
    ts.group.fail(
      `${peerName(l)} led, was cut off, and answered the increment it was given then ${JSON.stringify(ok[0]?.result)} ` +
        `(OK), but the counter reads ${n} once every server runs again: the increment was never applied. Another ` +
        'leader had committed its own first submit, a no-op, at the same index (every server of the group was ' +
        'started at the same moment). Expected ErrWrongLeader: another id at the index means another entry. Likely ' +
        "causes: operation ids that do not name the server (a tag made of the start time, which the group's servers " +
        "share, or a counter alone), so two servers' first submits carry one id.",
    );
  if (wrong)
    ts.group.fail(
      `${peerName(l)}, restarted, led again and answered ${ok.length} of its ${answers.length} increments OK (results: ` +
        `${ok.map((a) => JSON.stringify(a.result)).join(', ')}), but the counter reads ${n} once every server runs ` +
        'again: an increment answered OK was never applied. Its entries were replaced by no-ops its previous run ' +
        'had submitted, committed by another leader at the same indexes. Likely causes: operation ids that repeat ' +
        "across restarts (a submit counter that starts again at 1, with no tag of the server's run), so the new " +
        "submit's id matches the old entry's.",
    );
  await ts.checkCounter(n, ts.group.n);
}
