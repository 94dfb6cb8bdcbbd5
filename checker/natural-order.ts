/** Natural order of strings ("k2" before "k10"), as a comparator that needs no locale data. */

const ZERO = 0x30;
const NINE = 0x39;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** The end of the run of digits that starts at `from`. */
function digitsEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  return i;
}

/** The first of the run's digits that is not a leading zero (the run's last digit if all are zeros). */
function significant(s: string, from: number, end: number): number {
  let i = from;
  while (i < end - 1 && s.charCodeAt(i) === ZERO) i++;
  return i;
}

/**
 * Orders strings as people count: runs of ASCII digits by their value, everything else by UTF-16 code unit, a string
 * before any it is the start of; strings equal that way ("01" and "1") by their plain order, so the order is total.
 * Unlike `localeCompare(b, 'en', { numeric: true })`, it loads no locale data (about 10-20 ms of a process's start).
 */
export function naturalOrder(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const endA = digitsEnd(a, i);
      const endB = digitsEnd(b, j);
      const fromA = significant(a, i, endA);
      const fromB = significant(b, j, endB);
      if (endA - fromA !== endB - fromB) return endA - fromA - (endB - fromB);
      for (let k = 0; k < endA - fromA; k++) {
        const d = a.charCodeAt(fromA + k) - b.charCodeAt(fromB + k);
        if (d !== 0) return d;
      }
      i = endA;
      j = endB;
    } else if (ca !== cb) return ca - cb;
    else {
      i++;
      j++;
    }
  }
  const left = a.length - i - (b.length - j);
  if (left !== 0) return left;
  return a < b ? -1 : a > b ? 1 : 0;
}
