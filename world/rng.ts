/**
 * A small, fast, seeded pseudo-random generator (sfc32, seeded through splitmix32).
 * Every random choice in a simulated run comes from one of these, so a seed fixes the run.
 */
import { brandHarness } from './brand';

/** Checks a seed and explains what a valid one looks like. */
export function assertValidSeed(seed: unknown): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(
      `Invalid seed ${String(seed)}: a seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}. ` +
        'Pass one such as --seed 12345, or leave it out to get a fresh one.',
    );
  }
}

/** Characters of Rng.text, as byte codes: 64 of them, 6 bits each. */
const TEXT_CODES = Uint8Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_', (c) =>
  c.charCodeAt(0),
);
/** Characters Rng.text makes at a time: under node's threshold for strings kept off V8's heap (about 1 MB). */
const TEXT_CHUNK = 8192;

/** A deterministic random source: the same seed yields the same sequence. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    assertValidSeed(seed);
    // splitmix32 over both halves of the seed spreads nearby seeds far apart; then sfc32's twelve warm-up rounds. In
    // local variables, written to the fields once: every simulated call makes a generator, and this is 4x faster.
    let s = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    s = (s + GOLDEN) | 0;
    let a = splitmix(s);
    s = (s + GOLDEN) | 0;
    let b = splitmix(s);
    s = (s + GOLDEN) | 0;
    let c = splitmix(s);
    s = (s + GOLDEN) | 0;
    let d = splitmix(s);
    for (let i = 0; i < 12; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** A uniformly random unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /**
   * A float in [0, 1) with 53 random bits, like Math.random: every double of the form k / 2^53 is equally likely,
   * so ids drawn as `Math.floor(Math.random() * 2 ** 52)` do not collide any sooner than they would outside the world.
   */
  float(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi] (both ends included). */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A random string of letters and digits, handy for keys and values. */
  string(length: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /**
   * A flat string of `length` random characters, none of it repeating (letters, digits, '-' and '_': 6 bits each,
   * five to a draw): values of megabytes that no server can store in less by noticing a pattern, made fast.
   */
  text(length: number): string {
    const bytes = Buffer.allocUnsafe(Math.min(length, TEXT_CHUNK));
    const parts: string[] = [];
    for (let done = 0; done < length;) {
      const n = Math.min(bytes.length, length - done);
      for (let i = 0; i < n; i += 5) {
        let r = this.nextUint32();
        const end = Math.min(i + 5, n);
        for (let j = i; j < end; j++, r >>>= 6) bytes[j] = TEXT_CODES[r & 63];
      }
      parts.push(bytes.toString('latin1', 0, n)); // a one-byte string on the heap (chunks stay under the threshold)
      done += n;
    }
    const s = parts.join('');
    s.indexOf('#'); // searching makes V8 copy the rope into one flat string on the heap
    return s;
  }

  /** A fresh seed drawn from this generator, for a derived generator. */
  seed(): number {
    return this.nextUint32() * 2097152 + (this.nextUint32() >>> 11);
  }
}

/** splitmix32's step constant. */
const GOLDEN = 0x9e3779b9;

/** splitmix32's output for the state `s`. */
function splitmix(s: number): number {
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A generator of its own for one thing in a run (say, one message), fixed by the run's seed and the thing's `key`
 * alone: its numbers do not depend on how many numbers anything else drew before it.
 */
export function keyedRng(seed: number, key: string): Rng {
  return keyedRngAfter(keyPrefix(seed, ''), key);
}

/**
 * Where keyedRng(seed, prefix + rest) stands once it has read `prefix`: keyedRngAfter(keyPrefix(seed, prefix), rest)
 * is that very generator, without reading the prefix again (the network keys each call by its end's name).
 */
export function keyPrefix(seed: number, prefix: string): number {
  // FNV-1a over the key, started from both halves of the seed.
  const h = (0x811c9dc5 ^ (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x9e3779b1)) >>> 0;
  return fnv(h, prefix);
}

/**
 * The generator keyed by what `prefix` (from keyPrefix) stands for, followed by `rest`: a string, or a whole number
 * written in decimal (the same generator as its String, without making the string: the network keys every call so).
 */
export function keyedRngAfter(prefix: number, rest: string | number): Rng {
  return new Rng((typeof rest === 'number' ? fnvDecimal(prefix, rest) : fnv(prefix, rest)) >>> 0);
}

/** FNV-1a's steps over the decimal digits of `n`, from `h`: fnv(h, String(n)) for a whole number n from 0 to 2^31-1. */
function fnvDecimal(h: number, n: number): number {
  if (!(Number.isInteger(n) && n >= 0 && n <= 0x7fffffff)) return fnv(h, String(n));
  let unit = 1;
  while (unit * 10 <= n) unit *= 10;
  for (; unit >= 1; unit /= 10) h = Math.imul(h ^ (0x30 + (Math.floor(n / unit) % 10)), 0x01000193);
  return h;
}

/** FNV-1a's steps over `text`, from `h`. */
function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** A new seed from real entropy, used when the user does not choose one. */
export function freshSeed(): number {
  return Math.floor(Number(process.hrtime.bigint() % 1000000007n) + Math.floor(Math.random() * 1e6)) % 1e9;
}

brandHarness(Rng);
