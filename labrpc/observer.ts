/** What the network tells about its calls: one observer feeds both the run's trace hash and its recording. */
import { TEST_LANE, World, recordedValue, type HeardCall, type LossCause } from '../world';

/** The facts of a call an observer is told about (see labrpc/call.ts): what its listeners hear, and more. */
export interface ObservedCall extends HeardCall {
  /** Ties the call's recorded events together (0 when not recording). */
  readonly id: number;
  /** The caller's lane (undefined when not recording). */
  readonly from: string | undefined;
}

/** Hears each step of every call, in the order they happen. */
export interface CallObserver {
  /** A fresh id for a call about to be sent (0 when not recording). */
  newId(): number;
  /** The call was sent with these arguments (as the handler will receive them). */
  sent(call: ObservedCall, args: unknown): void;
  /** The request reached the server's handler. */
  delivered(call: ObservedCall): void;
  /** The handler answered with `reply`. */
  handled(call: ObservedCall, reply: unknown): void;
  /** The reply reached the caller. */
  replied(call: ObservedCall): void;
  /** The request or the reply was lost, and why. */
  lost(call: ObservedCall, which: 'request' | 'reply', why: LossCause): void;
  /** The caller's call failed with a TimeoutError; `fate` says what became of it (drop-request, killed, ...). */
  timedOut(call: ObservedCall, fate: string): void;
  /** The network stopped for good (Network.halt): none of its calls in flight will settle. */
  halted(): void;
}

/**
 * The observer of a network in `world`: the outcome of every call (its reply or its timeout) goes into the trace
 * hash, and, while recording, every step goes into the recording; the world's call listeners (the runner's
 * monitors) hear every step too.
 */
export function worldObserver(world: World): CallObserver {
  const rec = (): World['recorder'] => world.recorder;
  const listeners = world.calls;
  return {
    newId: () => rec()?.id() ?? 0,
    sent: (call, args) => {
      for (const l of listeners) l.sent(call, args);
      rec()?.add({
        k: 'call',
        t: world.now(),
        id: call.id,
        from: call.from ?? TEST_LANE,
        end: call.endName,
        to: call.serverName,
        method: call.method,
        args: recordedValue(args),
      });
    },
    delivered: (call) => {
      for (const l of listeners) l.delivered?.(call);
      rec()?.add({ k: 'deliver', t: world.now(), id: call.id });
    },
    handled: (call, reply) => {
      for (const l of listeners) l.handled(call, reply);
      rec()?.add({ k: 'handled', t: world.now(), id: call.id, reply: recordedValue(reply) });
    },
    replied: (call) => {
      for (const l of listeners) l.replied(call);
      world.trace(call.endName, call.method, 'ok');
      rec()?.add({ k: 'reply', t: world.now(), id: call.id });
    },
    lost: (call, which, why) => rec()?.add({ k: 'drop', t: world.now(), id: call.id, which, why }),
    timedOut: (call, fate) => {
      for (const l of listeners) l.timedOut(call);
      world.trace(call.endName, call.method, fate);
      rec()?.add({ k: 'timeout', t: world.now(), id: call.id });
    },
    halted: () => {
      for (const l of listeners) l.halted?.();
    },
  };
}
