/**
 * Lab 6's generic attackers: clients starting commands on whoever claims to lead, under the nemesis's network
 * faults plus partitions (some leaving the leader in a minority with a burst of commands), crashes and restarts at
 * random moments (some right after a peer applied a command, or right after an answer that moved its term),
 * replies held back until their caller is in a later term, and requests held back until their sender's term or role
 * changes or until their receiver leads; then, once healed, Figure 8's leader handoffs (5 peers) and a steady
 * state. Judged only by Raft's promises: one leader per term, each holding answers from a majority of its term; a
 * leader leads on until its term moves; a request's receiver is in its term once it answered; start() claims
 * leadership only on the leader; terms that never go back; the same command at an index
 * on every peer; nothing committed lost; every peer caught up and a command committed once the faults heal; one
 * leader that all follow and keep while nothing fails, within TestCount's RPC budget; and (with snapshots) a
 * bounded saved state.
 */
import { keyedRng, sleep, World, type Rng } from '../../world';
import type { TestContext, TestDefinition } from '../../suite';
import { mayDisturb } from '../../suite/nemesis/disturbance';
import { applyPlan, drawPlan, healNetwork } from '../../suite/nemesis/plan';
import { ELECTION_TIMEOUT_MS, MAX_LOG_SIZE, RaftTester, peerName, type Lab6Impl } from './harness';
import { cut, figure8Handoffs } from './handoffs';
import { crashAtNewTerms } from './newterms';
import { StaleReplies } from './stalereplies';
import { judgeSteady } from './steady';

type Ctx = TestContext<Lab6Impl>;

/** Rounds per graded run: rounds 0-3 each meet one kind of network fault (see drawPlan), the rest mix them. */
const ROUNDS = 8;
/** From this round on, every message is slowed by a random delay (rounds before it keep drawPlan's schedules). */
const SLOW_FROM_ROUND = 4;
/** A leader cut off in a minority is offered this many commands at once (a long log to back up over later). */
const BURST = 30;
/**
 * A run's virtual time: eight rounds of up to 12 s of faults, the catch-up and the steady state after each (in which
 * a follower stays down up to 70 s in round 2 and up to 300 s in round 6).
 */
const VIRTUAL_LIMIT_MS = 720_000;
/** How often the watch looks at every peer's term and role (virtual ms). */
const WATCH_MS = 5;

/** The watch on what Raft promises at every moment: one leader per term, and no running peer's term going back. */
export class PromiseWatch {
  private readonly ts: RaftTester;
  private readonly round: number;

  /** term → the peer seen leading it. */
  private readonly leaders = new Map<number, number>();
  /** The last term seen per running instance of each peer. */
  private readonly terms: Array<{ raft: unknown; term: number }>;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** With judgeMandates: per running instance, term → the peers whose replies to its calls of that term it got. */
  private heard: WeakMap<object, Map<number, Set<number>>> | undefined;
  /** Per running instance, the terms it was seen leading with a majority heard (judged once). */
  private readonly mandates = new WeakMap<object, Set<number>>();
  /** Set by judgeTerms. */
  private judgingTerms = false;
  /** With judgeTerms: the running instance each peer was last seen leading with, and the term it led. */
  private readonly led: Array<{ raft: unknown; term: number } | undefined>;

  constructor(ts: RaftTester, round: number) {
    this.ts = ts;
    this.round = round;
    this.terms = Array.from({ length: ts.n }, () => ({ raft: undefined, term: -1 }));
    this.led = new Array<{ raft: unknown; term: number } | undefined>(ts.n).fill(undefined);
  }

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.look();
      } catch {
        // The tester's fail has already stopped the run with the verdict.
      }
    }, WATCH_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.heard !== undefined) this.ts.onDelivered = undefined;
    this.ts.onAnswered = undefined;
  }

  /**
   * Also judges how terms move (Figure 2: a request or reply of a higher term makes its receiver a follower of
   * that term, and nothing else does): a leader leads on until its term moves, and a peer that answered a request
   * made in term T (its arguments' `term` field says T, and so does its sender) is in term T or later by the time
   * its reply arrives.
   */
  judgeTerms(): void {
    this.ts.judgeAnsweredTerms(`Round ${this.round}: `);
    this.judgingTerms = true;
  }

  /**
   * Also judges every leader's mandate: a peer can lead term T only after replies from a majority (itself
   * included) to calls it made in term T reached it, whatever those calls are named; judged at each look and
   * before each reply reaches a peer (so a reply that made a leader of a peer is judged before the next one).
   */
  judgeMandates(): void {
    const heard = new WeakMap<object, Map<number, Set<number>>>();
    this.heard = heard;
    this.ts.onDelivered = (i, j, term) => {
      const raft = this.ts.peer(i);
      if (raft === undefined) return;
      this.judgeMandate(i, raft);
      let terms = heard.get(raft);
      if (terms === undefined) heard.set(raft, (terms = new Map()));
      let peers = terms.get(term);
      if (peers === undefined) terms.set(term, (peers = new Set()));
      peers.add(j);
    };
  }

  /** Fails when running peer i leads a term in which fewer than a majority answered it. */
  private judgeMandate(i: number, raft: object): void {
    if (this.heard === undefined) return;
    const { term, isLeader } = this.ts.state(i);
    if (!isLeader) return;
    let judged = this.mandates.get(raft);
    if (judged?.has(term)) return;
    const answered = this.heard.get(raft)?.get(term) ?? new Set<number>();
    const needed = Math.floor(this.ts.n / 2);
    if (answered.size < needed)
      this.ts.fail(
        `Round ${this.round}: ${peerName(i)} leads term ${term}, but only ${answered.size} of the other ${this.ts.n - 1} ` +
          `peers had answered any call it made in term ${term} (${[...answered].join(', ') || 'none'}); a leader needs ` +
          `the votes of a majority (${needed} besides itself), each a reply to a request of that term. Likely causes: ` +
          `a majority counted as half of the peers (Math.ceil(n / 2) votes; with ${this.ts.n} peers a majority is ` +
          `${needed + 1}: more than half), ` +
          'a vote reply of an earlier election counted (check that the reply answers a request of the current term), ' +
          'a refused vote or a lost call counted as granted, a restarted peer that comes back as leader, or a leader ' +
          'that takes on a higher term (from a reply, or a RequestVote) but keeps its role: it must become a follower.',
      );
    if (judged === undefined) this.mandates.set(raft, (judged = new Set()));
    judged.add(term);
  }

  /** With judgeTerms: fails when running peer i led a term and no longer leads, though its term has not moved. */
  private judgeLeading(i: number, raft: object, term: number, isLeader: boolean): void {
    if (!this.judgingTerms) return;
    const led = this.led[i];
    if (isLeader) this.led[i] = { raft, term };
    else if (led !== undefined && led.raft === raft && led.term === term)
      this.ts.fail(
        `Round ${this.round}: ${peerName(i)} led term ${term} and is now a follower or candidate, still in term ${term}. ` +
          'Expected a leader to lead on until it learns of a higher term (Figure 2: only a request or reply ' +
          'carrying a higher term makes it a follower). Likely causes: a leader that steps down on a request or ' +
          "reply of its own or an older term (a late RequestVote of a lost election, a deposed leader's " +
          'InstallSnapshot, a comparison with >= where > belongs), or an election timer that still runs while it leads.',
      );
  }

  /** One look at every running peer. */
  look(): void {
    for (let i = 0; i < this.ts.n; i++) {
      const raft = this.ts.peer(i);
      if (raft === undefined) continue;
      const { term, isLeader } = this.ts.state(i);
      const last = this.terms[i];
      if (last.raft === raft && term < last.term)
        this.ts.fail(
          `Round ${this.round}: ${peerName(i)}'s term went back from ${last.term} to ${term} while it ran. Expected a term ` +
            'never to decrease. Likely causes: currentTerm set from a message without comparing (an old reply or ' +
            'request carrying a lower term), or a term read back from the persister after start-up.',
        );
      this.terms[i] = { raft, term };
      this.judgeLeading(i, raft, term, isLeader);
      if (!isLeader) continue;
      this.judgeMandate(i, raft);
      const other = this.leaders.get(term);
      if (other !== undefined && other !== i)
        this.ts.fail(
          `Round ${this.round}: peers ${other} and ${i} both led term ${term} (election safety: at most one leader per ` +
            'term). Likely causes: votedFor not saved before a vote is answered (a restarted peer votes again), a vote ' +
            'granted twice in one term, votes counted from replies of an older election, or a candidate that becomes ' +
            'leader without a majority of all peers.',
        );
      this.leaders.set(term, i);
    }
  }
}

/**
 * Offers `command` to running peer i; returns the index it promised, or -1 when it does not lead. A peer that says
 * it leads must lead the term it names, as getState tells the tester at that moment, at an index >= 1.
 */
export function startOn(ts: RaftTester, i: number, command: number, round: number): number {
  const raft = ts.peer(i);
  if (raft === undefined) return -1;
  const r = raft.start(command);
  if (!r.isLeader) return -1;
  const { term, isLeader } = ts.state(i);
  if (!isLeader || r.term !== term || !Number.isInteger(r.index) || r.index < 1)
    ts.fail(
      `Round ${round}: ${peerName(i)}'s start(${command}) answered { index: ${r.index}, term: ${r.term}, isLeader: true }, ` +
        `but getState() at that moment says ${isLeader ? 'leader' : 'not leader'} of term ${term}. Expected start to ` +
        'claim leadership only on the leader, with its current term and the index (>= 1) the command was appended ' +
        'at. Likely causes: start() returning isLeader true on a follower or candidate, the term or index of the ' +
        'answer taken before (or after) the append, or a role field that getState and start read differently.',
    );
  return r.index;
}

/** One client: starts random commands on every peer that claims to lead; returns the commands a peer applied. */
async function client(ts: RaftTester, rng: Rng, stop: { over: boolean }, me: number, r: number): Promise<number[]> {
  const committed: number[] = [];
  while (!stop.over) {
    const x = 1 + rng.int(2 ** 30);
    let index = -1;
    for (let i = 0; i < ts.n; i++) {
      const at = startOn(ts, i, x, r);
      if (at !== -1) index = at;
    }
    if (index === -1) {
      await sleep(37 + me * 13);
      continue;
    }
    for (const to of [10, 20, 50, 100, 200, 400]) {
      const { count, command } = ts.nCommitted(index);
      if (count > 0) {
        if (command === x) committed.push(x);
        break;
      }
      await sleep(to);
    }
  }
  return committed;
}

/** The fault schedule's actions besides the network: partitions, crashes, restarts, reconnects. */
export function disturb(ts: RaftTester, rng: Rng, log: string[]): void {
  const n = ts.n;
  const what = rng.int(100);
  const i = rng.int(n);
  if (what < 12) {
    // A bridge: two halves that reach each other only through one peer, which hears both sides' elections.
    const bridge = rng.int(n);
    const others = Array.from({ length: n }, (_, k) => k).filter((k) => k !== bridge);
    const left = new Set(others.filter(() => rng.chance(0.5)));
    const right = others.filter((k) => !left.has(k)).join(',');
    if (!mayDisturb(log, `bridge ${bridge} between ${[...left].join(',') || '-'} and ${right}`)) return;
    ts.healLinks();
    for (const a of others) for (const b of others) if (a < b && left.has(a) !== left.has(b)) ts.cutLink(a, b);
    for (let k = 0; k < n; k++) if (ts.isRunning(k)) ts.connect(k);
  } else if (what < 25) {
    // A partition: a random minority alone, the rest together.
    const minority = new Set<number>();
    const size = 1 + rng.int(Math.floor((n - 1) / 2));
    while (minority.size < size) minority.add(rng.int(n));
    if (!mayDisturb(log, `cut off ${[...minority].join(',')}`)) return;
    ts.healLinks();
    for (let k = 0; k < n; k++) if (minority.has(k)) ts.disconnect(k);
    for (let k = 0; k < n; k++) if (!minority.has(k) && ts.isRunning(k)) ts.connect(k);
  } else if (what < 50) {
    if (ts.isRunning(i) && mayDisturb(log, `crash ${i}`)) ts.crash1(i);
  } else if (what < 75) {
    if (!mayDisturb(log, `restart/reconnect ${i}`)) return;
    if (!ts.isRunning(i)) ts.restart(i);
  } else if (what < 80) {
    // An election storm: every peer restarts at the same moment, so their election timers start together.
    if (!mayDisturb(log, 'restart every running peer at once')) return;
    for (let k = 0; k < n; k++) {
      if (!ts.isRunning(k)) continue;
      const connected = ts.isConnected(k);
      ts.start1(k);
      if (connected) ts.connect(k);
    }
  } else if (mayDisturb(log, `disconnect ${i}`)) ts.disconnect(i);
}

/** The leader a client would find now: the running peer that claims to lead the highest term (-1: none). */
function currentLeader(ts: RaftTester): number {
  let leader = -1;
  let best = -1;
  for (let i = 0; i < ts.n; i++) {
    if (!ts.isRunning(i)) continue;
    const { term, isLeader } = ts.state(i);
    if (isLeader && term > best) [leader, best] = [i, term];
  }
  return leader;
}

/**
 * Raft's fault schedule: disturb's, plus a partition that leaves whoever leads now in a minority (alone or with
 * others) and offers it a burst of commands, so that entries it accepted reach a minority only and a later leader
 * must decide their fate (and back up over them).
 */
function disturbRaft(ts: RaftTester, rng: Rng, log: string[], r: number): void {
  const leader = currentLeader(ts);
  if (leader === -1 || !rng.chance(0.25)) return disturb(ts, rng, log);
  const minority = new Set([leader]);
  const size = 1 + rng.int(Math.floor((ts.n - 1) / 2));
  while (minority.size < size) minority.add(rng.int(ts.n));
  const commands = Array.from({ length: BURST }, () => 1 + rng.int(2 ** 30));
  if (!mayDisturb(log, `leader ${leader} in a minority: ${[...minority].join(',')}, offered ${BURST} commands`)) return;
  cut(ts, minority);
  for (const command of commands) startOn(ts, leader, command, r);
}

/** Crash-restarts a round may make right after an answer that moved a peer to a higher term (besides the others). */
const NEW_TERM_CRASHES = 4;

/** Crashes a round may make at the tester's watch points (besides the schedule's). */
const POINT_CRASHES = 4;

/**
 * Crashes at the moments a promise must already be saved, which random times rarely hit: right after a peer's
 * handler answered (it restarts at once from what it saved, while its reply is still on the way), and right after a
 * leader applied a command (before its followers may have heard it is committed; it restarts a little later). A
 * reply is picked with a chance that falls with how many replies of its RPC came before, so the rare RPCs (votes,
 * say, among thousands of heartbeats) are picked as often as the common ones, whatever the protocol calls them.
 */
export function crashAtWritePoints(ts: RaftTester, rng: Rng, log: string[]): void {
  let left = POINT_CRASHES;
  const seen = new Map<string, number>();
  ts.onReplied = (i, method) => {
    const count = (seen.get(method) ?? 0) + 1;
    seen.set(method, count);
    if (left === 0 || !rng.chance(Math.min(0.25, 2 / count))) return;
    left--;
    if (!mayDisturb(log, `crash ${i} after it answered ${method}, restart at once`)) return;
    const connected = ts.isConnected(i);
    ts.start1(i);
    if (connected) ts.connect(i);
  };
  ts.onApplied = (i, index) => {
    if (left === 0 || !ts.state(i).isLeader || !rng.chance(0.05)) return;
    left--;
    const restartMs = rng.int(ELECTION_TIMEOUT_MS);
    if (!mayDisturb(log, `crash leader ${i} after it applied ${index}`)) return;
    ts.crash1(i);
    setTimeout(() => {
      // Not once the faults healed (the round may be over and its network shut down), nor twice.
      if (ts.onApplied === undefined || ts.isRunning(i)) return;
      ts.restart(i);
    }, restartMs);
  };
}

/** After healing: progress, every peer caught up on the whole log, nothing acknowledged lost, the snapshot size bound. */
async function judgeHealed(
  ts: RaftTester,
  r: number,
  rng: Rng,
  acknowledged: readonly unknown[],
  snapshots: boolean,
): Promise<void> {
  const n = ts.n;
  // Progress: a command commits on every peer soon after healing.
  const last = await ts.one(1 + rng.int(2 ** 30), n, true);
  // Every peer catches up on the whole log; nothing a peer applied is missing from it.
  const final = new Set<unknown>();
  for (let index = 1; index <= last; index++) final.add(await ts.wait(index, n, -1));
  for (const x of acknowledged)
    if (!final.has(x))
      ts.fail(
        `Round ${r}: command ${x} was applied by a peer (so it was committed) but is missing from the final log of ` +
          `${last} entries: a committed entry was lost. Likely causes: the log, currentTerm or votedFor not saved ` +
          'before a peer answers; a leader elected without the committed entries (the up-to-date check of ' +
          'RequestVote); or a follower that truncates its log on an AppendEntries whose entries it already has.',
      );
  if (snapshots) {
    const size = ts.logSize();
    if (size >= MAX_LOG_SIZE)
      ts.fail(
        `Round ${r}: after ${last} commands with a snapshot every 10, a peer's saved Raft state is ${size} characters ` +
          `(at most ${MAX_LOG_SIZE}). Likely causes: the log not trimmed by snapshot() or by InstallSnapshot, or the trimmed log not saved.`,
      );
  }
}

/** One round: a fresh cluster, clients and faults for a while, then the faults heal and the promises are judged. */
async function round(ctx: Ctx, r: number, snapshots: boolean, name: string): Promise<void> {
  const rng = keyedRng(ctx.seed, `${name}#${r}`);
  // Five peers in the even rounds (Figure 8's handoffs need them), three in two odd rounds, and four or six in the
  // other two: a majority of an even group is more than half (a count of half the votes elects two leaders there).
  const n = r % 2 === 0 ? 5 : r % 4 === 3 ? 3 : keyedRng(ctx.seed, `${name}#${r}/size`).pick([4, 6]);
  const ts = new RaftTester(ctx, { servers: n, snapshots });
  const watch = new PromiseWatch(ts, r);
  watch.start();
  watch.judgeMandates();
  watch.judgeTerms();
  let network = applyPlan(ts.net, drawPlan(rng, r), rng, 800);
  if (r >= SLOW_FROM_ROUND) {
    // Slow links: every message takes up to `slowMs` more, so elections overlap (two candidates of one term).
    const slowMs = rng.pick([50, 150, 300, 800]);
    const delays = keyedRng(ctx.seed, `${name}#${r}/slow`);
    ts.net.setSchedule({ extraDelayMs: () => delays.int(slowMs) });
    network += `, every message up to ${slowMs} ms slower`;
  }
  const actions: string[] = [];
  const stop = { over: false };
  crashAtWritePoints(ts, rng, actions);
  crashAtNewTerms(ts, keyedRng(ctx.seed, `${name}#${r}/terms`), actions, NEW_TERM_CRASHES, 0.5);
  const stale = new StaleReplies(
    ts,
    keyedRng(ctx.seed, `${name}#${r}/stale`),
    actions,
    keyedRng(ctx.seed, `${name}#${r}/stale-requests`),
  );
  stale.start();
  const clients = [0, 1, 2].map((me) =>
    ts.background(client(ts, keyedRng(ctx.seed, `${name}#${r}/${me}`), stop, me, r)),
  );
  // The fault phase: a disturbance every so often, some closer together than an election timeout.
  const faultMs = 6000 + rng.int(6000);
  const t0 = World.current().now();
  while (World.current().now() - t0 < faultMs) {
    await sleep(rng.chance(0.5) ? rng.int(ELECTION_TIMEOUT_MS / 2) : 200 + rng.int(ELECTION_TIMEOUT_MS * 2));
    disturbRaft(ts, rng, actions, r);
  }
  ctx.log(`round ${r}: ${n} peers, ${network}; ${actions.length} disturbances: ${actions.join('; ')}`);
  // Heal: a reliable network, every peer running and connected.
  ts.onReplied = undefined;
  ts.onApplied = undefined;
  stale.releaseAll();
  healNetwork(ts.net);
  ts.healLinks();
  ts.reviveAll();
  stop.over = true;
  const acknowledged = (await Promise.all(clients)).flat();
  await judgeHealed(ts, r, rng, acknowledged, snapshots);
  // Steady state: one leader kept while nothing fails, within TestCount's heartbeat budget.
  const steady: string[] = [];
  await judgeSteady(ts, r, rng, () => 1 + rng.int(2 ** 30), steady);
  if (steady.length > 0) ctx.log(`round ${r}, steady state: ${steady.join('; ')}`);
  if (n === 5) {
    // Leader handoffs in Figure 8's shape, then the decided entries must reach every peer alike.
    await figure8Handoffs(
      ts,
      rng,
      (p) => startOn(ts, p, 1 + rng.int(2 ** 30), r),
      (line) => ctx.log(`round ${r}: ${line}`),
    );
    await ts.one(1 + rng.int(2 ** 30), n, true);
  }
  watch.look();
  watch.stop();
  for (let i = 0; i < n; i++) ts.crash1(i);
  ts.net.cleanup();
}

/** TestNemesisRaft: Raft under random partitions, crashes, restarts and network faults, judged by its promises. */
export const nemesisRaft: TestDefinition<Lab6Impl> = {
  name: 'TestNemesisRaft',
  description: `${ROUNDS} rounds of clients starting commands while peers are cut off (a leader too, in a minority with a burst of commands), crashed and restarted at random (some right after an answer that moved their term) under lost, delayed and reordered messages, replies held until their caller's term moved on and requests held until their sender's term or role changed or their receiver led, then Figure 8's leader handoffs and a steady state: one leader per term with a majority's answers, a leader leading on until its term moves, a request's receiver in its term once it answered, start() true only on the leader, terms never go back, the same command at an index everywhere, nothing committed lost, all caught up once the faults heal, and then one leader followed by all and kept while nothing fails, within TestCount's RPC budget`,
  generic: true,
  virtualLimitMs: VIRTUAL_LIMIT_MS,
  async run(ctx: Ctx) {
    for (let r = 0; r < ROUNDS; r++) await round(ctx, r, false, 'nemesis-raft');
  },
};

/** TestNemesisSnapshots: the same attack with snapshots every 10 commands and restarts from them. */
export const nemesisSnapshots: TestDefinition<Lab6Impl> = {
  name: 'TestNemesisSnapshots',
  description: `the same ${ROUNDS} rounds with a snapshot every 10 applied commands and restarts from the snapshots: the promises above, and a saved state under ${MAX_LOG_SIZE} characters`,
  generic: true,
  virtualLimitMs: VIRTUAL_LIMIT_MS,
  async run(ctx: Ctx) {
    for (let r = 0; r < ROUNDS; r++) await round(ctx, r, true, 'nemesis-snapshots');
  },
};
