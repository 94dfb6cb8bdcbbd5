/**
 * The search's memory of configurations already explored: pairs (set of linearized operations, model state).
 * Reaching a pair a second time can never lead anywhere new, so the search skips it.
 *
 * Storage is flat and typed (one hash table of node indices, node fields in parallel arrays, all bitsets in
 * one Uint32Array) so that inserting a node allocates nothing but occasional array growth.
 *
 * A set is stored compactly as the words `lo..hi` of its bitset, where every bit below word `lo` is set and
 * no bit above word `hi` is: in a long history the linearized set is "everything up to about here, plus a
 * few", so a node costs a word or two instead of n/32.
 */
export class StateCache<S> {
  private readonly equal: (a: S, b: S) => boolean;
  private buckets: Int32Array; // node index + 1 of each chain's first node, 0 = empty
  private mask: number;
  private nodeHash: Int32Array;
  private nodeNext: Int32Array; // node index + 1 of the next node in the chain, 0 = end
  private nodeLo: Int32Array; // first stored word of the set
  private nodeLen: Int32Array; // how many words are stored
  private nodeAt: Int32Array; // where they start in the pool
  private pool: Uint32Array;
  private poolUsed = 0;
  private nodeState: S[] = [];
  private count = 0;

  /** A cache whose states compare with `equal`. */
  constructor(equal: (a: S, b: S) => boolean) {
    this.equal = equal;
    this.buckets = new Int32Array(1024);
    this.mask = 1023;
    this.nodeHash = new Int32Array(512);
    this.nodeNext = new Int32Array(512);
    this.nodeLo = new Int32Array(512);
    this.nodeLen = new Int32Array(512);
    this.nodeAt = new Int32Array(512);
    this.pool = new Uint32Array(2048);
  }

  /** How many configurations are stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Stores (bits, state) unless an equal pair is already stored. Bits below word `lo` must all be set and
   * words above `hi` all clear. `bitsHash` and `stateHash` are the caller's hashes of the set and the state.
   * Returns true when the pair is new.
   */
  addIfNew(bits: Uint32Array, lo: number, hi: number, bitsHash: number, stateHash: number, state: S): boolean {
    const h = bitsHash ^ Math.imul(stateHash, 0x9e3779b1);
    const len = hi - lo + 1;
    const slot = (h ^ (h >>> 15)) & this.mask;
    const pool = this.pool;
    for (let i = this.buckets[slot] - 1; i >= 0; i = this.nodeNext[i] - 1) {
      if (this.nodeHash[i] !== h || this.nodeLo[i] !== lo || this.nodeLen[i] !== len) continue;
      const at = this.nodeAt[i] - lo;
      let same = true;
      for (let k = lo; k <= hi; k++) {
        if (pool[at + k] !== bits[k]) {
          same = false;
          break;
        }
      }
      if (same && this.equal(this.nodeState[i], state)) return false;
    }
    const n = this.count;
    if (n === this.nodeHash.length) this.growNodes();
    if (this.poolUsed + len > this.pool.length) this.growPool(len);
    this.nodeHash[n] = h;
    this.nodeLo[n] = lo;
    this.nodeLen[n] = len;
    this.nodeAt[n] = this.poolUsed;
    this.pool.set(bits.subarray(lo, hi + 1), this.poolUsed);
    this.poolUsed += len;
    this.nodeState.push(state); // n === nodeState.length: push, not a store past the end (slow in a locked-down realm)
    this.nodeNext[n] = this.buckets[slot];
    this.buckets[slot] = n + 1;
    this.count = n + 1;
    if (this.count > this.buckets.length) this.growBuckets();
    return true;
  }

  /** Doubles the node arrays. */
  private growNodes(): void {
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.nodeHash = grow(this.nodeHash);
    this.nodeNext = grow(this.nodeNext);
    this.nodeLo = grow(this.nodeLo);
    this.nodeLen = grow(this.nodeLen);
    this.nodeAt = grow(this.nodeAt);
  }

  /** Grows the word pool to fit `more` words. */
  private growPool(more: number): void {
    const pool = new Uint32Array(Math.max(this.pool.length * 2, this.poolUsed + more));
    pool.set(this.pool.subarray(0, this.poolUsed));
    this.pool = pool;
  }

  /** Doubles the bucket table and relinks every node. */
  private growBuckets(): void {
    const size = this.buckets.length * 2;
    const buckets = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.count; i++) {
      const h = this.nodeHash[i];
      const slot = (h ^ (h >>> 15)) & mask;
      this.nodeNext[i] = buckets[slot];
      buckets[slot] = i + 1;
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}
