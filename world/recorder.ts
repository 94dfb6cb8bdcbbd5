/** The trace recorder: what a replay with recording on saw (messages, faults, operations, printed lines, the failure). */
import { brandHarness } from './brand';

/** Why a message was lost. `disabled`: the end was disabled (a partition or a stopped node); `killed`: the server was removed or replaced. */
export type LossCause = 'unreliable' | 'disabled' | 'killed' | 'closed';

/** One recorded fact. `t` is virtual time in ms; `id` ties the events of one RPC (or of one clerk operation) together. */
export type TraceEvent =
  /** An RPC was sent from lane `from` through end `end` to server `to`. */
  | {
      readonly k: 'call';
      readonly t: number;
      readonly id: number;
      readonly from: string;
      readonly end: string;
      readonly to: string;
      readonly method: string;
      readonly args: unknown;
    }
  /** The request reached the server's handler. */
  | { readonly k: 'deliver'; readonly t: number; readonly id: number }
  /** The handler answered (the reply is now on its way, or lost: a `drop` follows). */
  | { readonly k: 'handled'; readonly t: number; readonly id: number; readonly reply: unknown }
  /** The reply reached the caller. */
  | { readonly k: 'reply'; readonly t: number; readonly id: number }
  /** The request or the reply was lost, and why. */
  | {
      readonly k: 'drop';
      readonly t: number;
      readonly id: number;
      readonly which: 'request' | 'reply';
      readonly why: LossCause;
    }
  /** The caller's call failed with a TimeoutError. */
  | { readonly k: 'timeout'; readonly t: number; readonly id: number }
  /** The network changed: a server started or was killed, an end was enabled or disabled, reliability changed. */
  | { readonly k: 'net'; readonly t: number; readonly lane: string; readonly what: string }
  /** A clerk operation began (from the test's history recorder). */
  | { readonly k: 'op'; readonly t: number; readonly id: number; readonly lane: string; readonly input: unknown }
  /** That operation returned. */
  | { readonly k: 'ret'; readonly t: number; readonly id: number; readonly output: unknown }
  /** A consensus peer's role changed (lab 6): drawn as a band on its lane from now until its next change. */
  | {
      readonly k: 'role';
      readonly t: number;
      readonly lane: string;
      readonly role: 'follower' | 'candidate' | 'leader' | 'crashed' | 'unknown';
      /** Its term (absent while crashed or when its state could not be read). */
      readonly term?: number;
    }
  /** A line the code under test printed, on the lane of whoever was running. */
  | { readonly k: 'log'; readonly t: number; readonly lane: string; readonly text: string }
  /** The test failed here. */
  | { readonly k: 'fail'; readonly t: number; readonly message: string };

/** A finished recording, as it travels inside a signed test outcome. */
export interface TraceData {
  /** The events kept, oldest first (the latest ones when there were too many). */
  readonly events: readonly TraceEvent[];
  /** Events left out from the start of the run, to keep the size bounded. */
  readonly cut: number;
  /** The most events a recording keeps. */
  readonly limit: number;
  /** 'real' for a real-time test's transcript (ms since the test began, as its clients saw them); virtual time otherwise. */
  readonly clock?: 'virtual' | 'real';
}

/** At most this many events are kept (the latest: the failure is at the end). */
export const TRACE_EVENT_LIMIT = 100_000;
/** A recorded value (arguments, reply, input) longer than this as JSON is kept as a cut string. */
const VALUE_CHARS = 240;
/** A printed line longer than this is cut. */
const LINE_CHARS = 400;

/** The lane of code that runs for no particular client or server (the test body itself). */
export const TEST_LANE = 'test';

/** Collects a run's events; a world has one only when recording is on. */
export class TraceRecorder {
  private readonly limit: number;
  private events: TraceEvent[] = [];
  private cut = 0;
  private nextId = 1;

  constructor(limit = TRACE_EVENT_LIMIT) {
    this.limit = limit;
  }

  /** A fresh id for an RPC or an operation. */
  id(): number {
    return this.nextId++;
  }

  /** Adds an event, forgetting the oldest ones past the limit. */
  add(ev: TraceEvent): void {
    this.events.push(ev);
    if (this.events.length >= 2 * this.limit) {
      const drop = this.events.length - this.limit;
      this.events = this.events.slice(drop);
      this.cut += drop;
    }
  }

  /** Records printed text, one event per non-empty line. */
  print(t: number, lane: string, text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() !== '')
        this.add({ k: 'log', t, lane, text: line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}…` : line });
    }
  }

  /** The recording so far. */
  data(): TraceData {
    const keep = this.events.length > this.limit ? this.events.length - this.limit : 0;
    return { events: this.events.slice(keep), cut: this.cut + keep, limit: this.limit };
  }
}

/** `trace` with its oldest events left out until it is at most `maxChars` characters as JSON. */
export function boundTrace(trace: TraceData, maxChars: number): TraceData {
  let t = trace;
  while (t.events.length > 0 && JSON.stringify(t).length > maxChars) {
    const drop = Math.ceil(t.events.length / 4);
    t = { ...t, events: t.events.slice(drop), cut: t.cut + drop };
  }
  return t;
}

/** A value as recorded: itself when small, else the start of its JSON. */
export function recordedValue(v: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return String(v);
  }
  if (json === undefined) return null;
  return json.length <= VALUE_CHARS
    ? (JSON.parse(json) as unknown)
    : `${json.slice(0, VALUE_CHARS)}… (${json.length} characters)`;
}

brandHarness(TraceRecorder);
