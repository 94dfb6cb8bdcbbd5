/**
 * Lab 6's generic attacker for the key/value service (parts 6-7): random gets and versioned puts on edge keys and
 * values, from clerks some tasks share, under the Raft attackers' faults (partitions, bridges, crashes and restarts,
 * some right after a server answered, lost, delayed and reordered messages) and a leader cut off alone while clerks
 * wait on it and the others go on without it (with snapshots, lured: more clerks wait on it, and it rejoins as soon
 * as the others have committed at its indexes), sometimes after the answers to its own calls were held back so that
 * its waiting clerks' entries reached the others unknown to it, and then back first to the servers that do not lead
 * (it hears of the new term before it can hear its entries were committed); judged only by the service's promises:
 * one leader per term, a linearizable history, every call finished once the faults heal, every key read back.
 */
import { TimeoutError } from '../../labrpc';
import { keyedRng, sleep, World, type Rng } from '../../world';
import { within, type TestContext, type TestDefinition } from '../../suite';
import { applyPlan, drawPlan, healNetwork } from '../../suite/nemesis/plan';
import { EDGE_KEYS, edgeKeys, edgeValue } from '../../suite/nemesis/values';
import { ELECTION_TIMEOUT_MS, peerName, type Lab6Impl } from './harness';
import { KvTester, MAX_RAFT_STATE, NO_SNAPSHOTS, type RecordingClerk } from './kvharness';
import { crashAtWritePoints, disturb, PromiseWatch } from './nemesis';
import { showCommand } from './harness';

type Ctx = TestContext<Lab6Impl>;

/** Rounds per graded run (each a fresh group of 3 or 5 servers). */
const ROUNDS = 4;
/** Virtual time the calls in flight may take once the faults heal. */
const HEAL_MS = 30_000;

/** At each step of the faults, the chance that the leader is cut off alone (when no other leader is away). */
const LEADER_ALONE_CHANCE = 0.3;

/** The chance that a leader about to be cut off alone is first held (see holdAnswers) and later rejoins in two steps. */
const HELD_CHANCE = 0.7;
/** How long a held leader's calls go unanswered before the cut (virtual ms): a few heartbeats. */
const HOLD_MS = 300;
/** How long a held leader reaches only the servers that do not lead, before it rejoins them all (virtual ms). */
const QUIET_REJOIN_MS = ELECTION_TIMEOUT_MS / 2;

/**
 * A leader cut off alone, when it is to rejoin the others, and the clerks kept from reaching it meanwhile. `quiet`:
 * it first rejoins every server but the others' leader (see leaderRejoins).
 */
interface Rejoin {
  peer: number;
  at: number;
  away: readonly RecordingClerk[];
  quiet: boolean;
}

/** What the tasks share with the faults: when to stop, and who to tell of each operation a clerk finished. */
interface TaskControl {
  over: boolean;
  /** Called as a task's operation returns, with the clerk it went through (its owner, for a shared clerk). */
  finished?: (ck: RecordingClerk) => void;
  /** How many puts each clerk (its owner, for a shared clerk) has running. */
  puts: Map<RecordingClerk, number>;
}

/**
 * How a round cuts its leader off alone. Plain: only when the leader is connected with a clerk waiting on it, every
 * clerk not waiting kept away, and back 2-4 s later. Lure (the rounds with snapshots): the faults heal first and the
 * cut waits for such a leader; one clerk not waiting is kept away, the others' next operations go to the cut-off
 * leader (their clerk's last leader) and wait there, as entries no other server has; and it rejoins as soon as the
 * kept-away clerk finishes an operation under the others' leader (see rejoinEarly).
 */
type AloneMode = 'plain' | 'lure';

/** How long a lure waits for a connected leader with a clerk waiting on it (virtual ms), and how often it looks. */
const LURE_WAIT_MS = 2 * ELECTION_TIMEOUT_MS;
const LURE_POLL_MS = 2;
/** A lured leader rejoins once the clerks kept from it finished this many operations under the others' leader. */
const EARLY_REJOIN_OPS = 2;

/** No clerk spared. */
const NONE = (): boolean => false;

/** True while clerk `ck` (or a task sharing it) has a put running. */
function putting(stop: TaskControl, ck: RecordingClerk): boolean {
  return (stop.puts.get(ck) ?? 0) > 0;
}

/** The leader, if it is connected and some clerk has a call waiting on it, and those clerks. */
function leaderWithWaiters(
  ts: KvTester,
  clerks: readonly RecordingClerk[],
): { leader: number; waiting: RecordingClerk[] } | undefined {
  const leader = ts.leader();
  if (leader === undefined || !ts.group.isConnected(leader)) return undefined;
  const waiting = clerks.filter((ck) => ts.waitsOn(ck, leader));
  return waiting.length > 0 ? { leader, waiting } : undefined;
}

/** Before a lure: every server running and connected, then a wait (LURE_WAIT_MS at most) for a leader clerks wait on. */
async function readyForLure(ts: KvTester, clerks: readonly RecordingClerk[]): Promise<void> {
  ts.group.healLinks();
  ts.group.reviveAll();
  const t0 = World.current().now();
  while (leaderWithWaiters(ts, clerks) === undefined && World.current().now() - t0 < LURE_WAIT_MS)
    await sleep(LURE_POLL_MS);
}

/**
 * Cuts the leader off from the other servers (every one of which runs and reaches the rest); some clerks still
 * reach it (their operations wait on it, and no term change reaches it), the others are kept from it (their calls
 * to it fail) and go on with the leader the others elect, which fills the cut-off leader's uncommitted indexes with
 * their operations. Returns when it rejoins.
 */
function leaderAlone(
  ts: KvTester,
  clerks: readonly RecordingClerk[],
  rng: Rng,
  actions: string[],
  mode: AloneMode,
  spare: (ck: RecordingClerk) => boolean = NONE,
): Rejoin | undefined {
  const found = leaderWithWaiters(ts, clerks);
  if (found === undefined) return undefined;
  const { leader, waiting } = found;
  // Clerks with a call at the leader stay (their operations wait on it); the others, or one of them, are kept away.
  const others = clerks.filter((ck) => !waiting.includes(ck));
  // After a hold (spare: those with a put waiting), one clerk with none waiting is kept away when there is one.
  const idle = waiting.filter((ck) => !spare(ck));
  const pool = spare !== NONE && idle.length > 0 && idle.length < waiting.length ? idle : waiting;
  let away = others.length > 0 ? others : waiting.length > 1 ? [rng.pick(pool)] : [];
  if (mode === 'lure' && others.length > 1) away = [rng.pick(others)];
  // The others all run and reach each other, so that they can elect a leader and commit without it.
  ts.group.healLinks();
  ts.group.reviveAll();
  ts.group.disconnect(leader);
  for (const ck of away) ts.reach(ck, leader, false);
  actions.push(`cut off leader ${leader} alone (clerks ${away.map((ck) => ck.id).join(',') || '-'} kept away)`);
  const at = World.current().now() + 2 * ELECTION_TIMEOUT_MS + rng.int(2 * ELECTION_TIMEOUT_MS);
  return { peer: leader, at, away, quiet: false };
}

/**
 * Before a cut: every server running and connected, then for HOLD_MS the answers to the leader's own calls (to the
 * other servers, whatever they are) held back, while its clerks wait on it. Its requests still arrive, so the
 * entries of the operations it is given reach the others (and their elections stay away), but it never hears that
 * they are on a majority, so it commits none of them. Returns the held leader and a function that makes the held
 * answers lost (the network dropped them); undefined when no leader has a clerk waiting on it.
 */
async function holdAnswers(
  ts: KvTester,
  clerks: readonly RecordingClerk[],
  stop: TaskControl,
  actions: string[],
): Promise<{ peer: number; lose: () => void } | undefined> {
  const group = ts.group;
  group.healLinks();
  group.reviveAll();
  // A leader that a server back from a cut or a crash, in a later term, would depose during the hold is no use.
  const steady = (): { leader: number } | undefined => {
    const found = leaderWithWaiters(ts, clerks);
    if (found === undefined || !found.waiting.some((ck) => putting(stop, ck))) return undefined;
    const term = group.state(found.leader).term;
    for (let i = 0; i < group.n; i++) if (group.isRunning(i) && group.state(i).term > term) return undefined;
    return found;
  };
  const t0 = World.current().now();
  while (steady() === undefined && World.current().now() - t0 < LURE_WAIT_MS) await sleep(LURE_POLL_MS);
  const found = steady();
  if (found === undefined) return undefined;
  const peer = found.leader;
  const instance = group.peer(peer);
  const { term } = group.state(peer);
  let lose = (): void => undefined;
  const lost = new Promise<void>((_, reject) => (lose = () => reject(new Error('lost'))));
  lost.catch(() => undefined);
  group.onCall = (from, to, method) => {
    if (from !== peer || group.peer(from) !== instance || group.state(from).term !== term) return undefined;
    const release = lost.catch(() => Promise.reject(heldLost(method, from, to)));
    release.catch(() => undefined); // a call whose request was lost never waits on it
    return { release };
  };
  actions.push(`hold the answers to leader ${peer}'s calls for ${HOLD_MS} ms`);
  await sleep(HOLD_MS);
  return {
    peer,
    lose: () => {
      group.onCall = undefined;
      lose();
    },
  };
}

/** The error of a held answer the network then dropped: the same as for any lost message. */
function heldLost(method: string, from: number, to: number): TimeoutError {
  return new TimeoutError(method, `${peerName(from)} to ${peerName(to)}`, peerName(from));
}

/**
 * The cut-off leader rejoins (if it still runs and nothing reconnected it): the first message it hears is often the
 * new leader's AppendEntries, which moves its term, replaces its uncommitted entries and commits others in one step.
 * Quiet: it first reaches only the servers that do not lead, for QUIET_REJOIN_MS (returns the rejoin, now due
 * then): it hears of the new term from them, with no news of what was committed, while its clerks still wait on it.
 */
function leaderRejoins(ts: KvTester, rejoin: Rejoin, actions: string[]): Rejoin | undefined {
  const { group } = ts;
  const { peer } = rejoin;
  const others = ts.leader();
  if (rejoin.quiet && group.isRunning(peer) && !group.isConnected(peer) && others !== undefined && others !== peer) {
    rejoin.quiet = false;
    group.connect(peer);
    group.cutLink(peer, others);
    rejoin.at = World.current().now() + QUIET_REJOIN_MS;
    actions.push(`leader ${peer} rejoins all but leader ${others}`);
    return rejoin;
  }
  for (const ck of rejoin.away) ts.reach(ck, peer, true);
  group.healLinks();
  if (group.isRunning(peer) && !group.isConnected(peer)) {
    group.connect(peer);
    actions.push(`leader ${peer} rejoins`);
  }
  return undefined;
}

/**
 * A held leader rejoins quietly as soon as the others have a leader (looking every LURE_POLL_MS): its clerks, still
 * waiting on it, then hear it no longer leads, while the entries it was given, on the others, are still to commit.
 */
async function quietRejoinWhenLed(ts: KvTester, rejoin: Rejoin, actions: string[]): Promise<void> {
  while (rejoin.quiet) {
    const others = ts.leader();
    if (others !== undefined && others !== rejoin.peer) {
      leaderRejoins(ts, rejoin, actions);
      return;
    }
    await sleep(LURE_POLL_MS);
  }
}

/**
 * A lured leader rejoins as soon as the clerks kept from it finished EARLY_REJOIN_OPS operations under the others'
 * leader: that leader has then committed entries of its term at indexes where the cut-off leader has submits
 * waiting, and not many more. A leader that snapshots every few entries (maxRaftState 1000) soon holds those indexes
 * only in a snapshot, and a peer that catches up by a snapshot learns its waiting submits' fate from no entry: the
 * 2-4 s away of the plain mode left it nothing else to get.
 */
function rejoinEarly(ts: KvTester, rejoin: Rejoin, stop: TaskControl, actions: string[]): void {
  // An operation may return through the cut-off leader right after the cut (its answer was on the way): only those
  // that return once the others have a leader of a later term count.
  let done = 0;
  stop.finished = (ck) => {
    const leader = ts.leader();
    if (!rejoin.away.includes(ck) || leader === undefined || leader === rejoin.peer) return;
    if (++done < EARLY_REJOIN_OPS) return;
    stop.finished = undefined;
    rejoin.at = World.current().now();
    leaderRejoins(ts, rejoin, actions);
  };
}

/**
 * One task: gets and puts on `keys` through `ck` (a clerk it may share, made as `owner`), remembering the versions
 * it saw.
 */
async function task(
  ck: RecordingClerk,
  owner: RecordingClerk,
  keys: readonly string[],
  rng: Rng,
  stop: TaskControl,
): Promise<void> {
  const seen = new Map<string, number>();
  let n = 0;
  while (!stop.over) {
    const key = rng.pick(keys);
    if (rng.chance(0.4)) {
      const r = await ck.get(key);
      seen.set(key, r.err === 'OK' ? r.version : 0);
    } else {
      const known = seen.get(key) ?? 0;
      // Mostly the version last seen (which may be stale by now), sometimes one behind or ahead of it.
      const version = rng.pick([known, known, known, Math.max(0, known - 1), known + 1]);
      stop.puts.set(owner, (stop.puts.get(owner) ?? 0) + 1);
      const err = await ck.put(key, edgeValue(rng, n++, { hugeBytes: 512 }), version);
      stop.puts.set(owner, (stop.puts.get(owner) ?? 1) - 1);
      if (err === 'OK') seen.set(key, version + 1);
    }
    stop.finished?.(owner);
    if (rng.chance(0.3)) await sleep(rng.int(20));
  }
}

/** One round: a fresh group, tasks and faults for a while, then the faults heal and the promises are judged. */
async function round(ctx: Ctx, r: number, maxRaftState: number, name: string): Promise<void> {
  const rng = keyedRng(ctx.seed, `${name}#${r}`);
  const n = r % 2 === 0 ? 5 : 3;
  const ts = new KvTester(ctx, { servers: n, maxRaftState });
  const group = ts.group;
  const watch = new PromiseWatch(group, r);
  watch.start();
  const network = applyPlan(group.net, drawPlan(rng, r), rng, 800);
  const actions: string[] = [];
  crashAtWritePoints(group, rng, actions);
  const keys = edgeKeys(rng, 3);
  const stop: TaskControl = { over: false, puts: new Map() };
  // Three clerks, four tasks: the first clerk is shared by two tasks that call it at the same time.
  const clerks = [ts.makeClerk(), ts.makeClerk(), ts.makeClerk()];
  const users = [...clerks, ts.shareClerk(clerks[0])];
  const tasks = users.map((ck, k) =>
    group.background(task(ck, clerks[k % clerks.length], keys, keyedRng(ctx.seed, `${name}#${r}/${k}`), stop)),
  );
  const faultMs = 4000 + rng.int(4000);
  const t0 = World.current().now();
  const mode: AloneMode = maxRaftState === NO_SNAPSHOTS ? 'plain' : 'lure';
  let rejoin: Rejoin | undefined;
  while (World.current().now() - t0 < faultMs) {
    await sleep(rng.chance(0.5) ? rng.int(ELECTION_TIMEOUT_MS / 2) : 200 + rng.int(ELECTION_TIMEOUT_MS * 2));
    // While a leader is away alone, no other fault: nothing else reconnects, crashes or restarts it meanwhile.
    if (rejoin !== undefined) {
      if (World.current().now() >= rejoin.at) rejoin = leaderRejoins(ts, rejoin, actions);
    } else if (rng.chance(LEADER_ALONE_CHANCE)) {
      if (mode === 'lure') await readyForLure(ts, clerks);
      const held = rng.chance(HELD_CHANCE) ? await holdAnswers(ts, clerks, stop, actions) : undefined;
      rejoin = leaderAlone(ts, clerks, rng, actions, mode, held === undefined ? NONE : (ck) => putting(stop, ck));
      // The answers held back are lost: a leader cut off now must not learn from them what the others hold.
      held?.lose();
      if (rejoin !== undefined && rejoin.peer === held?.peer) {
        rejoin.quiet = true;
        void group.background(quietRejoinWhenLed(ts, rejoin, actions));
      }
      if (rejoin !== undefined && mode === 'lure') rejoinEarly(ts, rejoin, stop, actions);
    } else disturb(group, rng, actions);
  }
  // The clerks kept from a cut-off leader reach it again before the heal (it may lead after it).
  stop.finished = undefined;
  if (rejoin !== undefined) leaderRejoins(ts, Object.assign(rejoin, { quiet: false }), actions);
  ctx.log(`round ${r}: ${n} servers, ${network}; ${actions.length} disturbances: ${actions.join('; ')}`);
  // Heal: a reliable network, every server running and connected.
  group.onReplied = undefined;
  group.onApplied = undefined;
  healNetwork(group.net);
  ts.connectAll();
  group.reviveAll();
  stop.over = true;
  await within(
    Promise.all(tasks),
    HEAL_MS,
    () =>
      `Round ${r}: ${HEAL_MS / 1000} virtual seconds after every server was back and the network reliable, some ` +
      'clerk calls had still not returned. Expected every call to finish soon after the faults stop. Likely causes: ' +
      'a submit that never returns (the RSM must give up once its peer loses the lead or its term changes), a ' +
      'clerk that stops trying other servers, or no leader elected after restarts (part 3).',
  );
  // Every key read back by a new clerk: the reads join the history, so a write lost in a crash shows there.
  await readBack(ts, keys, `Round ${r}`, 'after healing');
  ts.checkLinearizable();
  ts.checkSizes();
  watch.look();
  watch.stop();
  for (let i = 0; i < n; i++) group.crash1(i);
  group.net.cleanup();
}

/** Reads every key back with a new clerk (the reads join the history, which the checker then judges). */
async function readBack(ts: KvTester, keys: readonly string[], where: string, when: string): Promise<void> {
  const reader = ts.makeClerk();
  for (const key of keys)
    await within(reader.get(key), HEAL_MS, () => `${where}: a read of ${showCommand(key)} ${when} did not return.`);
}

/** Puts made after the edge keys in the snapshot round: each value alone passes a tenth of maxRaftState. */
const ROUND_TRIP_FILL = 10;

/**
 * The snapshot round, after the random ones: a fresh group, every edge key (`__proto__`, `hasOwnProperty`, the empty
 * key ...) put once with an edge value, then enough puts that every server snapshots, then every server restarted
 * from what it saved: each key must read back as it was put, whatever the snapshot's encoding.
 */
async function snapshotRoundTrip(ctx: Ctx): Promise<void> {
  const rng = keyedRng(ctx.seed, 'nemesis-kv-snapshots/round-trip');
  const ts = new KvTester(ctx, { servers: 3, maxRaftState: MAX_RAFT_STATE });
  const ck = ts.makeClerk();
  let n = 0;
  for (const key of EDGE_KEYS) await ts.putAtLeastOnce(ck, key, edgeValue(rng, n++, { hugeBytes: 512 }), 0);
  let version = 0;
  for (let k = 0; k < ROUND_TRIP_FILL; k++)
    version = 1 + (await ts.putAtLeastOnce(ck, 'fill', `${k}`.padEnd(MAX_RAFT_STATE / 10, 'x'), version));
  await ts.crashAndRestartAll();
  await readBack(ts, EDGE_KEYS, 'The snapshot round', 'after every server restarted from its snapshot');
  ts.checkLinearizable();
  ts.checkSizes();
  for (let i = 0; i < ts.group.n; i++) ts.group.crash1(i);
  ts.group.net.cleanup();
}

/** TestNemesisKV: the key/value service under random faults, judged by linearizability and progress (and no snapshot). */
export const nemesisKV: TestDefinition<Lab6Impl> = {
  name: 'TestNemesisKV',
  description: `${ROUNDS} rounds of random gets and versioned puts (edge keys and values, a clerk shared by two tasks) while servers are cut off (the leader too, alone, while clerks wait on it, sometimes once the entries it was given reached the others without its hearing so, and back first to the servers that do not lead), crashed (some right after answering) and restarted under random lost, delayed and reordered messages: one leader per term, a linearizable history, every call finished and every key read back once the faults heal, and no snapshot with maxRaftState -1`,
  generic: true,
  async run(ctx: Ctx) {
    for (let r = 0; r < ROUNDS; r++) await round(ctx, r, NO_SNAPSHOTS, 'nemesis-kv');
  },
};

/** TestNemesisKVSnapshots: the same attack with maxRaftState 1000. */
export const nemesisKVSnapshots: TestDefinition<Lab6Impl> = {
  name: 'TestNemesisKVSnapshots',
  description: `the same ${ROUNDS} rounds with snapshots (maxRaftState ${MAX_RAFT_STATE}), the cut-off leader lured (more clerks wait on it) and back as soon as the others commit at its indexes: the promises above, and logs trimmed; then every edge key (__proto__, hasOwnProperty, the empty key ...) put, snapshotted, and read back after every server restarted from its snapshot`,
  generic: true,
  async run(ctx: Ctx) {
    for (let r = 0; r < ROUNDS; r++) await round(ctx, r, MAX_RAFT_STATE, 'nemesis-kv-snapshots');
    await snapshotRoundTrip(ctx);
  },
};
