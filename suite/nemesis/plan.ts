/**
 * A nemesis for the simulated network: one round's fault plan drawn from a seed (drops, delays, held replies, a PCT
 * delivery schedule), put on a Network for the round's fault phase, and taken off when the faults heal.
 */
import type { Network } from '../../labrpc';
import type { Rng } from '../../world';
import { PctSchedule } from './pct';

/** The network's faults during one round's fault phase. */
export interface NetworkPlan {
  /** False: MIT's unreliable network (delays up to 27 ms, lost requests and replies). */
  readonly reliable: boolean;
  /** Loss rates while unreliable. */
  readonly requestDrop: number;
  readonly replyDrop: number;
  /** Two thirds of replies held back 200-2200 ms. */
  readonly longReordering: boolean;
  /** The delivery schedule's PCT depth, span and first slowest channel (undefined: no schedule). */
  readonly pct: { readonly depth: number; readonly spanMs: number; readonly slowest?: number } | undefined;
}

/**
 * The plans one graded run explores, in order: round `i` of `rounds`. The first rounds cover each kind of fault
 * on its own (so every graded run meets each), the rest mix them at random, each with the next channel slowest.
 */
export function drawPlan(rng: Rng, round: number): NetworkPlan {
  const none: NetworkPlan = { reliable: true, requestDrop: 0, replyDrop: 0, longReordering: false, pct: undefined };
  switch (round) {
    case 0:
      return { ...none, pct: { depth: 1 + rng.int(3), spanMs: 1 + rng.int(20) } };
    case 1:
      return { ...none, reliable: false, requestDrop: 0.1, replyDrop: 0.1 };
    case 2:
      return { ...none, longReordering: true, pct: { depth: 2 + rng.int(2), spanMs: 5 + rng.int(30) } };
    case 3:
      return { ...none, reliable: false, requestDrop: 0.3 + 0.2 * rng.float(), replyDrop: 0.3 + 0.2 * rng.float() };
    default:
      return {
        reliable: rng.chance(0.4),
        requestDrop: rng.pick([0, 0.1, 0.3, 0.5]),
        replyDrop: rng.pick([0, 0.1, 0.3, 0.5]),
        longReordering: rng.chance(0.3),
        // From round 4 on, the (round - 4)th channel to speak starts slowest: over the rounds, each in turn.
        pct: rng.chance(0.7)
          ? { depth: 1 + rng.int(4), spanMs: rng.pick([1, 5, 20, 50]), slowest: round - 4 }
          : undefined,
      };
  }
}

/** Puts `plan` on `net` (expecting about `messages` messages in the phase); returns a line for the test's log. */
export function applyPlan(net: Network, plan: NetworkPlan, rng: Rng, messages: number): string {
  net.setReliable(plan.reliable);
  net.setDropRates(plan.requestDrop, plan.replyDrop);
  net.setLongReordering(plan.longReordering);
  const pct = plan.pct ? new PctSchedule(rng, { ...plan.pct, messages }) : undefined;
  net.setSchedule(pct);
  const faults = plan.reliable
    ? 'reliable'
    : `unreliable (lose ${pct2(plan.requestDrop)} of requests, ${pct2(plan.replyDrop)} of replies)`;
  return `${faults}${plan.longReordering ? ', long reordering' : ''}${pct ? `, ${pct.describe()}` : ''}`;
}

/** Ends the fault phase: a reliable network with no held replies and no schedule. */
export function healNetwork(net: Network): void {
  net.setReliable(true);
  net.setLongReordering(false);
  net.setSchedule(undefined);
}

function pct2(p: number): string {
  return `${Math.round(p * 100)}%`;
}
