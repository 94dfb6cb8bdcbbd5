/**
 * Redis's integers — GIVEN, do not change. Redis reads every integer argument (INCRBY's step, EX's seconds, a value
 * INCR adds to) with its `string2ll`: only the canonical decimal form of a signed 64-bit integer. Not "01", "-0", "+1",
 * " 1", "1.0" or "1e3", and nothing outside -2^63 … 2^63-1. JavaScript's numbers are exact only up to 2^53, so these
 * are bigints.
 */

/** The largest and smallest 64-bit integers (C's LLONG_MAX and LLONG_MIN). */
export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

/** The integer `text` spells exactly as Redis accepts it, or undefined (then reply `ERR value is not an integer or out of range`). */
export function parseInt64(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 20 || !/^(?:0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  const n = BigInt(text);
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
}
