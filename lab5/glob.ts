/**
 * Glob patterns for KEYS — GIVEN, do not change.
 * `*` any run of characters, `?` one character, `[abc]` `[a-z]` `[^a]` a set, `\x` the character x itself.
 */

/** True when `text` matches the glob `pattern` (the whole text, case-sensitive, as Redis's KEYS). */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  // Where to resume after the last `*`: the pattern just after it, and the text position it now covers.
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length) {
      const c = pattern[p];
      if (c === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return true;
        starP = p;
        starT = t;
        continue;
      }
      const step = matchOne(pattern, p, text[t]);
      if (step > 0) {
        p += step;
        t++;
        continue;
      }
    }
    if (starP < 0) return false;
    // Let the last `*` swallow one more character and try again from there.
    p = starP;
    t = ++starT;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** If the pattern element at `p` matches `ch`, the element's length; else 0. */
function matchOne(pattern: string, p: number, ch: string): number {
  const c = pattern[p];
  if (c === '?') return 1;
  if (c === '\\' && p + 1 < pattern.length) return pattern[p + 1] === ch ? 2 : 0;
  if (c === '[') {
    let i = p + 1;
    const negate = pattern[i] === '^';
    if (negate) i++;
    let hit = false;
    let first = true;
    while (i < pattern.length && (pattern[i] !== ']' || first)) {
      first = false;
      if (pattern[i] === '\\' && i + 1 < pattern.length) {
        if (pattern[i + 1] === ch) hit = true;
        i += 2;
      } else if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
        let lo = pattern[i];
        let hi = pattern[i + 2];
        if (lo > hi) [lo, hi] = [hi, lo];
        if (ch >= lo && ch <= hi) hit = true;
        i += 3;
      } else {
        if (pattern[i] === ch) hit = true;
        i++;
      }
    }
    if (i >= pattern.length) return pattern[p] === ch ? 1 : 0; // no closing ']': a literal '['
    return hit !== negate ? i + 1 - p : 0;
  }
  return c === ch ? 1 : 0;
}
