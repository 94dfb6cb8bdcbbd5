/**
 * Lab 2's generic attackers: random versioned puts and gets, and random lock traffic, from clerks shared by several
 * tasks, under the nemesis's network faults; judged only by what the lab promises (linearizable answers, one lock
 * holder at a time, no lost update inside the lock, progress once the faults heal).
 */
import { keyedRng, sleep, type Rng } from '../../world';
import { groupDigits } from '../../suite/digits';
import { lighterWeighing, liveHeapBytes, stopHoldersOfServers } from '../../suite/memory';
import { check, type TestContext, type TestDefinition } from '../../suite';
import { applyPlan, drawPlan, healNetwork, type NetworkPlan } from '../../suite/nemesis/plan';
import { OBJECT_KEYS, edgeValue } from '../../suite/nemesis/values';
import { TWO_HOLDERS, KVTester, show, within, type Lab2Impl, type PutAttempts, type RecordingClerk } from './harness';
import { VERSION_KINDS, drawVersionKind } from '../../suite/nemesis/version-grammar';
import { GRAMMAR_KEYS, drawValueKind, valueOf, type KeyPast, type ValueKind } from '../../suite/nemesis/edge-grammar';
import type { DistributedLock, KVClerk, PutResult } from '../rpc';

type Ctx = TestContext<Lab2Impl>;

/** Rounds per graded run: rounds 0-3 each meet one kind of fault (see drawPlan), the rest mix them. */
const ROUNDS = 6;
/** The storm round's fault phase: long enough for a put to lose dozens of copies in a row. */
const STORM_MS = 8000;
/** Clients of the memory round, and the server memory each may cost (a correct server keeps none). */
const MEM_CLIENTS = 5000;
const MEM_BYTES_PER_CLIENT = 20;
/** Virtual time after the faults heal within which every operation in flight must return. */
const HEAL_MS = 10_000;

/**
 * Every task of a round stops once `over` is true; `n` numbers the values written so that each is unique, except
 * for the repeated ones (see putValue); `shared` holds, per clerk, the (key, version, value) of every put it made.
 */
interface Workload {
  over: boolean;
  n: number;
  shared: Map<number, Set<string>>;
}

/**
 * A value for clerk `id`'s put of `key` at `version`, from lab 2's grammar: half the time a unique edge value, else a
 * kind the grammar draws (empty, "__proto__", the value the task last saw the key hold, one it held before, or a
 * unique huge, non-ASCII or fresh one). A value that can repeat (several clients put it alike, or the key holds it
 * already) is put by a clerk at a given key and version at most once, so that its put's RPCs stay apart from its
 * other puts' when judged.
 */
function putValue(rng: Rng, w: Workload, id: number, key: string, version: number, past: KeyPast): string {
  const kind = drawValueKind(rng);
  const value =
    kind === 'fresh' || rng.chance(0.5)
      ? edgeValue(rng, w.n++, { hugeBytes: 8 * 1024 })
      : valueOf(kind, UNIQUE_KINDS.includes(kind) ? w.n++ : w.n, past, 8 * 1024);
  const used = w.shared.get(id) ?? new Set<string>();
  w.shared.set(id, used);
  const mark = (v: string) => JSON.stringify([key, version, v]);
  // Every put of the clerk is marked: a value the key held may be the clerk's own earlier put at this version.
  const chosen = used.has(mark(value)) ? edgeValue(rng, w.n++, { hugeBytes: 8 * 1024 }) : value;
  used.add(mark(chosen));
  return chosen;
}

/** The grammar's value kinds whose values are unique (each carries a fresh number). */
const UNIQUE_KINDS: readonly ValueKind[] = ['fresh', 'huge', 'non-ASCII'];

/** What one task saw of a key: its last value and the values before it (the grammar's repeated values come from here). */
function remember(
  pasts: Map<string, { held: string | undefined; before: string[] }>,
  key: string,
  value: string,
): void {
  const past = pasts.get(key) ?? { held: undefined, before: [] };
  if (past.held !== undefined && past.held !== value && !past.before.includes(past.held)) past.before.push(past.held);
  past.held = value;
  pasts.set(key, past);
}

/**
 * Judges one put's result against the Put RPCs its clerk sent and the answers that came back (the handout's rule:
 * OK and ErrNoKey as answered; ErrVersion only when the first attempt got it; ErrMaybe only for a re-sent put
 * answered ErrVersion).
 */
function judgePut(put: string, result: PutResult, attempts: PutAttempts, round: number): void {
  const { sent, answers } = attempts;
  const got = `Round ${round}: ${put} returned ${result} after ${sent} Put RPC${sent === 1 ? '' : 's'} whose answers were [${answers.join(', ')}]`;
  if (result === 'ErrMaybe') {
    check(
      sent >= 2 && answers.includes('ErrVersion'),
      `${got}. ErrMaybe is only for a put that was re-sent and then answered ErrVersion. Likely causes: OK or ErrNoKey on a re-sent attempt ` +
        'turned into ErrMaybe (both are certain answers: return them as they are); a "re-sent" flag kept on the clerk instead of in ' +
        'the one put call (it then outlives the put, or is shared by two tasks using the clerk); a put that gives up after some attempts.',
    );
  } else if (result === 'ErrVersion') {
    check(
      sent === 1 && answers.includes('ErrVersion'),
      `${got}. ErrVersion is certain only when the first attempt got it; a re-sent put answered ErrVersion must return ErrMaybe ` +
        '(its first copy may have been applied). Likely causes: the attempt count kept per clerk rather than per put call, or not counted at all.',
    );
  } else {
    check(
      answers.includes(result),
      `${got}. A put returns the answer the server gave it. Likely causes: an answer meant for another call (two tasks sharing ` +
        'the clerk, or a reply stored on the clerk), or a result made up after giving up.',
    );
  }
}

/** One task: gets and puts on `keys` through `ck` (a clerk it may share), remembering the versions it saw. */
async function kvTask(
  ts: KVTester,
  ck: RecordingClerk,
  keys: readonly string[],
  rng: Rng,
  w: Workload,
  round: number,
): Promise<void> {
  const seen = new Map<string, number>();
  const pasts = new Map<string, { held: string | undefined; before: string[] }>();
  while (!w.over) {
    const key = rng.pick(keys);
    if (rng.chance(0.4)) {
      const r = await ck.get(key);
      seen.set(key, r.err === 'OK' ? r.version : 0);
      if (r.err === 'OK') remember(pasts, key, r.value);
    } else if (rng.chance(0.15)) {
      // A put at version 1 to a key nobody creates: ErrNoKey, whichever attempt gets it.
      const missing = { key: `missing-${w.n++}`, value: 'never', version: 1 };
      const err = await ck.put(missing.key, missing.value, missing.version);
      judgePut(`client ${ck.id}'s put(${show(missing.key)}, "never", 1)`, err, ts.puts.of(ck.id, missing), round);
    } else {
      // Mostly the version last seen (which may be stale by now), sometimes one behind or ahead of it, and in about
      // one put of five a version from the grammar's edges (negative, fractional, huge, reused).
      const version = VERSION_KINDS[drawVersionKind(rng)](seen.get(key) ?? 0);
      const value = putValue(rng, w, ck.id, key, version, pasts.get(key) ?? { held: undefined, before: [] });
      const err = await ck.put(key, value, version);
      judgePut(
        `client ${ck.id}'s put(${show(key)}, ${show(value)}, ${version})`,
        err,
        ts.puts.of(ck.id, { key, value, version }),
        round,
      );
      if (err === 'OK') {
        seen.set(key, version + 1);
        remember(pasts, key, value);
      }
    }
    if (rng.chance(0.3)) await sleep(rng.int(20));
  }
}

/** The fault phase: `ms` of virtual time, cut short by the first task that fails (its failure is the test's). */
async function faultPhase(tasks: Promise<unknown>[], ms: number): Promise<void> {
  await Promise.race([sleep(ms), ...tasks.map((t) => t.then(() => new Promise<never>(() => undefined)))]);
}

/** Waits for `tasks` after the faults healed, failing with what was still in flight if they take too long. */
async function afterHeal(tasks: Promise<unknown>[], round: number, what: string): Promise<void> {
  await within(
    Promise.all(tasks),
    HEAL_MS,
    () =>
      `Round ${round}: ${HEAL_MS / 1000} virtual seconds after the network became reliable again, ${what} had still not returned. ` +
      'Expected every call to finish soon after the faults stop. Likely causes: a clerk that waits far too long between ' +
      'attempts (back off to about 100 ms at most), stops retrying, or retries only on a TimeoutError from its first call; ' +
      'a server handler that never answers a request (for example one it takes for a duplicate); or two tasks sharing ' +
      'one clerk that wait on each other (keep each call\u2019s state in the call, not in the clerk).',
  );
}

/** TestNemesisKV: the versioned store under random faults, checked by linearizability alone. */
export const nemesisKV: TestDefinition<Lab2Impl> = {
  name: 'TestNemesisKV',
  description: `${ROUNDS} rounds of random gets and versioned puts (edge keys, values and versions from the model tests' grammar: values put alike by several clients or equal to the one held, versions negative, fractional, huge or reused; clerks shared by several tasks) under random lost, delayed and reordered messages: every answer fits one order of the operations and the Put RPCs the clerk got back, every call finishes once the faults heal; then ${groupDigits(MEM_CLIENTS)} clients cost the server at most ${MEM_BYTES_PER_CLIENT} bytes each`,
  generic: true,
  async run(ctx: Ctx) {
    for (let round = 0; round < ROUNDS; round++) {
      const rng = keyedRng(ctx.seed, `nemesis-kv#${round}`);
      const ts = new KVTester(ctx, true);
      const plan = roundPlan(rng, round);
      // Every round has a key a plain object already holds (steered, not left to chance), and some others from the grammar.
      const drawn = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(GRAMMAR_KEYS));
      const keys = [...new Set([OBJECT_KEYS[round % OBJECT_KEYS.length], ...drawn])];
      const clerks = Array.from({ length: 1 + rng.int(4) }, () => ts.makeClerk());
      const tasks = clerks.flatMap((ck) => Array.from({ length: 1 + rng.int(3) }, () => ck));
      for (const ck of clerks) if (tasks.filter((t) => t === ck).length > 1) ts.shareClerk(ck);
      ctx.log(
        `round ${round}: ${tasks.length} tasks on ${clerks.length} clerks, keys ${keys.map((k) => show(k)).join(' ')}; ` +
          applyPlan(ts.net, plan, rng, 400),
      );
      const w: Workload = { over: false, n: 0, shared: new Map() };
      ts.puts.on = true;
      const running = tasks.map((ck, i) =>
        kvTask(ts, ck, keys, keyedRng(ctx.seed, `nemesis-kv#${round}/${i}`), w, round),
      );
      await faultPhase(running, round === ROUNDS - 1 ? STORM_MS : 500 + rng.int(1500));
      w.over = true;
      healNetwork(ts.net);
      await afterHeal(running, round, 'a get or put');
      // Fresh reads after healing: every key answers, and the answers join the history the checker judges.
      const reader = ts.makeClerk();
      await afterHeal(
        keys.map((k) => reader.get(k)),
        round,
        'a get by a new clerk',
      );
      ts.checkLinearizable();
    }
    await memoryRound(ctx);
  },
};

/**
 * The promise that a server keeps nothing per client: many fresh clerks each put once, and the server is weighed
 * (once more on a fresh cluster when over the bound: suite/memory.ts lighterWeighing).
 */
async function memoryRound(ctx: Ctx): Promise<void> {
  const perClient = await lighterWeighing(MEM_BYTES_PER_CLIENT, async (attempt) => {
    const bytes = await weighServer(ctx);
    ctx.log(`memory round, weighing ${attempt}: the server retains ${bytes.toFixed(1)} bytes per client`);
    return bytes;
  });
  check(
    perClient <= MEM_BYTES_PER_CLIENT,
    `Memory round: after ${MEM_CLIENTS} clients did one put each, the server retains ${perClient.toFixed(0)} bytes per client ` +
      `(at most ${MEM_BYTES_PER_CLIENT}; the lighter of two weighings on fresh servers). Expected no memory of clients or requests: the version check already makes a re-sent put ` +
      'harmless. Likely causes: a table of replies or request ids (in the server or at the top of server.ts), or old values kept.',
  );
}

/** One weighing: a fresh server, MEM_CLIENTS clerks that put once each, and the bytes per client its removal frees. */
async function weighServer(ctx: Ctx): Promise<number> {
  // The clerks come from a copy of their own, dropped before the weighing: what the server shares with them (a
  // value's string) is the server's then.
  const ts = new KVTester(ctx, true, { ownClerks: true });
  const clerks = Array.from({ length: MEM_CLIENTS }, () => ts.makeRawClerk());
  for (const ck of clerks) await ck.get('m'); // anything allocated lazily per connection is counted out
  for (let i = 0; i < MEM_CLIENTS; i++) {
    const err = await clerks[i].put('m', `value ${i} `.padEnd(100, '.'), i);
    check(err === 'OK', `Memory round: client ${i}'s put("m", ..., version ${i}) returned ${err}; expected OK.`);
  }
  clerks.length = 0;
  ts.forgetClerks();
  stopHoldersOfServers([ts.net]); // the code's timers of earlier rounds too
  const withServer = liveHeapBytes();
  ts.removeServer();
  return (withServer - liveHeapBytes()) / MEM_CLIENTS;
}

/** The lock's own record: who the test saw acquire and not yet release, and how many times anyone incremented. */
interface LockState {
  inside: string | undefined;
  increments: number;
  over: boolean;
  /** True while the network delivers everything promptly (acquire's deadline is then checked to the letter). */
  prompt: boolean;
  /** How long the next holder keeps the lock (once per round, a hold longer than any default timeout). */
  longHoldMs: number;
  /** The lock's name: a key from lab 2's grammar ("__proto__", "", a 4 KiB one, ...), never "counter". */
  name: string;
}

/** Inside the lock: reads the counter key and writes it one higher, which only a single holder can do without a clash. */
async function increment(ck: KVClerk, who: string, round: number, st: LockState): Promise<void> {
  for (;;) {
    const r = await ck.get('counter');
    const version = r.err === 'OK' ? r.version : 0;
    const count = r.err === 'OK' ? Number(r.value) : 0;
    const err = await ck.put('counter', String(count + 1), version);
    if (err === 'OK') break;
    if (err === 'ErrMaybe') {
      const again = await ck.get('counter');
      if (again.err === 'OK' && again.version === version + 1 && again.value === String(count + 1)) break;
      check(
        again.err === 'OK' && again.version === version,
        `Round ${round}: ${who} held the lock, put "counter" = ${count + 1} at version ${version}, got ErrMaybe, and then read ${show(again)}: ` +
          'someone else changed the key while this client held the lock. Expected nobody else to write inside the lock. ' +
          TWO_HOLDERS,
      );
      continue;
    }
    check(
      false,
      `Round ${round}: ${who} held the lock and put "counter" = ${count + 1} at version ${version} (the version it had just read), ` +
        `but the put returned ${err}. Expected OK: nobody else may write inside the lock. ${TWO_HOLDERS}`,
    );
  }
  st.increments++;
}

/** Takes the lock with `timeout`, checking the answer and, on a prompt network, that a timeout is kept. */
async function take(lock: DistributedLock, who: string, timeout: number | undefined, round: number, st: LockState) {
  const asked = performance.now();
  const prompt = st.prompt;
  const got = await lock.acquire(timeout);
  const took = performance.now() - asked;
  if (timeout !== undefined && prompt && st.prompt)
    check(
      took <= timeout + 1000,
      `Round ${round}: ${who}'s acquire(${timeout}) returned after ${took.toFixed(0)} ms on a network that delivered every message. ` +
        `Expected it to give up soon after ${timeout} ms. Likely causes: a timeout of 0 read as "no timeout" (timeoutMs || Infinity), ` +
        'or a deadline checked only when the lock looks free.',
    );
  if (!got) {
    check(
      timeout !== undefined,
      `Round ${round}: ${who}'s acquire() without a timeout returned false after ${took.toFixed(0)} ms. Expected it to wait as ` +
        'long as it takes. Likely causes: a default timeout, or a failed put taken for a reason to give up.',
    );
    return false;
  }
  check(
    st.inside === undefined,
    `Round ${round}: ${who}'s acquire(${timeout ?? ''}) returned true while ${st.inside} held the lock (it had not called release()): two holders at once. ${TWO_HOLDERS}`,
  );
  st.inside = who;
  return true;
}

/** What the holder does inside: increment the counter, sometimes linger (once a round, longer than any default timeout). */
async function inside(ts: KVTester, ck: KVClerk, who: string, rng: Rng, round: number, st: LockState): Promise<void> {
  await increment(ck, who, round, st);
  const hold = st.longHoldMs;
  st.longHoldMs = 0;
  if (hold > 0) {
    // A long hold: meanwhile a newcomer's acquire with a short timeout must give up, and one without must keep waiting.
    const started = performance.now();
    const newcomer = ts.makeClerk();
    for (const timeout of [0, 50]) {
      const asked = performance.now();
      const got = await ts.makeLock(newcomer, st.name).acquire(timeout);
      const took = performance.now() - asked;
      check(
        !got && took <= timeout + 1000,
        `Round ${round}: while ${who} held the lock, a newcomer's acquire(${timeout}) returned ${got} after ${took.toFixed(0)} ms. ` +
          `Expected false within about ${timeout} ms. Likely causes: ${got ? TWO_HOLDERS : 'a timeout of 0 read as "no timeout" (timeoutMs || Infinity), or a deadline checked only when the lock looks free.'}`,
      );
    }
    await sleep(Math.max(0, hold - (performance.now() - started)));
  } else if (rng.chance(0.15)) {
    // Longer than a lost message's wait: a holder still inside when a late call of another client lands.
    await sleep(100 + rng.int(400));
  } else if (rng.chance(0.5)) await sleep(rng.int(10));
  st.inside = undefined;
}

/** release() on a Lock that does not hold the lock: the handout allows an error, and nothing may change. */
async function releaseNotHeld(lock: DistributedLock): Promise<void> {
  await lock.release().catch(() => undefined);
}

/**
 * One contender until the round ends: half its attempts on one long-lived Lock released by hand, half on a new
 * Lock per attempt in an `await using` block (a Lock whose acquire gave up is then never used again).
 */
async function lockTask(ts: KVTester, ck: KVClerk, who: string, rng: Rng, round: number, st: LockState) {
  const lock = ts.makeLock(ck, st.name);
  while (!st.over) {
    if (rng.chance(0.05)) await releaseNotHeld(ts.makeLock(ck, st.name)); // a Lock that never acquired
    const timeout = rng.chance(0.5) ? undefined : rng.pick([0, 5, 50, 500]);
    if (rng.chance(0.5)) {
      if (!(await take(lock, who, timeout, round, st))) {
        if (rng.chance(0.3)) await releaseNotHeld(lock);
        continue;
      }
      await inside(ts, ck, who, rng, round, st);
      await lock.release();
      if (rng.chance(0.1)) await releaseNotHeld(lock);
    } else {
      await using fresh = ts.makeLock(ck, st.name);
      if (await take(fresh, `${who} (a new Lock)`, timeout, round, st)) await inside(ts, ck, who, rng, round, st);
    }
  }
}

/** After the round: the counter kept every increment, and a new client can take the lock, leave a block and take it again. */
async function afterLockRound(ts: KVTester, round: number, st: LockState): Promise<void> {
  const probe = ts.makeClerk();
  const counter = await probe.get('counter');
  const count = counter.err === 'OK' ? Number(counter.value) : 0;
  check(
    count === st.increments,
    `Round ${round}: the clients incremented "counter" ${st.increments} times inside the lock, but it reads ${show(counter)}. ` +
      `Expected every increment made while holding the lock to be kept exactly once. ${TWO_HOLDERS}`,
  );
  const left = () =>
    `Round ${round}: after every client was done with the lock and the network healed, a new client's acquire() did not return ` +
    `within ${HEAL_MS / 1000} virtual seconds: the lock was left held. Likely causes: a release whose put got ErrMaybe and ` +
    'was not checked; an acquire that took the lock behind ErrMaybe and returned false (its Lock is never used again, so ' +
    'nobody releases it); an `await using` block whose dispose does not release; or a free lock written in a form acquire does not recognise.';
  {
    await using first = ts.makeLock(probe, st.name);
    check(await within(first.acquire(), HEAL_MS, left), `Round ${round}: a new client's acquire() returned false.`);
  }
  const second = ts.makeLock(probe, st.name);
  check(
    await second.acquire(0),
    `Round ${round}: a client left an \`await using\` block holding the lock, and at once another Lock's acquire(0) on a reliable ` +
      'network returned false. Expected the lock free when the block is left. Likely causes: [Symbol.asyncDispose] that starts ' +
      'release() without awaiting it, or does not release at all.',
  );
  await second.release();
}

/** TestNemesisLock: many contenders, some sharing a clerk, under random faults; one holder at a time, no lost increment. */
export const nemesisLock: TestDefinition<Lab2Impl> = {
  name: 'TestNemesisLock',
  description: `${ROUNDS} rounds of Lock objects (some sharing a clerk, the lock named by an edge key, random acquire timeouts, \`await using\` blocks, some holders staying inside 100-500 ms) incrementing a counter inside the lock under random lost, delayed and reordered messages: never two holders, no lost increment, timeouts kept, and the lock free once the faults heal`,
  generic: true,
  async run(ctx: Ctx) {
    for (let round = 0; round < ROUNDS; round++) {
      const rng = keyedRng(ctx.seed, `nemesis-lock#${round}`);
      const ts = new KVTester(ctx, true);
      const plan = roundPlan(rng, round);
      const clerks = Array.from({ length: 2 + rng.int(2) }, () => ts.makeClerk());
      const name = rng.pick(GRAMMAR_KEYS);
      const contenders = clerks.flatMap((ck, c) =>
        Array.from({ length: 1 + rng.int(2) }, (_, i) => ({ ck, who: `lock ${i} of clerk ${c}` })),
      );
      for (const ck of clerks) if (contenders.filter((t) => t.ck === ck).length > 1) ts.shareClerk(ck);
      ctx.log(
        `round ${round}: ${contenders.length} contenders on ${clerks.length} clerks, lock ${show(name)}; ${applyPlan(ts.net, plan, rng, 300)}`,
      );
      const st: LockState = {
        inside: undefined,
        increments: 0,
        over: false,
        prompt: plan.reliable && !plan.longReordering && (plan.pct?.spanMs ?? 0) <= 50,
        longHoldMs: round === 0 ? 6000 : 0,
        name,
      };
      const running = contenders.map(({ ck, who }, i) =>
        lockTask(ts, ck, who, keyedRng(ctx.seed, `nemesis-lock#${round}/${i}`), round, st),
      );
      await faultPhase(running, 800 + rng.int(1200));
      st.over = true;
      healNetwork(ts.net);
      st.prompt = false; // calls sent before the heal may still be held back
      await afterHeal(running, round, 'an acquire, a release or a call inside the lock');
      await afterLockRound(ts, round, st);
    }
  },
};

/** Lab 2's rounds: the nemesis's plans, the last one a storm that loses most messages (clerks must not give up). */
function roundPlan(rng: Rng, round: number): NetworkPlan {
  if (round === ROUNDS - 1) return { ...drawPlan(rng, round), reliable: false, requestDrop: 0.85, replyDrop: 0.85 };
  return drawPlan(rng, round);
}
