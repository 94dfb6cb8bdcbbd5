/**
 * Fault control for minimization: which chance faults (the network's, and a generic attacker's disturbances) may
 * happen in a replay, and which did.
 */
import { brandHarness } from './brand';

/** One fault that happened: its key (the same message keeps the same key when other faults are removed) and what it did. */
export interface AppliedFault {
  readonly key: string;
  readonly what: string;
}

/** The start of a disturbance's key: an attacker's crash, partition, hold ..., numbered in the order drawn. */
export const DISTURBANCE_KEY = 'disturbance#';

/**
 * Decides the faults in a replay. The network and the attackers still draw their random numbers as always (so the
 * rest of the run stays the same); a fault whose key is not `allowed` simply does not happen.
 */
export class FaultControl {
  private readonly allowed?: ReadonlySet<string>;
  readonly applied: AppliedFault[] = [];
  /** Disturbances drawn so far (each one's number is its key). */
  private disturbances = 0;

  /** `allowed` undefined: every fault happens (and is noted). */
  constructor(allowed?: ReadonlySet<string>) {
    this.allowed = allowed;
  }

  /** Whether the fault `key` that chance chose happens; notes the ones that do. */
  decide(key: string, what: () => string): boolean {
    if (this.allowed && !this.allowed.has(key)) return false;
    this.applied.push({ key, what: what() });
    return true;
  }

  /** Whether the next disturbance an attacker drew happens; notes the ones that do. */
  disturb(what: () => string): boolean {
    return this.decide(`${DISTURBANCE_KEY}${this.disturbances++}`, what);
  }
}

brandHarness(FaultControl);
