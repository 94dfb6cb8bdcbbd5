/**
 * Lab 2's tester: builds the server and clerks on a simulated network, records every clerk operation for the
 * linearizability checker, turns a bad history into a failure with a viewer page, and loses chosen messages.
 */
import { Network, Server, Service } from '../../labrpc';
import { HistoryRecorder, clientLane } from '../../suite/history';
import { World } from '../../world';
import { versionedModel, VersionedInput, VersionedOutput } from '../../checker/models/versioned';
import { TestContext, TestFailure, assertLinearizable, check } from '../../suite';
import { ClerkReplies, clerkArgsProblem, resultOnce } from '../../suite/clerk-replies';
import type {
  DistributedLock,
  GetArgs,
  GetReply,
  GetResult,
  KVClerk,
  KVService,
  PutArgs,
  PutReply,
  PutResult,
  Version,
} from '../rpc';
import type { ClientEnd } from '../../labrpc';
import { methodOnce, readOnce } from '../../labrpc/read-once';
import { brandHarness } from '../../world/brand';

/** What the grader loads from lab2/ (or solutions/lab2/). */
export interface Lab2Impl {
  KVServer: new () => KVService;
  Clerk: new (end: ClientEnd) => KVClerk;
  Lock: new (ck: KVClerk, name: string) => DistributedLock;
  /** The KVServer class of a private copy of the student's modules (memory tests: see suite/fresh.ts). */
  freshKVServer?: () => new () => KVService;
  /** The Clerk class of a private copy likewise (memory tests: clerks whose module goes before the weighing). */
  freshClerk?: () => new (end: ClientEnd) => KVClerk;
  /** The Lock class of a private copy of lock.ts: the Locks of one clerk's machine (makeLock). */
  freshLock?: () => new (ck: KVClerk, name: string) => DistributedLock;
}

/** The name the server is registered under on the network. */
const SERVER = 'kvserver';

/** One test's cluster: a network, a server, clerks, and the history of their operations. */
export class KVTester {
  private readonly ctx: TestContext<Lab2Impl>;
  readonly net = new Network();
  readonly history = new HistoryRecorder<VersionedInput, VersionedOutput>();
  private clerks = 0;
  /** Every Put RPC the clerks sent and the answers that reached them (for judging each put's result). */
  readonly puts = new PutLog();
  /** The student's server, also reached directly by the scripted links; dropped by removeServer. */
  private service: KVService | undefined;
  /**
   * The Clerk class makeRawClerk uses: with `ownClerks`, from a copy of the student's modules of this tester's own,
   * which forgetClerks drops (a memory test then charges the server with what it shares with the clerks' module).
   */
  private rawClerks: Lab2Impl['Clerk'] | undefined;

  /**
   * The server comes from a private copy of the student's server.ts, so that what the module keeps at its top
   * level is measured with it in the memory test (suite/fresh.ts). Every test loads one, not only the memory
   * test, so that code under test cannot recognise the memory test by its module being loaded again. The copy is
   * loaded here rather than passed in, so that no caller's frame keeps it alive.
   */
  constructor(ctx: TestContext<Lab2Impl>, reliable: boolean, options: { readonly ownClerks?: boolean } = {}) {
    this.ctx = ctx;
    this.rawClerks = options.ownClerks ? (ctx.impl.freshClerk?.() ?? ctx.impl.Clerk) : ctx.impl.Clerk;
    this.net.setReliable(reliable);
    ctx.onStuck(() =>
      this.history.inFlight().map((op) => {
        const what =
          op.input.op === 'put'
            ? `put(${JSON.stringify(op.input.key)}, version ${op.input.version})`
            : `get(${JSON.stringify(op.input.key)})`;
        return `client ${op.clientId}: ${what} called at ${(op.call / 1000).toFixed(3)} s and not returned (for ${((performance.now() - op.call) / 1000).toFixed(3)} s)`;
      }),
    );
    // Built on its own lane: the timers its constructor starts (and what they print) are the server's. The copy is
    // loaded inside the closure: a variable of this constructor captured by it would stay alive with the other
    // closures made here (they share one scope), and keep the module copy from being measured.
    this.service = World.current().inLane(SERVER, () => new (ctx.impl.freshKVServer?.() ?? ctx.impl.KVServer)());
    this.net.addServer(SERVER, new Server().addService(this.service, 'KVServer'));
  }

  /**
   * A new end connected to the server, and the witness of the calls the clerk sends through it and the replies that
   * reach it; a recorded clerk's end is owned by its client (`owner`), the name its lost messages are reported under.
   */
  private makeEnd(owner?: string): { end: ClientEnd; replies: ClerkReplies } {
    const name = `clerk-${this.clerks++}`;
    const end = this.net.makeEnd(name, owner);
    this.net.connect(name, SERVER);
    this.net.enable(name, true);
    const replies = new ClerkReplies();
    const puts = this.puts;
    const counting = new Proxy(end, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'call' && typeof value === 'function') {
          return (sentMethod: unknown, sent: unknown) => {
            // What is judged is what is sent: one name, and the arguments read once.
            const named = methodOnce(sentMethod);
            if ('error' in named) return Promise.reject(named.error);
            const method = named.copy as string;
            const once = readOnce(sent, `the arguments of ${method}`);
            if ('error' in once) return Promise.reject(once.error);
            const data = once.copy;
            const result = (value as (...a: unknown[]) => Promise<unknown>).call(target, method, data);
            if (puts.on && method === 'KVServer.Put') puts.sent(name, data as PutArgs, result as Promise<PutReply>);
            return replies.sent(method, data, result);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { end: counting, replies };
  }

  /**
   * Marks clerk `ck` (one makeClerk made) as used by several of the test's tasks at once: the monitors then cannot
   * tell one task's call from another's retry, and leave its pacing alone where the calls overlap.
   */
  shareClerk(ck: RecordingClerk): void {
    this.net.shareEnd(`clerk-${ck.id}`);
  }

  /** The student's clerk, with its operations recorded (client id = creation order). */
  makeClerk(): RecordingClerk {
    const id = this.clerks;
    const { end, replies } = this.makeEnd(clientLane(id));
    return new RecordingClerk(new this.ctx.impl.Clerk(end), id, this.history, this.ctx, replies);
  }

  /**
   * The student's clerk (recorded) on a link of its own whose messages the test can lose one by one: the link
   * hands calls to the same server as everyone else's, unless a rule scripted on it says otherwise.
   */
  makeScriptedClerk(): { ck: KVClerk; link: ScriptedLink } {
    const id = this.clerks;
    const name = `clerk-${this.clerks++}`;
    const serverName = `${SERVER}-via-${name}`;
    if (!this.service) throw new Error('makeScriptedClerk after removeServer: there is no server to reach.');
    const end = this.net.makeEnd(name, clientLane(id));
    const replies = new ClerkReplies();
    replies.watch(end);
    const link = new ScriptedLink(this.service, () => {
      // Disabling the end fails its calls in flight (the sender sees a TimeoutError); the server's answer to
      // them is then never delivered. Enabling it again at once leaves later calls untouched.
      this.net.enable(name, false);
      this.net.enable(name, true);
    });
    const handlers = {
      Get: (args: GetArgs) => link.handle('Get', args),
      Put: (args: PutArgs) => link.handle('Put', args),
    };
    this.net.addServer(serverName, new Server().addService(new Service(handlers, 'KVServer')));
    this.net.connect(name, serverName);
    this.net.enable(name, true);
    return { ck: new RecordingClerk(new this.ctx.impl.Clerk(end), id, this.history, this.ctx, replies), link };
  }

  /**
   * The student's clerk without recording (for workloads too large to check): only its results are held to the
   * replies that reached it.
   */
  makeRawClerk(): KVClerk {
    if (!this.rawClerks) throw new Error('makeRawClerk after forgetClerks: the clerks are gone.');
    const id = this.clerks;
    const { end, replies } = this.makeEnd();
    return new WitnessedClerk(new this.rawClerks(end), id, replies);
  }

  /** Drops the Clerk class of makeRawClerk (with `ownClerks`, its module copy goes once no clerk of it is left). */
  forgetClerks(): void {
    this.rawClerks = undefined;
  }

  /** The Lock class of each clerk's machine: one copy of lock.ts per clerk (makeLock). */
  private readonly lockClasses = new WeakMap<KVClerk, Lab2Impl['Lock']>();

  /**
   * A Lock of the student's on `ck`. The Locks of one clerk run on one machine (one copy of lock.ts, as in any
   * program: an id made when the module loads is shared by them, as it would be); each clerk's machine is its own,
   * so Locks of different clerks share no table and meet only through the service.
   */
  makeLock(ck: KVClerk, name: string): DistributedLock {
    let Lock = this.lockClasses.get(ck);
    if (Lock === undefined) {
      Lock = this.ctx.impl.freshLock?.() ?? this.ctx.impl.Lock;
      this.lockClasses.set(ck, Lock);
    }
    const lock = new Lock(ck, name);
    if (!(ck instanceof RecordingClerk)) return lock;
    // A lock lives in the key/value service: an acquire that took a lock this object did not hold already must
    // have used its clerk (one that held it may answer from what it knows).
    let held = false;
    return {
      acquire: async (timeoutMs?: number): Promise<boolean> => {
        const before = ck.calls;
        const wasHeld = held;
        const got = await lock.acquire(timeoutMs);
        held ||= got;
        check(
          !got || wasHeld || ck.calls > before,
          `Lock("${name}").acquire() returned true without a single get or put through its clerk; expected the ` +
            'lock to live in the key/value service (a key the lock writes), so that clients on other machines see ' +
            'it. Likely causes: a lock kept in memory (a table shared by the Locks of one process), or an acquire ' +
            'that returns before it wrote the key.',
        );
        return got;
      },
      release: () => ((held = false), lock.release()),
      [Symbol.asyncDispose]: () => ((held = false), lock[Symbol.asyncDispose]()),
    };
  }

  /** Kills the server: it gets no more calls and nothing references it any more. */
  removeServer(): void {
    this.service = undefined; // the memory tests measure what goes away with it
    this.net.deleteServer(SERVER);
  }

  /** Fails the test if the recorded history is not linearizable (a timeout in the checker passes, as in MIT's tester). */
  checkLinearizable(): void {
    assertLinearizable(this.ctx, versionedModel, this.history.operations(), KV_CAUSES);
  }
}

/** The likely causes of a key/value history that is not linearizable. */
export const KV_CAUSES =
  'Likely causes: a version check other than exact equality (a version one behind or ahead let through); a put ' +
  'recognised as a re-sent copy by its value (a put one version behind answered OK because the key holds its value); a ' +
  "put that does not move the version by exactly 1; a clerk that reports a re-sent put's answer wrongly (ErrMaybe is " +
  'only for a re-sent put answered ErrVersion); a store kept in a plain object, where a key such as "__proto__" is special.';

/** The causes of a second holder of a lock, for every message that finds one. */
export const TWO_HOLDERS =
  'Likely causes: two clients held the lock at once (an acquire that takes the key without checking it is free, or ' +
  'puts its id with a version it did not read the key free at; an acquire that takes ErrMaybe, ErrVersion or a lost ' +
  'reply for success without reading the key back; a release that frees the lock without checking it is the holder; ' +
  'Lock objects sharing one identity: one id made when the module loads, one per clerk, or one made from the time; an ' +
  "acquire that gave up (returned false) although its put had taken the lock); or a clerk that reports a re-sent put's answer wrongly.";

/** What became of the Put RPCs a clerk sent with the same arguments: how many were sent, and the answers received. */
export interface PutAttempts {
  sent: number;
  /** The answers that reached the clerk, in the order they arrived. */
  answers: PutReply['err'][];
}

/** The Put RPCs of recorded clerks, by end and arguments: what a clerk's put result can be judged against. */
export class PutLog {
  private readonly byCall = new Map<string, PutAttempts>();
  /** Off by default: tests with a hundred thousand puts keep no log. */
  on = false;

  /** @internal notes one Put RPC and, when it comes, its answer. */
  sent(end: string, args: PutArgs, reply: Promise<PutReply>): void {
    const k = PutLog.key(end, args);
    const attempts = this.byCall.get(k) ?? { sent: 0, answers: [] };
    attempts.sent++;
    this.byCall.set(k, attempts);
    reply.then(
      (r) => void attempts.answers.push(r.err),
      () => undefined,
    );
  }

  /** The RPCs clerk `client` sent for a put with these arguments (the end of a clerk made by `makeClerk` is clerk-<client>). */
  of(client: number, args: PutArgs): PutAttempts {
    return this.byCall.get(PutLog.key(`clerk-${client}`, args)) ?? { sent: 0, answers: [] };
  }

  private static key(end: string, args: PutArgs): string {
    return JSON.stringify([end, args.key, args.version, args.value]);
  }
}

/** Which message of a matched call is lost: the request (the server never sees it) or the reply (it acted). */
export type Lost = 'request' | 'reply';

/** One scripted fault: a call that matches it is held, then loses a message or goes through. */
export interface LinkRule {
  method: 'Get' | 'Put';
  /** Only calls for this key (any key when omitted). */
  key?: string;
  /**
   * Only a Put with exactly this value and version: the put the test asked the clerk for, which the clerk must send
   * as given. Any other put passes untouched, so the fault cannot be spent on a message sent before the one meant.
   */
  put?: { value: string; version: number };
  /**
   * Only a Put the server carried out (answered OK): a refused put passes untouched and the rule waits on, so a
   * put bound to be refused cannot take the fault meant for the put that changes the key. Needs `lose: 'reply'`.
   */
  accepted?: boolean;
  /** The message to lose; omitted, the call goes through (after `until`). */
  lose?: Lost;
  /**
   * Hold the call until this settles: before the server sees it (a lost request, or one that goes through), or
   * after the server acted and before its reply is lost.
   */
  until?: Promise<unknown>;
}

/** A rule waiting for its call (or, within a window, for every call), with the signals the test can wait on. */
interface PendingRule extends LinkRule {
  /** Resolved when the (first) matching call reaches the link (the request is then being held, if `until` was given). */
  arrived: () => void;
  /** Resolved once the rule has been applied (the message is lost, or the server answered). */
  applied: () => void;
  /** Set while the rule applies to every matching call (`ScriptedLink.during`): how many it has met. */
  window?: { count: number };
}

/** What a test gets back from `ScriptedLink.next`. */
export interface ScriptedCall {
  /** Resolves when the matching call arrives at the link. */
  arrived: Promise<void>;
  /** Resolves when its message has been lost (or it has gone through). */
  applied: Promise<void>;
}

/** What a test gets back from `ScriptedLink.during`. */
export interface ScriptedWindow {
  /** Resolves when the first matching call arrives at the link. */
  arrived: Promise<void>;
  /** How many calls the rule has met so far. */
  readonly count: number;
}

/** One clerk's private path to the server: matched calls are held and lose a message, the rest pass. */
export class ScriptedLink {
  private readonly server: KVService;
  /** Fails this clerk's calls in flight (each sees a TimeoutError). */
  private readonly cut: () => void;
  private readonly rules: PendingRule[] = [];

  constructor(server: KVService, cut: () => void) {
    this.server = server;
    this.cut = cut;
  }

  /** Scripts the fate of the next call matching `rule` (rules apply in the order they were given). */
  next(rule: LinkRule): ScriptedCall {
    const { call, pending } = this.pend(rule);
    this.rules.push(pending);
    return call;
  }

  /**
   * Scripts the fate of every call matching `rule` that reaches the link until `window` settles: the fault meant
   * for "the put that takes the lock" meets that put, whatever else the code sends before it.
   */
  during(rule: LinkRule, window: Promise<unknown>): ScriptedWindow {
    const { call, pending } = this.pend(rule);
    const counted = { count: 0 };
    pending.window = counted;
    this.rules.push(pending);
    const close = (): void => {
      const at = this.rules.indexOf(pending);
      if (at >= 0) this.rules.splice(at, 1);
    };
    void window.then(close, close);
    return {
      arrived: call.arrived,
      get count() {
        return counted.count;
      },
    };
  }

  /** Runs `op` (a call of the code under test) with `rule` applied to every matching call until `op` settles. */
  around<T>(rule: LinkRule, op: () => Promise<T>): { result: Promise<T>; met: ScriptedWindow } {
    const over = gate();
    const met = this.during(rule, over.opened);
    const result = op().finally(over.open);
    return { result, met };
  }

  /** True while a rule of `next` has not met its call yet. */
  get pending(): boolean {
    return this.rules.some((r) => r.window === undefined);
  }

  /** @internal the handler behind this link's Get and Put; undefined is a reply the sender never receives. */
  async handle(method: 'Get', args: GetArgs): Promise<GetReply | undefined>;
  async handle(method: 'Put', args: PutArgs): Promise<PutReply | undefined>;
  async handle(method: 'Get' | 'Put', args: GetArgs | PutArgs): Promise<GetReply | PutReply | undefined> {
    const rule = this.rules.find((r) => matches(r, method, args));
    const act = (): GetReply | PutReply | Promise<GetReply | PutReply> =>
      method === 'Get' ? this.server.Get(args) : this.server.Put(args as PutArgs);
    if (rule === undefined) return act();
    if (rule.accepted) {
      // The server acts first: only a put it carried out takes the rule (and only if no other call took it meanwhile).
      const seen = readOnce(await act(), 'the reply to a Put');
      if (!('copy' in seen)) return undefined;
      const reply = seen.copy as PutReply;
      if (reply.err !== 'OK' || !this.rules.includes(rule)) return reply;
      this.meet(rule);
      await rule.until;
      this.cut();
      rule.applied();
      return reply;
    }
    this.meet(rule);
    if (rule.lose === 'request') {
      await rule.until;
      this.cut();
      rule.applied();
      return undefined;
    }
    if (rule.lose === 'reply') {
      const reply = await act();
      await rule.until;
      this.cut();
      rule.applied();
      return reply;
    }
    await rule.until;
    const reply = await act();
    rule.applied();
    return reply;
  }

  /** A call met `rule`: a rule of `next` is spent, a window's counts it. */
  private meet(rule: PendingRule): void {
    rule.arrived();
    if (rule.window) {
      rule.window.count++;
      return;
    }
    this.rules.splice(this.rules.indexOf(rule), 1);
  }

  /** A pending rule for `rule`, and the signals its caller waits on. */
  private pend(rule: LinkRule): { call: ScriptedCall; pending: PendingRule } {
    if (rule.accepted && (rule.method !== 'Put' || rule.lose !== 'reply'))
      throw new Error('A scripted rule with `accepted` must lose the reply of a Put.');
    let arrived = (): void => undefined;
    let applied = (): void => undefined;
    const call: ScriptedCall = {
      arrived: new Promise<void>((r) => (arrived = r)),
      applied: new Promise<void>((r) => (applied = r)),
    };
    return { call, pending: { ...rule, arrived, applied } };
  }
}

/** Whether a call on the link is one `rule` is meant for (`args` is the network's copy of the call's arguments). */
function matches(rule: LinkRule, method: 'Get' | 'Put', args: GetArgs | PutArgs): boolean {
  if (rule.method !== method || (rule.key !== undefined && rule.key !== args.key)) return false;
  if (rule.put === undefined) return true;
  const put = args as PutArgs;
  return put.value === rule.put.value && put.version === rule.put.version;
}

/**
 * Wraps a clerk so that each operation is recorded with its call and return times, and its result held to the
 * replies that reached the clerk during the call.
 */
export class RecordingClerk implements KVClerk {
  private readonly inner: KVClerk;
  /** The clerk's number: its end is clerk-<id>, and its operations are client <id> in the history. */
  readonly id: number;
  private readonly history: HistoryRecorder<VersionedInput, VersionedOutput>;
  private readonly ctx: TestContext<Lab2Impl>;
  /** The clerk's RPCs and the replies that reached it, against which each get's and put's result is checked. */
  private readonly replies: ClerkReplies;

  /** How many RPCs the student's clerk sent for its last put (more than 1: it re-sent it). */
  lastPutSends: number | undefined;
  /** The gets and puts called on this clerk so far (a lock built on it must use it). */
  calls = 0;
  /** Each get and put called on this clerk: when it was called and when it returned (virtual ms; NaN until then). */
  readonly spans: Array<{ readonly start: number; end: number }> = [];

  constructor(
    inner: KVClerk,
    id: number,
    history: HistoryRecorder<VersionedInput, VersionedOutput>,
    ctx: TestContext<Lab2Impl>,
    replies: ClerkReplies,
  ) {
    this.inner = inner;
    this.id = id;
    this.history = history;
    this.ctx = ctx;
    this.replies = replies;
  }

  async get(key: string): Promise<GetResult> {
    this.judge(clerkArgsProblem(key));
    const op = this.history.begin(this.id, { op: 'get', key });
    this.calls++;
    const span = this.span();
    const watch = this.replies.beginGet(key);
    const reply = resultOnce(await this.inner.get(key));
    span.end = World.current().now();
    this.judge(this.replies.endGet(watch, reply));
    this.history.end(
      op,
      reply.err === 'OK' ? { err: 'OK', value: reply.value, version: reply.version } : { err: reply.err },
    );
    this.ctx.countOps();
    return reply;
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    this.judge(clerkArgsProblem(key, value, version));
    const op = this.history.begin(this.id, { op: 'put', key, value, version });
    this.calls++;
    const span = this.span();
    const before = this.replies.calls;
    const watch = this.replies.beginPut(key, value, version);
    const err = await this.inner.put(key, value, version);
    span.end = World.current().now();
    this.lastPutSends = this.replies.calls - before;
    this.judge(this.replies.endPut(watch, err));
    this.history.end(op, { err });
    this.ctx.countOps();
    return err;
  }

  /** Notes a call beginning now. */
  private span(): { readonly start: number; end: number } {
    const span = { start: World.current().now(), end: NaN };
    this.spans.push(span);
    return span;
  }

  private judge(problem: string | undefined): void {
    failClerk(this.id, problem);
  }
}

/** A clerk whose results are held to the replies that reached it, and nothing more (no history). */
class WitnessedClerk implements KVClerk {
  private readonly inner: KVClerk;
  private readonly id: number;
  private readonly replies: ClerkReplies;

  constructor(inner: KVClerk, id: number, replies: ClerkReplies) {
    this.inner = inner;
    this.id = id;
    this.replies = replies;
  }

  async get(key: string): Promise<GetResult> {
    failClerk(this.id, clerkArgsProblem(key));
    const watch = this.replies.beginGet(key);
    const reply = resultOnce(await this.inner.get(key));
    failClerk(this.id, this.replies.endGet(watch, reply));
    return reply;
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    failClerk(this.id, clerkArgsProblem(key, value, version));
    const watch = this.replies.beginPut(key, value, version);
    const err = await this.inner.put(key, value, version);
    failClerk(this.id, this.replies.endPut(watch, err));
    return err;
  }
}

/**
 * Fails the test with `problem` (from the witness of clerk `id`), if any: the run fails even when the code that
 * called the clerk (the student's Lock) catches the error.
 */
function failClerk(id: number, problem: string | undefined): void {
  if (problem === undefined) return;
  const error = new TestFailure(`clerk ${id}: ${problem}`);
  World.current().fail(error);
  throw error;
}

/** Shows a value in a message, shortened when long. */
export function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Resolves like `p`, or fails the test when `p` takes longer than `ms` of virtual time (the tester's, shared by the labs). */
export { within } from '../../suite';

/** A promise the test settles by hand: `open()` lets whatever waits on `opened` go on. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

brandHarness(KVTester);
