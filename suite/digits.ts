/** Whole numbers as the kit prints them for people: digits in groups of three ("100,000"). */

/**
 * `n` with a comma between each group of three digits, as `toLocaleString('en-US')` prints a whole number, but
 * without `Intl`: its first use in a process loads the locale data, about 20 ms of every process that starts.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`groupDigits prints whole numbers, not ${n}`);
  const grouped = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}
