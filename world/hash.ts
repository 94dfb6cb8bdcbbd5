/** A running 64-bit FNV-1a style hash (two 32-bit lanes), cheap enough to feed every simulated event. */
export class TraceHash {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  private count = 0;

  /** Mixes one string into the hash. */
  addString(s: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    this.h1 = Math.imul(h1 ^ 0xff, 0x01000193);
    this.h2 = h2 ^ (h2 >>> 15);
    this.count++;
  }

  /** Mixes one number (its 64-bit float image, rounded to nanoseconds for times) into the hash. */
  addNumber(n: number): void {
    const lo = n | 0;
    const hi = Math.floor(n / 4294967296) | 0;
    this.h1 = Math.imul(this.h1 ^ lo, 0x01000193);
    this.h1 = Math.imul(this.h1 ^ hi, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ (lo + 0x9e3779b9), 0x5bd1e995);
    this.h2 = this.h2 ^ (this.h2 >>> 13);
    this.count++;
  }

  /** How many items were mixed in. */
  get items(): number {
    return this.count;
  }

  /** The hash so far, as 16 hex digits. */
  digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }
}
