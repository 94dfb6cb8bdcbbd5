/** The messages between lab 5's harness and the process that runs the code under test (student-host.ts): types, framing, signatures and checks. */
import * as crypto from 'node:crypto';

/** Data that survives JSON unchanged: all that crosses between the two processes. */
export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** One message is one line of JSON; a longer line ends the link (a value of lab 5 is at most a few MB). */
export const MAX_LINE_BYTES = 32 << 20;

/** What the host prints on stdout, once, before anything else: the port its channel listens on. */
export const READY_PREFIX = 'LAB5-HOST ';

/** What a kill -9 test's server process (child-server.ts) prints once it listens, before its ready word and port. */
export const CHILD_READY_PREFIX = 'LAB5-READY ';

/**
 * The kinds of object the host keeps for the harness, and the methods the harness may call on each: the code under
 * test's servers, clients and rings, and the kit's spies (host-spies.ts, disk-nemesis.ts), which run in the host
 * beside the student's server because what they watch (fs calls, socket writes, the heap) is only visible there.
 */
export const METHODS = {
  server: ['close'],
  client: ['indexFor', 'serverFor', 'command', 'set', 'get', 'del', 'expire', 'ttl', 'incr', 'keys', 'stats', 'close'],
  ring: ['add', 'remove', 'nodeFor'],
  syncWatch: ['setServerPort', 'report', 'stop'],
  crashCopies: ['arm', 'setDiskFull', 'pingAtNextSnapshot', 'report', 'stop'],
  diskNemesis: ['configure', 'watchProbe', 'powerCutsAtSnapshot', 'copyNow', 'report', 'stop'],
} as const;

export type ObjectKind = keyof typeof METHODS;

/** Harness → host. Every request gets exactly one reply with its `id`. */
export type Request =
  /** startServer(options): the reply's value is { ref, port, host }. */
  | { readonly id: number; readonly op: 'start-server'; readonly options: Plain }
  /** new ShardedClient(servers, options): `onRetry` asks for a 'retry' event before each retry. */
  | {
      readonly id: number;
      readonly op: 'new-client';
      readonly servers: Plain;
      readonly options: Plain;
      readonly onRetry: boolean;
    }
  /** new HashRing(nodes, vnodes) (either may be absent). */
  | { readonly id: number; readonly op: 'new-ring'; readonly args: Plain[] }
  /** md5Shard(key, servers). */
  | { readonly id: number; readonly op: 'md5-shard'; readonly args: Plain[] }
  /** Loads the code under test (the host starts without it, so that spies can be installed first). */
  | { readonly id: number; readonly op: 'load' }
  /** A SyncWatch of the folder `dir` and the server on `serverPort`: the reply's value is { ref }. */
  | { readonly id: number; readonly op: 'watch-syncs'; readonly dir: string; readonly serverPort: number }
  /** CrashCopies of the folder `dir`, its two copies made into the empty folders `into`: { ref }. */
  | { readonly id: number; readonly op: 'crash-copies'; readonly dir: string; readonly into: string[] }
  /** A DiskNemesis of `dir` (its draws keyed by `seed` and `key`), its copies made into the empty folders `into`: { ref }. */
  | {
      readonly id: number;
      readonly op: 'disk-nemesis';
      readonly dir: string;
      readonly seed: number;
      readonly key: string;
      readonly into: string[];
      readonly maxCopies: number;
    }
  /** Copies the folder `dir` into the empty folder `into` at once, between two steps of the server: kill -9 now. */
  | { readonly id: number; readonly op: 'copy-folder'; readonly dir: string; readonly into: string }
  /** The host's live memory after full collections (heap and external), bytes: the reply's value is a number. */
  | { readonly id: number; readonly op: 'weigh-heap' }
  /** The host's resident memory as the kernel counts it (no collection first), bytes: the reply's value is a number. */
  | { readonly id: number; readonly op: 'weigh-rss' }
  /** The timers the code under test set in the host that are still live: the reply's value is each one's delay, ms. */
  | { readonly id: number; readonly op: 'live-timers' }
  /** A method of an object the host keeps. */
  | { readonly id: number; readonly op: 'call'; readonly ref: number; readonly method: string; readonly args: Plain[] }
  /**
   * Methods of one object the host keeps, called one after another in the host, each as soon as the one before it
   * settled (returned or threw), in the same tick: "at once" as the code's own process sees it, not a round trip
   * later. The calls are made again and again until `forMs` has passed (0: once). The reply's value is one
   * InTurnOutcome per call made.
   */
  | {
      readonly id: number;
      readonly op: 'calls-in-turn';
      readonly ref: number;
      readonly calls: Array<{ readonly method: string; readonly args: Plain[] }>;
      readonly forMs: number;
    };

/** What one call of a 'calls-in-turn' request did: its value (null for undefined), or the error it threw. */
export type InTurnOutcome<E = WireError> = { readonly value: Plain } | { readonly error: E };

/** A 'calls-in-turn' request stops after this many calls (a loop whose calls fail at once would never yield). */
export const MAX_CALLS_IN_TURN = 200_000;

/** A 'calls-in-turn' request may last at most this long (ms): the link gives up on a reply after 60 s. */
export const MAX_IN_TURN_MS = 30_000;

/** A request before the link numbers it. */
export type RequestBody = Request extends infer R ? (R extends { readonly id: number } ? Omit<R, 'id'> : never) : never;

/** An error as it crosses: its name, message, stack text and plain own fields (code, attempts, server, ...). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly fields: { [key: string]: Plain };
}

/** Host → harness. */
export type HostMessage =
  /** The reply to request `id`: a value (absent for undefined) or the error the code under test threw. */
  | { readonly id: number; readonly value?: Plain; readonly error?: WireError }
  /** ShardedClient `ref` is about to retry (its onRetry was called). */
  | { readonly event: 'retry'; readonly ref: number; readonly notice: Plain }
  /** The code under test threw where nothing could catch it; the host exits after this. */
  | { readonly event: 'crash'; readonly kind: 'uncaught' | 'unhandled-rejection'; readonly error: WireError };

/** A RespError reply, as it crosses (RespReply's only non-plain value). */
export interface WireRespError {
  readonly $respError: string;
}

/**
 * The clock the spies' reports and the harness's timelines share: microseconds of the system's monotonic clock,
 * which every process of the machine reads alike (a crash copy taken in the host at `t` is compared with when the
 * harness sent and received each command).
 */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The length of a signing key, bytes (hex on the host's command line). */
export const KEY_BYTES = 32;

/** A fresh signing key, made by the harness for one host. */
export function newSigningKey(): string {
  return crypto.randomBytes(KEY_BYTES).toString('hex');
}

/**
 * The signature of the `seq`-th message (0, 1, ...) the host sends, whose JSON is `json`. Every line from the host is
 * "<signature> <json>": the key is on the host's command line, which kit code reads and removes before the code under
 * test loads (that code has no `process` and, under the grader, may not read /proc), so a line the code under test
 * writes to the channel's descriptor cannot carry a valid signature, and the count makes a replayed or injected line
 * put every later one out of step.
 */
export function sign(key: crypto.KeyObject, seq: number, json: string): string {
  return crypto.createHmac('sha256', key).update(`${seq}\n${json}`).digest('hex');
}

/**
 * The key of a host's lines, from its hex, as an opaque KeyObject (its bytes in native memory). The bytes pass only
 * through a Buffer of their own, zeroed at once: never through node's shared 8 KiB pool, which `Buffer.from` of a
 * short string uses and which any small Buffer of the same process exposes (`Buffer.from('x').buffer`).
 */
export function signingKey(hex: string): crypto.KeyObject {
  const bytes = Buffer.alloc(KEY_BYTES); // alloc, unlike from and allocUnsafe, never takes from the pool
  bytes.write(hex, 'hex');
  const key = crypto.createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

/** A host message as one signed line. */
export function signedLine(key: crypto.KeyObject, seq: number, msg: HostMessage): string {
  const json = JSON.stringify(msg);
  return `${sign(key, seq, json)} ${json}\n`;
}

/** The JSON of a signed line if its signature is that of the `seq`-th message, else undefined. */
export function verifiedJson(key: crypto.KeyObject, seq: number, line: string): string | undefined {
  const space = line.indexOf(' ');
  if (space !== 64) return undefined;
  const got = Buffer.from(line.slice(0, space), 'utf8');
  const json = line.slice(space + 1);
  const want = Buffer.from(sign(key, seq, json), 'utf8');
  return got.length === want.length && crypto.timingSafeEqual(got, want) ? json : undefined;
}

/** JSON text parsed, or undefined. */
export function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Splits a byte stream into lines and hands each to `onLine`; returns the function to feed it. */
export function lineReader(onLine: (line: string) => void, onTooLong: () => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  let size = 0;
  return (chunk) => {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      parts.push(chunk.subarray(from, nl));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      size = 0;
      from = nl + 1;
      onLine(line);
    }
    if (from < chunk.length) {
      parts.push(chunk.subarray(from));
      size += chunk.length - from;
      if (size > MAX_LINE_BYTES) {
        parts = [];
        size = 0;
        onTooLong();
      }
    }
  };
}

/** A request as one line. */
export function frame(msg: Request): string {
  return `${JSON.stringify(msg)}\n`;
}

/** True for a plain object (not an array, not null). */
export function isRecord(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string of at most `max` characters, or undefined. */
function boundedString(v: unknown, max: number): string | undefined {
  return typeof v === 'string' ? v.slice(0, max) : undefined;
}

/** Checks an error that came over the wire; anything malformed becomes an error that says so. */
export function readWireError(v: unknown): WireError {
  if (!isRecord(v)) return { name: 'Error', message: '(the host sent a malformed error)', stack: '', fields: {} };
  const fields: { [key: string]: Plain } = {};
  if (isRecord(v.fields))
    for (const [k, f] of Object.entries(v.fields).slice(0, 32))
      if (!['name', 'message', 'stack'].includes(k)) fields[k] = f as Plain;
  return {
    name: boundedString(v.name, 200) ?? 'Error',
    message: boundedString(v.message, 20_000) ?? '',
    stack: boundedString(v.stack, 20_000) ?? '',
    fields,
  };
}
