/**
 * The witness of what servers told a clerk (labs 2, 6 and 7): it sees every RPC a clerk sends and every reply that
 * reaches it, so that each get's value and version, and each put's answer, can be held to a reply of the lab's own
 * RPC (KVServer.Get or KVServer.Put, for that key) that reached that clerk during that call.
 */
import type { ClientEnd } from '../labrpc';
import { methodOnce, readOnce } from '../labrpc/read-once';

/** The RPC a clerk's get must be answered by, and the one of its put. */
const GET = 'KVServer.Get';
const PUT = 'KVServer.Put';
/** How many of the RPCs a call sent a failure message lists. */
const LISTED = 6;

/** One clerk call (a get or a put) under watch. */
export interface ClerkCall {
  readonly method: typeof GET | typeof PUT;
  readonly key: string;
  /** A put's value and version (undefined for a get). */
  readonly value?: string;
  readonly version?: number;
  /** Copies of this call's RPC (its method, with its key, and a put's value and version) sent while it ran. */
  sent: number;
  /** Their answers that reached the clerk, each once, in the order they came, whole (see answerOf). */
  readonly answers: string[];
  /** The same answers as a failure message shows them (shortened). */
  readonly shown: string[];
  /** The first RPCs the clerk sent while the call ran, as [method, key] (shown only in a failure message). */
  readonly rpcs: Array<readonly [string, unknown]>;
  /** Copies that may have taken effect: answered OK or ErrWrongLeader (a leader's entry may commit after it). */
  doubtful: number;
  /** Copies settled (answered or lost); the others may still take effect. */
  settled: number;
  /** True when a copy also matched another running call with the same arguments (whose is it?). */
  shared: boolean;
  /** True once a reply that answers the call (not ErrWrongLeader or ErrWrongGroup) reached the clerk. */
  answered?: boolean;
  /** False once another call of the clerk ran beside it (tasks sharing the clerk). */
  alone?: boolean;
}

/** Stricter rules a lab may hold its clerks' put results to, beside lab 2's. */
export interface ClerkRules {
  /**
   * ErrVersion is no answer for a put one of whose copies may have taken effect (lab 7: an earlier copy applied at
   * the shard's old owner, whose reply was lost, makes the new owner answer ErrVersion): the lab's likely causes.
   */
  readonly errVersionAfterDoubt?: string;
  /**
   * A call's first copy goes to the server that answered the clerk's last call (lab 6: "It sends to the server that
   * led last time"), judged for a call that runs alone after one that ran alone.
   */
  readonly firstToLastAnswer?: boolean;
}

/** The rules of lab 2: none stricter. */
const NO_RULES: ClerkRules = {};

/** Shows a value in a message, shortened when long. */
function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** A value as the witness compares it: its type and the whole of it (-0 apart from 0). */
function exactly(value: unknown): string {
  if (Object.is(value, -0)) return 'number -0';
  return `${typeof value} ${typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))}`;
}

/**
 * A reply or a result as the witness compares them, whole: a get's err, and with OK its value and version; a put's
 * err. Never the shortened text of a message: two values that start alike are two answers.
 */
function answerOf(reply: unknown, method: string): string {
  const r = reply as { err?: unknown; value?: unknown; version?: unknown } | null;
  if (method === GET && r?.err === 'OK') return JSON.stringify(['OK', exactly(r.value), exactly(r.version)]);
  return method === GET ? JSON.stringify([exactly(r?.err)]) : String(r?.err);
}

/** A reply or a result as a message shows it: `OK "v" at version 3` for a get that found the key, else its err. */
function shownAnswer(reply: unknown, method: string): string {
  const r = reply as { err?: unknown; value?: unknown; version?: unknown } | null;
  if (method === GET && r?.err === 'OK') return `OK ${show(r.value)} at version ${show(r.version)}`;
  return method === GET ? show(r?.err) : String(r?.err);
}

/** The fields of each RPC a clerk sends, exactly (GetArgs and PutArgs of the lab's given rpc types). */
const ARG_FIELDS: Readonly<Record<string, readonly string[]>> = { [GET]: ['key'], [PUT]: ['key', 'value', 'version'] };

/**
 * A get's result as the tester keeps it: its err, and with OK its value and version, each read once into plain data.
 * The result may be an object of the code's whose fields answer each read afresh (a class with getters, seen through
 * the crossing's view); the witness and the history must judge one and the same answer.
 */
export function resultOnce<R>(result: R): R {
  if (result === null || typeof result !== 'object') return result;
  const r = result as { err?: unknown; value?: unknown; version?: unknown };
  const err = r.err;
  return (err === 'OK' ? { err, value: r.value, version: r.version } : { err }) as R;
}

/**
 * What is wrong with the arguments a Clerk.get or Clerk.put was called with, or undefined: a key and a value are
 * strings, a version a finite number (the model tests send fractions and negatives on purpose). The harness's own
 * calls always are; a Lock (code under test) calls the clerk the tests hand it, and anything else it passed would
 * reach the clerk's copy of the code as it is (a function of another machine's, say).
 */
export function clerkArgsProblem(key: unknown, value?: unknown, version?: unknown): string | undefined {
  const put = arguments.length > 1;
  const ok =
    typeof key === 'string' &&
    (!put || (typeof value === 'string' && typeof version === 'number' && Number.isFinite(version)));
  if (ok) return undefined;
  const got = put
    ? `(${typeof key}, ${typeof value}, ${typeof version === 'number' ? version : typeof version})`
    : `(${typeof key})`;
  return `Clerk.${put ? 'put' : 'get'} was called with arguments of the types ${got}. Expected ${put ? 'put(key, value, version) with two strings and a number' : 'get(key) with a string'}, as the lab's KVClerk type says. Likely causes: a Lock that passes its name or value as something other than a string, or a version it read as a string (or computed as NaN).`;
}

/** What is wrong with a clerk's RPC `method` with `args`, or undefined when it is one of the lab's, with its exact fields. */
export function argsProblem(method: string, args: unknown): string | undefined {
  const fields = ARG_FIELDS[method];
  if (fields === undefined)
    return (
      `The clerk sent an RPC named ${show(method)} (arguments ${show(args)}). Expected a clerk to call only ${GET} and ` +
      `${PUT}, the key/value service's RPCs. Likely causes: a misspelt method name (it is "Service.Method": ` +
      `"${GET}"); or an RPC of your own added to the server, which the handout does not allow: the clerk and the ` +
      'server agree only through these two.'
    );
  const a = args as Record<string, unknown> | null;
  const keys = a !== null && typeof a === 'object' && !Array.isArray(a) ? Object.keys(a) : undefined;
  const exact =
    keys !== undefined &&
    keys.length === fields.length &&
    fields.every((f) => keys.includes(f)) &&
    typeof a?.key === 'string' &&
    (method === GET || (typeof a?.value === 'string' && typeof a?.version === 'number'));
  if (exact) return undefined;
  return (
    `The clerk sent ${method} with ${keys === undefined ? `arguments ${show(args)}` : `the fields ${keys.join(', ') || '(none)'}`}. Expected exactly the fields of ` +
    `${method === GET ? 'GetArgs: { key } (a string)' : 'PutArgs: { key, value, version } (two strings and a number)'}` +
    ', as the lab’s rpc types give them, and nothing else. Likely causes: an extra field (an id, a sequence number, a ' +
    'hint or an answer for the server: the server must decide from the key, value and version alone); a field ' +
    'misspelt or left out; or a number sent as a string (or the other way round).'
  );
}

/**
 * What is wrong with an RPC `method` with `args` that is no copy of a call running on its clerk (`running`; none when
 * undefined): every RPC a clerk sends carries the get or put it serves, with that call's own arguments.
 */
function offCallProblem(method: string, args: unknown, running: ReadonlySet<ClerkCall> | undefined): string {
  const calls = running
    ? [...running]
        .map((w) =>
          w.method === GET ? `get(${show(w.key)})` : `put(${show(w.key)}, ${show(w.value)}, version ${w.version})`,
        )
        .join(' and ')
    : undefined;
  return (
    `The clerk sent ${method} with ${show(args)} ${calls ? `while its ${calls} ran` : 'while none of its gets and puts ran'}. ` +
    `Expected each RPC a clerk sends to serve the call it is in: during get(k), ${GET} { key: k }; during ` +
    `put(k, v, ver), ${PUT} { key: k, value: v, version: ver }; nothing between calls. Likely causes: an RPC for ` +
    'another key, or another operation, sent from inside a call (a hint, a prefetch, or an answer for the server: ' +
    'the server must decide from the call’s own key, value and version); a retry loop that goes on after its call ' +
    'returned; or RPCs sent from the clerk’s constructor or a timer, outside any call.'
  );
}

/** What is wrong with a copy of a call sent after a reply that answers it (`method` with `args`) reached the clerk. */
function resentProblem(method: string, args: unknown): string {
  return (
    `The clerk sent ${method} with ${show(args)} again after a reply that answers it had reached the clerk. ` +
    'Expected a copy of a call to go out only when the one before was lost (a TimeoutError) or refused ' +
    '(ErrWrongLeader, ErrWrongGroup): the first answer decides the call. Likely causes: a retry loop that does not ' +
    'stop at the first reply (check that each reply ends the loop unless it is a refusal); a reply taken for a ' +
    'failure because of its err (ErrNoKey and ErrVersion are answers too); or the same call sent to several ' +
    'servers one after another instead of stopping at the one that answered.'
  );
}

/** What is wrong with a copy of a call (`method` with `args`) sent while `pending` earlier copies were unsettled. */
function overlapProblem(method: string, args: unknown, pending: number): string {
  return (
    `The clerk sent ${method} with ${show(args)} again while ${pending === 1 ? 'the copy before it was' : `${pending} earlier copies were`} ` +
    'still unanswered. Expected a copy of a call to go out only when the one before was lost (a TimeoutError) or ' +
    'refused (ErrWrongLeader, ErrWrongGroup), so that a clerk sends one copy at a time and, after a whole round of ' +
    'servers without an answer, pauses. Likely causes: the call sent to every server at once (a broadcast with ' +
    'Promise.all or Promise.any) instead of one server after another; a timer of your own that gives up on a copy ' +
    'before labrpc does (labrpc rejects a lost call by itself; wait for it); or a retry loop that does not await the ' +
    'call it just sent.'
  );
}

/** What is wrong with a call's first copy (`method` with `args`) sent to `server`, when `answered` answered the last. */
function notToLastAnswerProblem(method: string, args: unknown, server: number, answered: number): string {
  return (
    `The clerk sent the first copy of ${method} with ${show(args)} to server ${server}, but server ${answered} answered ` +
    `its last call. Expected the first copy of each call to go to the server that answered last (it led then, and ` +
    'most likely still does): "It sends to the server that led last time". Likely causes: the clerk starts every ' +
    'call at server 0 (or at a random server) instead of remembering the leader; the leader remembered in a local ' +
    'variable of the call rather than in a field of the clerk; the remembered index moved on after the answer.'
  );
}

/** True when an RPC `method` with `args` is a copy of call `w` (other fields, such as ids, are the student's). */
function carries(w: ClerkCall, method: string, args: unknown): boolean {
  const a = args as { key?: unknown; value?: unknown; version?: unknown } | null;
  if (method !== w.method || a?.key !== w.key) return false;
  return method === GET || (a.value === w.value && a.version === w.version);
}

/** The RPCs of one clerk (shared by the tasks that use it), matched to its running gets and puts by their arguments. */
export class ClerkReplies {
  /** The gets and puts running now (made at the first: a memory test keeps 100,000 clerks). */
  private running: Set<ClerkCall> | undefined;
  /** Every RPC the watched ends sent. */
  calls = 0;
  /** The first RPC the clerk sent that is not one of the lab's with its exact fields, if any (argsProblem). */
  private badRpc: string | undefined;
  private readonly rules: ClerkRules;
  /** The watched ends, in the order the clerk got them (its servers' numbers). */
  private ends = 0;
  /** The server whose reply last answered a call of the clerk (not a refusal), if any yet. */
  private lastAnswer: number | undefined;

  constructor(rules: ClerkRules = NO_RULES) {
    this.rules = rules;
  }

  /** Routes `end`'s calls through the witness; the clerk gets the same end, the same replies. */
  watch(end: ClientEnd): void {
    const call = end.call;
    const server = this.ends++;
    const watched = <Reply>(sentMethod: string, args?: unknown): Promise<Reply> => {
      // What is judged is what is sent: one name, and the arguments read once.
      const name = methodOnce(sentMethod);
      if ('error' in name) return Promise.reject(name.error);
      const method = name.copy as string;
      const once = readOnce(args, `the arguments of ${method}`);
      if ('error' in once) return Promise.reject(once.error);
      return this.sent(method, once.copy, Reflect.apply(call, end, [method, once.copy]) as Promise<Reply>, server);
    };
    // Defined, not assigned: the grader freezes ClientEnd.prototype, and assigning over a frozen prototype's method fails.
    Object.defineProperty(end, 'call', { value: watched });
  }

  /**
   * Notes one RPC a clerk sent, `method` with `args`, whose reply is `reply`; returns the promise to hand the clerk,
   * which settles only once the witness has noted the reply (so the clerk never sees a reply the witness did not).
   */
  sent<Reply>(method: string, args: unknown, reply: Promise<Reply>, server?: number): Promise<Reply> {
    this.calls++;
    this.badRpc ??= argsProblem(method, args);
    // Before its first call as between calls: a clerk sends only for the call it is in.
    if (this.running === undefined || this.running.size === 0) {
      this.badRpc ??= offCallProblem(method, args, undefined);
      return reply;
    }
    const key = (args as { key?: unknown } | null)?.key;
    const mine: ClerkCall[] = [];
    for (const w of this.running) {
      if (w.rpcs.length < LISTED) w.rpcs.push([method, key]);
      if (carries(w, method, args)) mine.push(w);
    }
    if (mine.length === 0) {
      this.badRpc ??= offCallProblem(method, args, this.running);
      return reply;
    }
    // A copy sent after the call's answer came serves nothing: only a lost copy or a refusal calls for another.
    if (mine.every((w) => w.answered === true)) this.badRpc ??= resentProblem(method, args);
    // Nor does one sent while an earlier copy may still answer (unless tasks sharing the clerk run the same call).
    else if (mine.length === 1 && !mine[0].shared && mine[0].sent > mine[0].settled)
      this.badRpc ??= overlapProblem(method, args, mine[0].sent - mine[0].settled);
    // The first copy of a call running alone goes where the last call was answered.
    const first = mine.length === 1 && mine[0].sent === 0 && mine[0].alone === true;
    if (this.rules.firstToLastAnswer && first && server !== undefined && this.lastAnswer !== undefined)
      if (server !== this.lastAnswer) this.badRpc ??= notToLastAnswerProblem(method, args, server, this.lastAnswer);
    // Two running calls with the same arguments both get the copy: the checks below only ever get more lenient.
    for (const w of mine) {
      w.sent++;
      w.shared ||= mine.length > 1;
    }
    return reply.then(
      (r) => {
        const answer = answerOf(r, method);
        const err = (r as { err?: unknown } | null)?.err;
        for (const w of mine) {
          if (!w.answers.includes(answer)) {
            w.answers.push(answer);
            w.shown.push(shownAnswer(r, method));
          }
          w.settled++;
          if (err === 'OK' || err === 'ErrWrongLeader') w.doubtful++;
          // Only a copy that was this call's alone answers it (tasks sharing a clerk may run the same call at once).
          if (mine.length === 1 && err !== 'ErrWrongLeader' && err !== 'ErrWrongGroup') w.answered = true;
        }
        const alone = mine.length === 1 && mine[0].alone === true;
        if (alone && err !== 'ErrWrongLeader' && err !== 'ErrWrongGroup' && server !== undefined)
          this.lastAnswer = server;
        return r;
      },
      (error: unknown) => {
        for (const w of mine) w.settled++;
        throw error;
      },
    );
  }

  /** Starts watching one Clerk.get call. */
  beginGet(key: string): ClerkCall {
    return this.begin({
      method: GET,
      key,
      sent: 0,
      answers: [],
      shown: [],
      rpcs: [],
      doubtful: 0,
      settled: 0,
      shared: false,
    });
  }

  /** Starts watching one Clerk.put call. */
  beginPut(key: string, value: string, version: number): ClerkCall {
    return this.begin({
      method: PUT,
      key,
      value,
      version,
      sent: 0,
      answers: [],
      shown: [],
      rpcs: [],
      doubtful: 0,
      settled: 0,
      shared: false,
    });
  }

  private begin(w: ClerkCall): ClerkCall {
    const running = (this.running ??= new Set());
    // Calls side by side (tasks sharing the clerk) may each move the clerk's idea of the leader: the next call that
    // runs alone is not held to it, only the one after that call's answer.
    w.alone = running.size === 0;
    if (!w.alone) {
      for (const r of running) r.alone = false;
      this.lastAnswer = undefined;
    }
    running.add(w);
    return w;
  }

  /** Ends the watch of a get that returned `result`: what is wrong with that result, or undefined. */
  endGet(w: ClerkCall, result: unknown): string | undefined {
    this.running?.delete(w);
    if (this.badRpc !== undefined) return this.badRpc;
    if (w.answers.includes(answerOf(result, GET))) return undefined;
    return (
      `Clerk.get(${show(w.key)}) returned ${shownAnswer(result, GET)}, but no server sent this clerk that answer during the call ` +
      `(${this.heard(w)}). Expected get to return what a ${GET} reply for that key said: its err, and with OK its ` +
      'value and version. Likely causes: are you answering from a copy on the client (a cache, or a table shared ' +
      'with other clerks or with the server in one module)? Or the answer of an earlier call kept in the clerk; a ' +
      `reply for another key taken for this one; a result made up once retries gave up; an RPC sent under another ` +
      `name than ${GET}; or the reply's fields copied wrongly (the version changed on the way).`
    );
  }

  /** Ends the watch of a put that returned `result`: what is wrong with that result, or undefined. */
  endPut(w: ClerkCall, result: string): string | undefined {
    this.running?.delete(w);
    if (this.badRpc !== undefined) return this.badRpc;
    if (w.sent === 0 || result === 'ErrMaybe' || result === 'ErrVersion' || !w.answers.includes(result))
      return this.putProblem(w, result, `Clerk.put(${show(w.key)}, ${show(w.value)}, version ${w.version})`);
    return undefined;
  }

  /** What is wrong with `result` for put `w` (shown as `what`), or undefined: the checks endPut runs only when it may be wrong. */
  private putProblem(w: ClerkCall, result: string, what: string): string | undefined {
    if (w.sent === 0)
      return (
        `${what} returned ${show(result)} without sending a ${PUT} RPC with that key, value and version ` +
        `(${this.heard(w)}). Expected every put to be decided by a server: its answer is the reply of a ${PUT} the ` +
        'clerk sent with exactly these arguments. Likely causes: are you answering from a copy on the client (a ' +
        'cache, or a table shared with other clerks or with the server in one module)? Or a put skipped because the ' +
        'clerk believed it knew the answer (say, ErrVersion from a version it read earlier); the key, value or ' +
        `version rewritten on the way; or an RPC sent under another name than ${PUT}.`
      );
    if (result === 'ErrMaybe') {
      if (w.sent > 1 && w.answers.includes('ErrVersion')) return undefined;
      return (
        `${what} returned ErrMaybe after sending ${w.sent} ${w.sent === 1 ? 'copy' : 'copies'} of the Put RPC (${this.heard(w)}). ` +
        'Expected ErrMaybe only for a put sent more than once and answered ErrVersion (lab 2’s rule): OK means the ' +
        'put happened, whichever copy it was; ErrNoKey is certain even for a re-sent put (had an earlier copy ' +
        'succeeded, the key would exist); and a put sent once and answered ErrVersion did not happen. Likely causes: ' +
        'ErrMaybe returned for any answer after a retry (check the answer is ErrVersion); "re-sent" decided before ' +
        'the first copy went out; "re-sent" or the count of copies kept in a field of the clerk that another call ' +
        'resets or shares, not in the call (not in a field of the clerk that outlives the call); or a put given up ' +
        'after some lost copies (a clerk keeps re-sending until an answer arrives: no limit on attempts or time).'
      );
    }
    if (result === 'ErrVersion') {
      const doubt = this.doubt(w, what);
      if (doubt !== undefined) return doubt;
    }
    if (w.answers.includes(result)) return undefined;
    return (
      `${what} returned ${show(result)}, but no server answered that (${this.heard(w)}). Expected the clerk to ` +
      'return the answer of the server that leads (or ErrMaybe for a re-sent put answered ErrVersion). Likely ' +
      'causes: OK returned for a re-sent put answered ErrVersion, assuming the first copy moved the version (maybe ' +
      'the put did not happen: that is ErrMaybe); a result made up by the clerk after retries; the answer of an ' +
      'earlier put kept in the clerk; or an answer from a copy kept on the client (a cache, or a table shared with ' +
      'other clerks in one module).'
    );
  }

  /** With errVersionAfterDoubt: what is wrong with ErrVersion for a put a copy of which may have taken effect. */
  private doubt(w: ClerkCall, what: string): string | undefined {
    const causes = this.rules.errVersionAfterDoubt;
    // Settled copies answered OK or ErrWrongLeader, and copies lost or still on their way.
    const doubtful = w.doubtful + (w.sent - w.settled);
    if (causes === undefined || w.shared || doubtful === 0) return undefined;
    return (
      `${what} returned ErrVersion, but ${doubtful} of the ${w.sent} copies of the Put RPC it sent may have taken ` +
      `effect (lost on the way or back, or answered OK or ErrWrongLeader; ${this.heard(w)}). A copy that took effect ` +
      'makes every later copy ErrVersion, so the put may have happened: expected ErrMaybe (a put sent more than once ' +
      `that ends with ErrVersion returns ErrMaybe). Likely causes: ${causes}`
    );
  }

  /** What reached the clerk during call `w`, for a message. */
  private heard(w: ClerkCall): string {
    const answers = w.shown.length > 0 ? w.shown.join(', ') : 'none';
    const shown = w.rpcs.map(([method, key]) => (key === undefined ? method : `${method} for ${show(key)}`));
    const rpcs = shown.length > 0 ? `${shown.join(', ')}${shown.length === LISTED ? ', ...' : ''}` : 'none at all';
    return `the ${w.method} replies for ${show(w.key)} that reached it: ${answers}; the RPCs it sent during the call: ${rpcs}`;
  }
}
