/** One RPC on the simulated network, from send to its end: where it goes, its own random draws, and how it settles. */
import type { Rng } from '../world';
import type { ObservedCall } from './observer';

/** Whether the fault chance chose for a message of one call happens; `kind` tells a drop from a hold. */
export type FaultDecider = (which: 'request' | 'reply', what: string, kind?: 'drop' | 'hold') => boolean;

/** What a call is, fixed when it is sent: its fields below, and the fault decider of a minimizing replay. */
export type CallInit = Pick<
  Call,
  'id' | 'endName' | 'owner' | 'tester' | 'shared' | 'serverName' | 'method' | 'from' | 'args' | 'rng'
> & {
  /** In a minimizing replay, decides whether each fault chance chose for this call happens. */
  readonly fault: FaultDecider | undefined;
};

/** How many calls of one end are not yet settled: each call lowers it once, as it settles. */
export interface Unsettled {
  n: number;
}

/** A call in flight. It settles once: with a reply, or with an error (a TimeoutError or a usage error). */
export class Call implements ObservedCall {
  readonly id: number;
  readonly endName: string;
  /** Who sends through the end (its lane's name), if the end was given one. */
  readonly owner: string | undefined;
  /** Sent by the tester itself, through an end made for it (Network.makeEnd's `tester`). */
  readonly tester: boolean;
  /** Sent through an end the tester shares among several tasks of its own (Network.shareEnd). */
  readonly shared: boolean;
  readonly serverName: string;
  readonly method: string;
  readonly from: string | undefined;
  /** The arguments as the handler receives them (a deep copy of the caller's). */
  readonly args: unknown;
  /** The call's own random draws (delays, drops, holds), keyed by its end and its number on that end. */
  readonly rng: Rng;
  private readonly fault: FaultDecider | undefined;
  private readonly onResolve: (value: unknown) => void;
  private readonly onReject: (err: unknown) => void;
  private readonly unsettled: Unsettled;
  private open = true;
  /** The run's call book's note of the call while it is unsettled (HeardCall.bookNote). */
  bookNote: unknown = undefined;

  /** `unsettled` counts this call until it first resolves or rejects. */
  constructor(init: CallInit, resolve: (value: unknown) => void, reject: (err: unknown) => void, unsettled: Unsettled) {
    this.id = init.id;
    this.endName = init.endName;
    this.owner = init.owner;
    this.tester = init.tester;
    this.shared = init.shared;
    this.serverName = init.serverName;
    this.method = init.method;
    this.from = init.from;
    this.args = init.args;
    this.rng = init.rng;
    this.fault = init.fault;
    this.onResolve = resolve;
    this.onReject = reject;
    this.unsettled = unsettled;
  }

  /** Whether a fault chance chose happens (always, except in a minimizing replay that removed it). */
  allows(which: 'request' | 'reply', what: string, kind?: 'drop' | 'hold'): boolean {
    return !this.fault || this.fault(which, what, kind);
  }

  /** The caller gets `value`. */
  resolve(value: unknown): void {
    this.settle();
    this.onResolve(value);
  }

  /** The caller's promise rejects with `err`. */
  reject(err: unknown): void {
    this.settle();
    this.onReject(err);
  }

  private settle(): void {
    if (!this.open) return;
    this.open = false;
    this.unsettled.n--;
  }
}
