/** Which seed each run uses: fresh ones, one replayed seed, or K seeds derived from a printed base. */
import { Rng, assertValidSeed, freshSeed } from '../world/rng';
import { GraderUsageError } from './errors';

/** The seeds of a lab's runs. */
export interface SeedPlan {
  /** With --runs: the base the seeds were derived from (print it so the set can be repeated). */
  readonly base?: number;
  /** With --seed and no --runs: the seed every test uses. */
  readonly fixed?: number;
  /** The seeds for the test at position `i` of the selection. */
  seedsFor(i: number): number[];
}

/** Plans seeds: `seed` replays one seed; `runs` > 1 derives that many from `seed` (or a fresh base). */
export function planSeeds(seed: number | undefined, runs: number): SeedPlan {
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new GraderUsageError(`--runs must be a whole number of at least 1 (got ${runs}).`);
  if (seed !== undefined) assertSeed(seed);
  if (runs === 1) {
    if (seed !== undefined) return { fixed: seed, seedsFor: () => [seed] };
    const fresh = new Map<number, number>();
    return {
      seedsFor: (i) => {
        if (!fresh.has(i)) fresh.set(i, freshSeed());
        return [fresh.get(i) as number];
      },
    };
  }
  const base = seed ?? freshSeed();
  const seeds = deriveSeeds(base, runs);
  return { base, seedsFor: () => [...seeds] };
}

/** `count` distinct seeds from `base`: the base itself first, then seeds drawn from a generator seeded with it. */
export function deriveSeeds(base: number, count: number): number[] {
  const rng = new Rng(base);
  const out = [base];
  while (out.length < count) {
    const s = rng.nextUint32() % 1_000_000_000;
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** Parses a --seed argument, explaining what a valid seed looks like. */
export function parseSeed(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new GraderUsageError(
      `Invalid seed "${text}": a seed is a whole number such as 12345 (copy it from a failing test's "seed=" line).`,
    );
  }
  const n = Number(trimmed);
  assertSeed(n);
  return n;
}

function assertSeed(n: number): void {
  try {
    assertValidSeed(n);
  } catch (err) {
    throw new GraderUsageError((err as Error).message);
  }
}
