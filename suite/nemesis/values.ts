/** Keys and values at the edges, for generic workloads: empty, huge, unicode, numeric-looking, and object-property names. */
import type { Rng } from '../../world';

/** Keys that break code which keeps data in a plain object or compares keys as numbers. */
export const EDGE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  '0',
  '10',
  '9',
  '1e3',
  '-1',
  ' k',
  'ключ',
  '🔑',
  'a\nb',
];

/** Keys a plain JavaScript object already has: a store kept in one answers them wrongly (or drops them). */
export const OBJECT_KEYS: readonly string[] = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

/** A value of one of the shapes a store must keep exactly: `n` makes it unique (its decimal digits are in it). */
export function edgeValue(rng: Rng, n: number, opts: { hugeBytes?: number } = {}): string {
  const huge = opts.hugeBytes ?? 64 * 1024;
  switch (rng.int(8)) {
    case 0:
      return `${n}`; // numeric-looking
    case 1:
      return `0${n}`; // a leading zero, lost by Number()
    case 2:
      return `${n}\u00e9\u{1F600}`; // non-ASCII, a surrogate pair at the end
    case 3:
      return `${n}`.padEnd(huge, 'x'); // huge
    case 4:
      return `__proto__${n}`;
    case 5:
      return `${n} `; // a trailing space
    case 6:
      return `v${n}\u0000`; // a NUL
    default:
      return `v${n}`;
  }
}

/** `count` distinct keys: some ordinary, the rest drawn from EDGE_KEYS. */
export function edgeKeys(rng: Rng, count: number): string[] {
  const keys = new Set<string>();
  while (keys.size < count) keys.add(rng.chance(0.6) ? rng.pick(EDGE_KEYS) : `k${rng.int(100)}`);
  return [...keys];
}
