/** The messages between lab 5's harness and the process that runs the code under test (student-host.ts): types, framing and checks. */

/** Data that survives JSON unchanged: all that crosses between the two processes. */
export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** One message is one line of JSON; a longer line ends the link (a value of lab 5 is at most a few MB). */
export const MAX_LINE_BYTES = 32 << 20;

/** What the host prints on stdout, once, before anything else: the port its channel listens on. */
export const READY_PREFIX = 'LAB5-HOST ';

/** The kinds of object the host keeps for the harness, and the methods the harness may call on each. */
export const METHODS = {
  server: ['close'],
  client: ['indexFor', 'serverFor', 'command', 'set', 'get', 'del', 'expire', 'ttl', 'incr', 'keys', 'stats', 'close'],
  ring: ['add', 'remove', 'nodeFor'],
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

/** Splits a byte stream into lines and hands each parsed one to `onMessage`; returns the function to feed it. */
export function lineReader(onMessage: (msg: unknown) => void, onTooLong: () => void): (chunk: Buffer) => void {
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
      let msg: unknown;
      try {
        msg = JSON.parse(line) as unknown;
      } catch {
        msg = undefined;
      }
      onMessage(msg);
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

/** A message as one line. */
export function frame(msg: HostMessage | Request): string {
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
