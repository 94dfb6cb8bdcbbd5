/**
 * Lab 7 reference solution — the controller: keeps the configuration in lab 2's key/value service and moves shards.
 *
 * The configuration lives under one key, as ShardConfig's string, its version counting the changes. To go to the
 * next configuration, every shard whose owner changes is frozen at its old owner (which stops serving it and
 * hands over its keys), installed at its new owner, and deleted at the old owner; only then is the new
 * configuration stored, so a clerk that reads it finds every shard served where it says. The configuration being
 * moved to is stored first, under a key of its own: a controller that fails in the middle leaves it there, and the
 * next one's initController repeats the moves (each shard RPC is harmless to repeat) and stores it.
 *
 * Several controllers may run at once (part 3). Storing the next configuration is a claim: a conditional put at
 * the version of the key as read, so that of the controllers that read the same configuration exactly one
 * publishes the next one, and the others return without changing anything. A controller that was cut off and
 * comes back is fenced by versions and numbers: its conditional puts fail, and the groups refuse its shard RPCs
 * once a newer configuration moved the shard (ErrOldConfig), so it gives up.
 */
import type { ClientEnd } from '../../labrpc';
import type { Controller, MakeEnd } from '../../lab7/rpc';
import { ShardConfig, NSHARDS, type Gid } from '../../lab7/shardcfg';
import { Clerk as KVClerk } from '../lab2/client';
import { GroupClerk } from './grpclerk';

/** The key the configuration is stored under. */
const CONFIG_KEY = 'config';
/** The key of the configuration a change is moving to (part 2: what the next controller finishes). */
const NEXT_KEY = 'next';

/** What an empty shard's state is (a shard nobody owned before). */
const EMPTY_SHARD = '[]';

export class ShardCtrler implements Controller {
  private readonly kv: KVClerk;
  private readonly makeEnd: MakeEnd;
  /** One clerk per group, made on first use. */
  private readonly groups = new Map<Gid, GroupClerk>();

  constructor(kv: ClientEnd, makeEnd: MakeEnd) {
    this.kv = new KVClerk(kv);
    this.makeEnd = makeEnd;
  }

  async initConfig(cfg: ShardConfig): Promise<void> {
    const err = await this.kv.put(CONFIG_KEY, cfg.toString(), 0);
    if (err !== 'OK' && err !== 'ErrMaybe')
      throw new Error(`initConfig: storing configuration ${cfg.num} gave ${err}; it must be the first one stored.`);
  }

  async query(): Promise<ShardConfig> {
    return (await this.read(CONFIG_KEY)).cfg;
  }

  /** Finishes the move to the stored next configuration, if one is under way (or a controller that failed left it). */
  async initController(): Promise<void> {
    const { cfg: old, version } = await this.read(CONFIG_KEY);
    const next = await this.kv.get(NEXT_KEY);
    if (next.err !== 'OK') return;
    const cfg = ShardConfig.fromString(next.value);
    if (cfg.num === old.num + 1) await this.finish(old, cfg, version);
  }

  /** Moves to `next`, unless another controller changed the configuration or claimed its number first. */
  async changeConfigTo(next: ShardConfig): Promise<void> {
    const { cfg: old, version } = await this.read(CONFIG_KEY);
    if (next.num !== old.num + 1) return;
    // Claimed before any shard moves, so that the next controller can finish what this one starts.
    if (!(await this.claim(next))) return;
    await this.finish(old, next, version);
  }

  /**
   * Stores `next` under NEXT_KEY if no controller published its number yet: true when this controller did. The put
   * is conditional on the version read, so of two controllers that read the same one, one wins.
   */
  private async claim(next: ShardConfig): Promise<boolean> {
    const r = await this.kv.get(NEXT_KEY);
    if (r.err === 'OK' && ShardConfig.fromString(r.value).num >= next.num) return false;
    const err = await this.kv.put(NEXT_KEY, next.toString(), r.err === 'OK' ? r.version : 0);
    if (err === 'OK') return true;
    if (err !== 'ErrMaybe') return false;
    // ErrMaybe: our put, or another controller's, took effect; the key says which.
    const now = await this.kv.get(NEXT_KEY);
    return now.err === 'OK' && now.value === next.toString();
  }

  /**
   * Moves every shard whose owner differs from `old` to `next`, then stores `next` over `old` (at `version`). Stops
   * when a group says a newer configuration moved a shard on: another controller finished this change, and more.
   */
  private async finish(old: ShardConfig, next: ShardConfig, version: number): Promise<void> {
    const moves = Array.from({ length: NSHARDS }, (_, s) => s).filter((s) => old.shards[s] !== next.shards[s]);
    const moved = await Promise.all(moves.map((s) => this.move(s, old, next)));
    if (moved.includes(false)) return;
    // Conditional: if another controller stored it (or more) first, this put changes nothing.
    await this.kv.put(CONFIG_KEY, next.toString(), version);
  }

  /**
   * Moves shard `s` from its owner in `old` to its owner in `next`: freeze, install, delete. False if superseded: a
   * group refused an RPC (ErrOldConfig), or a group that does not answer is no longer needed because the stored
   * configuration reached `next` (another controller finished this change; the group may have left since).
   */
  private async move(s: number, old: ShardConfig, next: ShardConfig): Promise<boolean> {
    const from = old.shards[s];
    const to = next.shards[s];
    const done = async (): Promise<boolean> => (await this.read(CONFIG_KEY)).cfg.num >= next.num;
    let state = EMPTY_SHARD;
    if (from !== 0) {
      const r = await this.group(from, old).freezeShard(s, next.num, done);
      if (r?.err !== 'OK') return false;
      state = r.state;
    }
    if (to !== 0 && (await this.group(to, next).installShard(s, state, next.num, done))?.err !== 'OK') return false;
    if (from !== 0 && (await this.group(from, old).deleteShard(s, next.num, done))?.err !== 'OK') return false;
    return true;
  }

  /** The clerk of group `gid`, whose servers `cfg` names. */
  private group(gid: Gid, cfg: ShardConfig): GroupClerk {
    let ck = this.groups.get(gid);
    if (!ck) {
      ck = new GroupClerk(cfg.servers(gid).map((name) => this.makeEnd(name)));
      this.groups.set(gid, ck);
    }
    return ck;
  }

  /** The configuration stored under `key` and its version. */
  private async read(key: string): Promise<{ cfg: ShardConfig; version: number }> {
    const r = await this.kv.get(key);
    if (r.err !== 'OK')
      throw new Error(`query: no configuration is stored under "${key}" yet (initConfig comes first).`);
    return { cfg: ShardConfig.fromString(r.value), version: r.version };
  }
}
