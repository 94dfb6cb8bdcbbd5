/**
 * Glob patterns for KEYS and SCAN's MATCH — GIVEN, do not change. Matches exactly as Redis's `stringmatchlen` does,
 * byte for byte (pattern and text are byte strings, one character per byte):
 * `*` any run of bytes, `?` one byte, `[abc]` `[a-z]` `[^a]` a set, `\x` the byte x itself. The corner cases too:
 * `[a` (no closing bracket) is the set {a}; `[]]` is an empty set and then `]`, so it matches nothing; in `[a-]` the
 * `]` ends the range a..] (bytes ] to a) and the set runs to the end of the pattern; `[z-a]` is `[a-z]`;
 * a range compares bytes as C's signed char (0x80-0xff sort below 0x00); a `\` at the end of a pattern is itself.
 */

/** Deepest nesting of `*` tried before giving up (no match): a pattern of thousands of stars cannot exhaust the stack. */
const MAX_NESTING = 1000;

/**
 * True when `text` matches the glob `pattern` (the whole text, case-sensitive, as Redis's KEYS). The pattern `*` alone
 * matches every key, the empty key too, as in KEYS and SCAN (Redis skips matching for it; its matcher proper, like
 * this one for any other pattern, never matches the empty text: `**` does not match "").
 */
export function globMatch(pattern: string, text: string): boolean {
  if (pattern === '*') return true;
  return match(pattern, 0, text, 0, { skipLonger: false }, 0);
}

/** The byte at `i`, or 0 past the end (Redis reads the terminating NUL there). */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

/** A byte as C's signed char, as Redis compares range ends. */
function signed(b: number): number {
  return b >= 128 ? b - 256 : b;
}

/**
 * Matches pattern[p..] against text[t..]. `state.skipLonger` is set once the rest after some `*` matched nowhere:
 * then no earlier `*` can help by swallowing more, and every caller stops (this keeps matching polynomial).
 */
function match(
  pattern: string,
  p: number,
  text: string,
  t: number,
  state: { skipLonger: boolean },
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  let pLen = pattern.length - p;
  let tLen = text.length - t;
  while (pLen > 0 && tLen > 0) {
    const c = at(pattern, p);
    if (c === 0x2a /* * */) {
      return matchStar(pattern, p, text, t, state, nesting);
    } else if (c === 0x3f /* ? */) {
      t++;
      tLen--;
    } else if (c === 0x5b /* [ */) {
      const set = matchSet(pattern, p + 1, at(text, t));
      if (!set.matched) return false;
      p = set.end;
      pLen = pattern.length - p;
      t++;
      tLen--;
    } else {
      if (c === 0x5c /* \ */ && pLen >= 2) {
        p++;
        pLen--;
      }
      if (at(pattern, p) !== at(text, t)) return false;
      t++;
      tLen--;
    }
    p++;
    pLen--;
    if (tLen === 0) {
      while (at(pattern, p) === 0x2a) {
        p++;
        pLen--;
      }
      break;
    }
  }
  return pLen === 0 && tLen === 0;
}

/**
 * Matches pattern[p..], which starts with `*`, against the text[t..] that is left (not empty): the star swallows
 * none of it, then one byte more at a time, until the rest of the pattern matches.
 */
function matchStar(
  pattern: string,
  p: number,
  text: string,
  t: number,
  state: { skipLonger: boolean },
  nesting: number,
): boolean {
  let pLen = pattern.length - p;
  let tLen = text.length - t;
  while (pLen > 0 && at(pattern, p + 1) === 0x2a) {
    p++;
    pLen--;
  }
  if (pLen === 1) return true;
  while (tLen > 0) {
    if (match(pattern, p + 1, text, t, state, nesting + 1)) return true;
    if (state.skipLonger) return false;
    t++;
    tLen--;
  }
  state.skipLonger = true;
  return false;
}

/**
 * Matches the byte `ch` against the set whose body starts at pattern[p], just after its `[`. Returns whether `ch`
 * matched (a `^` set inverted) and where the set ends: at its `]`, or at the pattern's last byte when it has none.
 */
function matchSet(pattern: string, p: number, ch: number): { matched: boolean; end: number } {
  let pLen = pattern.length - p;
  const not = at(pattern, p) === 0x5e; /* ^ */
  if (not) {
    p++;
    pLen--;
  }
  let hit = false;
  for (;;) {
    if (at(pattern, p) === 0x5c /* \ */ && pLen >= 2) {
      p++;
      pLen--;
      if (at(pattern, p) === ch) hit = true;
    } else if (at(pattern, p) === 0x5d /* ] */) {
      break;
    } else if (pLen === 0) {
      p--; // no closing bracket: the set ends with the pattern
      pLen++;
      break;
    } else if (pLen >= 3 && at(pattern, p + 1) === 0x2d /* - */) {
      let lo = signed(at(pattern, p));
      let hi = signed(at(pattern, p + 2));
      if (lo > hi) [lo, hi] = [hi, lo];
      p += 2;
      pLen -= 2;
      if (signed(ch) >= lo && signed(ch) <= hi) hit = true;
    } else if (at(pattern, p) === ch) {
      hit = true;
    }
    p++;
    pLen--;
  }
  return { matched: hit !== not, end: p };
}
