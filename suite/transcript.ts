/** What a real-time test's clients said and heard, per connection, in real time: the trace page draws it as it draws RPCs. */
import { TraceRecorder, realNow, recordedValue, type TraceData } from '../world';

/** Recorded commands beyond this many are forgotten from the start (the failure is at the end). */
const TRANSCRIPT_EVENTS = 20_000;

/** Characters of one string kept in a transcript. */
const STRING_CHARS = 80;

/**
 * `v` with every string cut to STRING_CHARS as a fresh copy (a plain slice would keep the whole original alive: a
 * memory test must not see the transcript hold its 100 kB values) and every Buffer described by its length.
 */
export function bounded(v: unknown, depth = 0): unknown {
  if (typeof v === 'string')
    return v.length <= STRING_CHARS ? v : `${Buffer.from(v.slice(0, STRING_CHARS)).toString()}… (${v.length} chars)`;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (depth > 3 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.slice(0, 20).map((x) => bounded(x, depth + 1));
  return Object.fromEntries(
    Object.entries(v)
      .slice(0, 20)
      .map(([k, x]) => [k, bounded(x, depth + 1)]),
  );
}

/** A real-time test's transcript: each command is an arrow from its connection's lane to the server's, with its reply. */
export class Transcript {
  private readonly rec = new TraceRecorder(TRANSCRIPT_EVENTS);
  private readonly started = realNow();

  /** Real ms since the test began. */
  now(): number {
    return realNow() - this.started;
  }

  /** A command sent on `lane` to `server`; returns its id for `replied`. */
  command(lane: string, server: string, method: string, args: unknown): number {
    const id = this.rec.id();
    this.rec.add({
      k: 'call',
      t: this.now(),
      id,
      from: lane,
      end: lane,
      to: server,
      method,
      args: recordedValue(bounded(args)),
    });
    return id;
  }

  /** The reply to command `id` arrived (a real-time client sees only that: delivery and handling are not observed). */
  replied(id: number, reply: unknown): void {
    const t = this.now();
    this.rec.add({ k: 'deliver', t, id });
    this.rec.add({ k: 'handled', t, id, reply: recordedValue(bounded(reply)) });
    this.rec.add({ k: 'reply', t, id });
  }

  /** A note on a lane: bytes sent as they are, a reply nobody asked for, a connection closed. */
  note(lane: string, text: string): void {
    this.rec.add({ k: 'log', t: this.now(), lane, text: bounded(text) as string });
  }

  /** The recording, ending with the failure. */
  data(failure: string): TraceData {
    this.rec.add({ k: 'fail', t: this.now(), message: failure });
    return { ...this.rec.data(), clock: 'real' };
  }
}
