/**
 * Lab 7 — the shard configuration: which group serves each shard, numbered. Given: do not change this file (the
 * grader checks it is untouched).
 *
 * Keys are split into NSHARDS shards by a hash; a configuration says which group (by its gid) owns each shard and
 * which servers make up each group. `join` and `leave` give the next configuration (number + 1) with the shards
 * spread as evenly as possible and as few of them moved as that allows. Configurations are values: nothing here
 * changes one in place.
 */

/** A shard group's id; 0 means "no group" (a shard nobody owns, before the first group joins). */
export type Gid = number;

/** How many shards the keys are split into (MIT's NShards). */
export const NSHARDS = 12;

/** The number of the first configuration, in which group GID1 owns every shard. */
export const NUM_FIRST = 1;

/** The gid of the first group, which owns every shard at first (its servers start owning them). */
export const GID1: Gid = 1;

/** The shard (0 to NSHARDS - 1) that `key` belongs to: a 32-bit FNV-1a hash of its UTF-16 code units. */
export function key2shard(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % NSHARDS;
}

/** A configuration as plain data (what `toString` encodes). */
interface ConfigData {
  num: number;
  shards: Gid[];
  groups: Array<[Gid, string[]]>;
}

/** One numbered configuration: the owner of every shard and the servers of every group. */
export class ShardConfig {
  /** The configuration's number: each change gives the next one. */
  readonly num: number;
  /** shards[s] is the gid of the group that owns shard s (0: none). */
  readonly shards: readonly Gid[];
  private readonly members: ReadonlyMap<Gid, readonly string[]>;

  private constructor(num: number, shards: readonly Gid[], members: ReadonlyMap<Gid, readonly string[]>) {
    this.num = num;
    this.shards = Object.freeze([...shards]);
    this.members = members;
    Object.freeze(this);
  }

  /** Configuration NUM_FIRST: group GID1, with `servers`, owns every shard. */
  static first(servers: readonly string[]): ShardConfig {
    return new ShardConfig(
      NUM_FIRST,
      new Array<Gid>(NSHARDS).fill(GID1),
      new Map([[GID1, Object.freeze([...servers])]]),
    );
  }

  /** Reads a configuration that `toString` wrote; a clear error for anything else. */
  static fromString(text: string): ShardConfig {
    let data: Partial<ConfigData>;
    try {
      data = JSON.parse(text) as Partial<ConfigData>;
    } catch {
      throw new Error(`ShardConfig.fromString: ${JSON.stringify(text.slice(0, 80))} is not JSON that toString wrote.`);
    }
    const { num, shards, groups } = data;
    if (
      typeof num !== 'number' ||
      !Array.isArray(shards) ||
      shards.length !== NSHARDS ||
      !shards.every((g) => Number.isInteger(g)) ||
      !Array.isArray(groups)
    )
      throw new Error(
        `ShardConfig.fromString: ${JSON.stringify(text.slice(0, 80))} is not a configuration ({ num, shards ` +
          `(${NSHARDS} gids), groups }): store configurations with config.toString() and read them back with fromString.`,
      );
    const members = new Map<Gid, readonly string[]>(groups.map(([g, s]) => [g, Object.freeze([...s])]));
    return new ShardConfig(num, shards, members);
  }

  /** The configuration as a string (to store in the key/value service). */
  toString(): string {
    const data: ConfigData = {
      num: this.num,
      shards: [...this.shards],
      groups: [...this.members].map(([g, s]) => [g, [...s]]),
    };
    return JSON.stringify(data);
  }

  /** The gids of the groups in this configuration, in increasing order. */
  gids(): Gid[] {
    return [...this.members.keys()].sort((a, b) => a - b);
  }

  /** True when group `gid` is in this configuration. */
  has(gid: Gid): boolean {
    return this.members.has(gid);
  }

  /** The server names of group `gid` (empty for a group not in the configuration). */
  servers(gid: Gid): readonly string[] {
    return this.members.get(gid) ?? [];
  }

  /** The shards group `gid` owns, in increasing order. */
  shardsOf(gid: Gid): number[] {
    return this.shards.flatMap((g, s) => (g === gid ? [s] : []));
  }

  /**
   * The next configuration: this one with the groups of `groups` (gid to server names) added, and the shards
   * balanced. A gid already in the configuration is an error (it would mean two groups with one id).
   */
  join(groups: ReadonlyMap<Gid, readonly string[]>): ShardConfig {
    const members = new Map(this.members);
    for (const [gid, servers] of groups) {
      if (!Number.isInteger(gid) || gid <= 0)
        throw new Error(`ShardConfig.join: gid ${gid} is not a whole number above 0 (gid 0 means "no group").`);
      if (members.has(gid))
        throw new Error(`ShardConfig.join: group ${gid} is already in configuration ${this.num}; join new gids only.`);
      members.set(gid, Object.freeze([...servers]));
    }
    return new ShardConfig(this.num + 1, balance(this.shards, [...members.keys()]), members);
  }

  /** The next configuration: this one without the groups `gids`, their shards spread over the others. */
  leave(gids: readonly Gid[]): ShardConfig {
    const members = new Map(this.members);
    for (const gid of gids) {
      if (!members.has(gid))
        throw new Error(
          `ShardConfig.leave: group ${gid} is not in configuration ${this.num} (groups: ${this.gids().join(', ')}).`,
        );
      members.delete(gid);
    }
    return new ShardConfig(this.num + 1, balance(this.shards, [...members.keys()]), members);
  }
}
// A configuration is a value: neither the class nor its methods change, wherever it is loaded.
Object.freeze(ShardConfig);
Object.freeze(ShardConfig.prototype);

/**
 * The owners after balancing `shards` over the groups `gids`: every shard of a group that is gone is handed on,
 * then shards move from groups above their share to groups below it, as few as possible, the same way every time.
 * Shares differ by at most one; the groups holding most now keep the larger shares.
 */
function balance(shards: readonly Gid[], gids: readonly Gid[]): Gid[] {
  const out = [...shards];
  if (gids.length === 0) return out.fill(0);
  const members = new Set(gids);
  const count = (gid: Gid): number => out.filter((g) => g === gid).length;
  // Larger shares to the groups that hold most already (then lower gids), so that fewer shards move.
  const order = [...gids].sort((a, b) => count(b) - count(a) || a - b);
  const base = Math.floor(NSHARDS / gids.length);
  const share = new Map(order.map((g, i) => [g, base + (i < NSHARDS % gids.length ? 1 : 0)]));
  const free: number[] = [];
  for (let s = 0; s < NSHARDS; s++) if (!members.has(out[s])) free.push(s);
  for (const gid of order) {
    const mine = out.flatMap((g, s) => (g === gid ? [s] : []));
    // A group above its share gives up its highest shards.
    for (const s of mine.slice(share.get(gid))) free.push(s);
  }
  free.sort((a, b) => a - b);
  for (const gid of [...gids].sort((a, b) => a - b)) {
    let have = out.filter((g, s) => g === gid && !free.includes(s)).length;
    while (have < (share.get(gid) ?? 0)) {
      const s = free.shift() as number;
      out[s] = gid;
      have++;
    }
  }
  return out;
}
