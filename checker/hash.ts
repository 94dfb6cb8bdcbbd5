/** Small, fast 32-bit hashing helpers for model states. */

/** The starting value of a string hash (the hash of ""). */
export const STRING_HASH_SEED = 0x811c9dc5 | 0;

/**
 * Continues a string hash over more characters: `hashMore(hashString(a), b) === hashString(a + b)`,
 * which lets an append update its state's hash without rereading the old value.
 */
export function hashMore(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The hash of a whole string. */
export function hashString(s: string): number {
  return hashMore(STRING_HASH_SEED, s);
}

/** Scrambles a 32-bit value so that nearby inputs land far apart (the murmur3 finalizer). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Combines two hashes, order-sensitively. */
export function combineHash(a: number, b: number): number {
  return mix32(Math.imul(a, 0x9e3779b1) ^ b);
}

/** The hash of a number (integers and floats alike). */
export function hashNumber(n: number): number {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 31) return mix32(n | 0);
  return hashString(String(n));
}
