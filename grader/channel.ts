/**
 * The grader's channel, used by both of its ends (the supervisor and the sandboxed test process): messages are
 * JSON objects, one per line; a line that is not JSON is dropped (it is not the harness's); a line may be
 * megabytes long (a trace) without the reader rescanning it. And the mailbox each end waits on.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/**
 * Splits a byte stream into lines and hands each line's JSON to `onMessage`; returns the function to feed it. A
 * character whose UTF-8 bytes a chunk cuts in two is decoded once its last byte arrives (decoding each chunk on its
 * own would turn it into replacement characters, and a signed verdict holding it would no longer match its MAC).
 */
export function lineReader(onMessage: (msg: unknown) => void): (chunk: Buffer | string) => void {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  let scanned = 0; // the start of `buffered` already searched for a line end
  return (chunk) => {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (let nl = buffered.indexOf('\n', scanned); nl >= 0; nl = buffered.indexOf('\n')) {
      scanned = 0;
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let msg: unknown;
      try {
        msg = JSON.parse(line) as unknown;
      } catch {
        continue;
      }
      onMessage(msg);
    }
    scanned = buffered.length;
  };
}

/** Reads `stream` as a channel: each message goes to `onMessage`. */
export function readChannel(stream: Readable, onMessage: (msg: unknown) => void): void {
  stream.on('data', lineReader(onMessage));
}

/** The timer functions a mailbox waits with (the supervisor's real ones; the sandbox never waits with a timeout). */
export interface MailboxTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A queue one reader waits on: `put` from anywhere, `next` in turn. */
export class Mailbox<T> {
  private readonly timers?: MailboxTimers;
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;

  constructor(timers?: MailboxTimers) {
    this.timers = timers;
  }

  /** Adds an item, waking the reader if it waits. */
  put(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  /** The next item; with `timeoutMs`, undefined when that passes first. */
  next(timeoutMs?: number): Promise<T | undefined> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    return new Promise((resolve) => {
      const timers = this.timers;
      const timer =
        timeoutMs === undefined || !timers
          ? undefined
          : timers.setTimeout(
              () => {
                this.wake = undefined;
                resolve(undefined);
              },
              Math.max(0, timeoutMs),
            );
      this.wake = () => {
        if (timer !== undefined) timers?.clearTimeout(timer);
        this.wake = undefined;
        resolve(this.items.shift());
      };
    });
  }
}
