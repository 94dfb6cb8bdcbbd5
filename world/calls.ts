/** What a world's networks tell about each RPC to whoever listens besides the trace (the runner's monitors). */

/** The facts of one RPC a listener is told: who sent it, to whom, what. */
export interface HeardCall {
  /** The caller's end. */
  readonly endName: string;
  /** Who sends through the end (a client's or a server's lane), if the end was given an owner. */
  readonly owner: string | undefined;
  /** Sent by the tester itself (an end made for it), not by the code under test. */
  readonly tester: boolean;
  /** Sent through an end the tester shares among several tasks of its own (Network.shareEnd). */
  readonly shared: boolean;
  /** The server the end is connected to. */
  readonly serverName: string;
  /** "Service.Method". */
  readonly method: string;
  /**
   * The run's call book's note of the call while it is unsettled (suite/monitors/calls.ts), kept on the call itself
   * so that no table by call is filled and emptied at every call; undefined before it is sent and once it settles.
   */
  bookNote: unknown;
}

/** Hears every RPC of a world's networks, step by step (World.listenCalls). */
export interface CallListener {
  /** The call left its sender with these arguments (as the handler will receive them). */
  sent(call: HeardCall, args: unknown): void;
  /** The request reached the server: its handler runs now (until `handled`). */
  delivered?(call: HeardCall): void;
  /** The handler answered `reply` (it may still be lost on the way back). */
  handled(call: HeardCall, reply: unknown): void;
  /** The reply reached the sender. */
  replied(call: HeardCall): void;
  /** The call failed: the sender's promise rejected with a TimeoutError. */
  timedOut(call: HeardCall): void;
  /**
   * A network stopped for good before a memory test's weighing (Network.halt): forget every call in flight, which
   * will never settle (a call kept here would keep its sender's callbacks, and through them its sender, alive).
   */
  halted?(): void;
}
