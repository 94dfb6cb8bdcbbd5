/**
 * The versions at the edges of what lab 2's versioned store allows (keys and values come from edge-grammar.ts), drawn
 * alike by the model-based tests of labs 2 and 6 (fast-check) and lab 2's generic attackers (the world's Rng).
 */
import { fc } from '../fast-check';
import type { Rng } from '../../world';

/** How a put's version is drawn, relative to the version `v` the key holds (0 for a missing key). */
export const VERSION_KINDS = {
  held: (v: number) => v,
  behind: (v: number) => v - 1,
  'long ago': (v: number) => v - 3,
  ahead: (v: number) => v + 1,
  zero: () => 0,
  one: () => 1,
  negative: () => -1,
  'very negative': () => -(2 ** 31),
  'half above': (v: number) => v + 0.5,
  'half below': (v: number) => v - 0.5,
  huge: () => Number.MAX_SAFE_INTEGER,
  '2^32': () => 2 ** 32,
} as const satisfies Record<string, (v: number) => number>;

/** The name of a way to draw a version. */
export type VersionKind = keyof typeof VERSION_KINDS;

/** Every version kind, in a fixed order (fast-check's and the Rng's draws index it). */
export const VERSION_KIND_NAMES = Object.keys(VERSION_KINDS) as VersionKind[];

/** fast-check's draw of a version kind (the held version most often: most puts should succeed). */
export const versionKindArb = (): fc.Arbitrary<VersionKind> =>
  fc.oneof(
    { arbitrary: fc.constant<VersionKind>('held'), weight: 4 },
    { arbitrary: fc.constantFrom(...VERSION_KIND_NAMES), weight: 3 },
  );
/** The Rng's draw of a version kind for the attackers: the one last seen mostly, an edge one in about one put of five. */
export function drawVersionKind(rng: Rng): VersionKind {
  return rng.chance(0.8)
    ? rng.pick<VersionKind>(['held', 'held', 'held', 'behind', 'ahead'])
    : rng.pick(VERSION_KIND_NAMES);
}
