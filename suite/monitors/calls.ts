/** The monitors' book of RPCs: each call's sender, receiver and fate, told to the rules that watch them. */
import { createHash } from 'node:crypto';
import type { CallListener, HeardCall, World } from '../../world';

/** One RPC as the monitors see it. */
export interface CallRecord {
  /** Who sent it: the end's owner ("client 3", "server 0"), else the end's name. */
  readonly sender: string;
  /** The server it was sent to. */
  readonly receiver: string;
  readonly method: string;
  /** Virtual ms at which it was sent. */
  readonly sentAt: number;
  /** How many other calls of its sender were still unsettled when it was sent (0: its sender waited for each). */
  readonly othersInFlight: number;
  /** How many of those were to the same receiver. */
  readonly othersToReceiver: number;
  /** The arguments as sent. */
  readonly args: unknown;
  /** Sent by the tester itself: counted in flight, judged by no rule. */
  readonly tester: boolean;
  /**
   * Sent through an end the tester shares among several tasks of its own (Network.shareEnd): one task's new call may
   * look like another's retry, so a rule judges such a sender only where it can tell its calls apart.
   */
  readonly shared: boolean;
  /** The handler's reply, once it answered. */
  reply?: unknown;
  /** Its arguments' key (argsKey), once written. */
  key?: string;
}

/** What a rule hears from the book. */
export interface CallRule {
  sent(call: CallRecord, now: number): void;
  /** The call failed: lost (`refusal` undefined) or answered with an error the book was told refuses it. */
  failed(call: CallRecord, refusal: string | undefined, now: number): void;
  /** The call was answered, and not refused. */
  answered(call: CallRecord, now: number): void;
}

/** Arguments written longer than this are keyed by their digest: the rules compare and hash keys often. */
const DIGEST_ABOVE_CHARS = 256;

/**
 * A call's arguments as a string that equals another's exactly when they are the same call (cached on the record):
 * JSON with the fields of every object in sorted order, so that the same fields sent in another order are the same
 * call, as in sameCall. Long arguments (a batch of large values) are keyed by their SHA-256 and length, so that no
 * rule compares megabytes of text each time it looks a call up.
 */
export function argsKey(call: CallRecord): string {
  const known = call.key;
  if (known !== undefined) return known;
  let text: string;
  try {
    text = sortedJson(call.args, 0) ?? '';
  } catch {
    // Not plain data (a class's object, a cycle, a bigint): JSON.stringify's own rules, and its errors.
    try {
      text = JSON.stringify(call.args, sortedFields) ?? '';
    } catch {
      text = String(call.args);
    }
  }
  const short = text.length <= DIGEST_ABOVE_CHARS;
  const key = `${call.method} ${short ? text : `#${createHash('sha256').update(text).digest('base64')} ${text.length}`}`;
  call.key = key;
  return key;
}

/** Nesting deeper than this is left to JSON.stringify (which names a cycle). */
const SORTED_JSON_DEPTH = 64;

/**
 * Plain data as JSON with each object's fields in sorted order (undefined where JSON writes nothing): equal data
 * gives the same text, and other data another. Throws on anything else, which argsKey then writes with
 * JSON.stringify and sortedFields: that calls the replacer for each value and builds a sorted copy of each object,
 * which was most of the monitors' time in lab 3's nemesis tests.
 */
function sortedJson(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    case 'bigint':
      throw new TypeError('a bigint is no JSON');
    default:
      return undefined; // undefined, a function, a symbol: left out, or null in an array
  }
  if (v === null) return 'null';
  if (depth > SORTED_JSON_DEPTH) throw new TypeError('too deep');
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) throw new TypeError('not a plain array');
    let out = '[';
    for (let i = 0; i < v.length; i++) out += `${i > 0 ? ',' : ''}${sortedJson(v[i], depth + 1) ?? 'null'}`;
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new TypeError('not a plain object');
  const o = v as Record<string, unknown>;
  let out = '{';
  for (const k of Object.keys(o).sort()) {
    const x = sortedJson(o[k], depth + 1);
    if (x === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${x}`;
  }
  return `${out}}`;
}

/** JSON.stringify's replacer that writes each plain object's fields in sorted order. */
function sortedFields(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(value).sort()) sorted[k] = (value as Record<string, unknown>)[k];
  return sorted;
}

/** Whether two calls are the same call: the same method and equal arguments (stops at the first difference). */
export function sameCall(a: CallRecord, b: CallRecord): boolean {
  return a.method === b.method && sameValue(a.args, b.args);
}

/** Deep equality of plain data (what crosses the network), stopping at the first difference. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of ka) if (!Object.hasOwn(rb, k) || !sameValue(ra[k], rb[k])) return false;
  return true;
}

/** "client 3 -> server 0": one sender and one receiver, as messages name them. */
export function pairName(call: CallRecord): string {
  return `${call.sender} -> ${call.receiver}`;
}

/** One sender's unsettled calls: in all, and by receiver (a receiver's count stays at 0 once its calls settle). */
interface Unsettled {
  all: number;
  readonly byReceiver: Map<string, number>;
}

/**
 * An unsettled call's entry, kept on the call (HeardCall.bookNote) and in the book's list of unsettled calls: its
 * record, its sender's count, and whether its handler runs now (delivered, not yet answered) and the code under
 * test sent it.
 */
interface Entry {
  readonly record: CallRecord;
  readonly unsettled: Unsettled;
  held: boolean;
  /** Its neighbours in the list of unsettled calls. */
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Senders with no unsettled call that the book may keep before it forgets them (see `senderOf`). */
const IDLE_SENDERS = 1024;

/** Listens to a world's RPCs and tells each rule what became of every call; counts the calls still in flight. */
export class CallBook implements CallListener {
  private readonly world: World;
  private readonly rules: readonly CallRule[];
  private readonly refusals: ReadonlySet<string>;
  /**
   * The unsettled calls, oldest first. The timer bound counts only one of those the code under test holds in a
   * handler per sender and receiver, since each the code held would otherwise buy a timer (the tester's own calls
   * and a shared end's count in full: the tester chose how many run at once). A list and a note on each call, not a
   * map by call: a map filled and emptied at every call rebuilds its table each time it empties.
   */
  private first: Entry | undefined;
  private last: Entry | undefined;
  /** Each sender's count of unsettled calls, kept while it has one (and a while after: `senderOf`). */
  private readonly unsettled = new Map<string, Unsettled>();
  /** When `unsettled` grows past this many senders, those with no unsettled call are forgotten. */
  private forgetAbove = IDLE_SENDERS;
  private inFlight = 0;

  constructor(world: World, rules: readonly CallRule[], refusals: ReadonlySet<string>) {
    this.world = world;
    this.rules = rules;
    this.refusals = refusals;
  }

  /** Calls sent and not yet answered or failed. */
  get callsInFlight(): number {
    return this.inFlight;
  }

  /**
   * The calls in flight the timer bound allows a timer each: every one, except that of the calls the code under test
   * holds in a handler (delivered, not answered), one per sender and receiver counts.
   */
  get callsAllowed(): number {
    let held = 0;
    const pairs = new Set<string>();
    for (let e = this.first; e; e = e.next)
      if (e.held) {
        held++;
        pairs.add(`${e.record.sender}\n${e.record.receiver}`);
      }
    return this.inFlight - held + pairs.size;
  }

  sent(call: HeardCall, args: unknown): void {
    const sender = call.owner ?? call.endName;
    const unsettled = this.senderOf(sender);
    const othersToReceiver = unsettled.byReceiver.get(call.serverName) ?? 0;
    const now = this.world.now();
    const record: CallRecord = {
      sender,
      receiver: call.serverName,
      method: call.method,
      sentAt: now,
      othersInFlight: unsettled.all,
      othersToReceiver,
      args,
      tester: call.tester,
      shared: call.shared,
      reply: undefined,
      key: undefined,
    };
    const entry: Entry = { record, unsettled, held: false, prev: this.last, next: undefined };
    if (this.last) this.last.next = entry;
    else this.first = entry;
    this.last = entry;
    call.bookNote = entry;
    unsettled.all++;
    unsettled.byReceiver.set(call.serverName, othersToReceiver + 1);
    this.inFlight++;
    // The tester's own calls count as in flight (a write waiting for its quorum), but no rule judges them.
    if (!record.tester) for (const rule of this.rules) rule.sent(record, now);
  }

  delivered(call: HeardCall): void {
    if (call.tester || call.shared) return;
    const entry = call.bookNote as Entry | undefined;
    if (entry) entry.held = true;
  }

  handled(call: HeardCall, reply: unknown): void {
    const entry = call.bookNote as Entry | undefined;
    if (!entry) return;
    entry.record.reply = reply;
    entry.held = false;
  }

  replied(call: HeardCall): void {
    const record = this.settle(call);
    if (!record || record.tester) return;
    const err = (record.reply as { err?: unknown } | null | undefined)?.err;
    const refusal = typeof err === 'string' && this.refusals.has(err) ? err : undefined;
    const now = this.world.now();
    for (const rule of this.rules) {
      if (refusal === undefined) rule.answered(record, now);
      else rule.failed(record, refusal, now);
    }
  }

  halted(): void {
    for (let e = this.first; e;) {
      const next = e.next;
      e.prev = e.next = undefined;
      e = next;
    }
    this.first = this.last = undefined;
    this.unsettled.clear();
    this.inFlight = 0;
  }

  timedOut(call: HeardCall): void {
    const record = this.settle(call);
    if (!record || record.tester) return;
    const now = this.world.now();
    for (const rule of this.rules) rule.failed(record, undefined, now);
  }

  /** Forgets a settled call; its record, or undefined if it was settled already. */
  private settle(call: HeardCall): CallRecord | undefined {
    const entry = call.bookNote as Entry | undefined;
    if (!entry) return undefined;
    call.bookNote = undefined;
    if (entry.prev) entry.prev.next = entry.next;
    else if (this.first === entry) this.first = entry.next;
    else return undefined; // forgotten when its network halted
    if (entry.next) entry.next.prev = entry.prev;
    else this.last = entry.prev;
    entry.prev = entry.next = undefined;
    this.inFlight--;
    const { record, unsettled } = entry;
    unsettled.all--;
    unsettled.byReceiver.set(record.receiver, (unsettled.byReceiver.get(record.receiver) ?? 1) - 1);
    return record;
  }

  /**
   * `sender`'s count of unsettled calls. A sender's count stays when its calls settle (a map entry made and dropped
   * at every call rebuilds the map's table each time), and those at 0 are forgotten once the map grows past twice
   * the senders it kept at the last such pass, or IDLE_SENDERS: a test that makes 100,000 clerks keeps few.
   */
  private senderOf(sender: string): Unsettled {
    let unsettled = this.unsettled.get(sender);
    if (unsettled !== undefined) return unsettled;
    if (this.unsettled.size >= this.forgetAbove) {
      for (const [name, u] of this.unsettled) if (u.all === 0) this.unsettled.delete(name);
      this.forgetAbove = Math.max(IDLE_SENDERS, 2 * this.unsettled.size);
    }
    this.unsettled.set(sender, (unsettled = { all: 0, byReceiver: new Map() }));
    return unsettled;
  }
}
