/** Fault control for minimization: which of the network's chance faults may happen in a replay, and which did. */

/** One fault that happened: its key (the same message keeps the same key when other faults are removed) and what it did. */
export interface AppliedFault {
  readonly key: string;
  readonly what: string;
}

/**
 * Decides the network's faults in a replay. The network still draws its random numbers as always (so the rest of
 * the run stays the same); a fault whose key is not `allowed` simply does not happen.
 */
export class FaultControl {
  private readonly allowed?: ReadonlySet<string>;
  readonly applied: AppliedFault[] = [];

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
}
