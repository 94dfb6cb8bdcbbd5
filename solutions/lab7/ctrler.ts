/**
 * Lab 7 reference solution — the controller: keeps the configuration in lab 2's key/value service and moves shards.
 *
 * The configuration lives under one key, as ShardConfig's string, its version counting the changes. To go to the
 * next configuration, every shard whose owner changes is frozen at its old owner (which stops serving it and
 * hands over its keys), installed at its new owner, and deleted at the old owner; only then is the new
 * configuration stored, so a clerk that reads it finds every shard served where it says.
 */
import type { ClientEnd } from '../../labrpc';
import type { Controller, MakeEnd } from '../../lab7/rpc';
import { ShardConfig, NSHARDS, type Gid } from '../../lab7/shardcfg';
import { Clerk as KVClerk } from '../lab2/client';
import { GroupClerk } from './grpclerk';

/** The key the configuration is stored under. */
const CONFIG_KEY = 'config';

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
    return (await this.read()).cfg;
  }

  async changeConfigTo(next: ShardConfig): Promise<void> {
    const { cfg: old, version } = await this.read();
    if (next.num !== old.num + 1)
      throw new Error(`changeConfigTo: configuration ${next.num} does not follow the stored one, ${old.num}.`);
    const moves = Array.from({ length: NSHARDS }, (_, s) => s).filter((s) => old.shards[s] !== next.shards[s]);
    await Promise.all(moves.map((s) => this.move(s, old, next)));
    const err = await this.kv.put(CONFIG_KEY, next.toString(), version);
    if (err === 'ErrMaybe' && (await this.read()).cfg.num === next.num) return;
    if (err !== 'OK') throw new Error(`changeConfigTo: storing configuration ${next.num} gave ${err}.`);
  }

  /** Moves shard `s` from its owner in `old` to its owner in `next`: freeze, install, delete. */
  private async move(s: number, old: ShardConfig, next: ShardConfig): Promise<void> {
    const from = old.shards[s];
    const to = next.shards[s];
    let state = EMPTY_SHARD;
    if (from !== 0) {
      const r = await this.group(from, old).freezeShard(s, next.num);
      if (r.err !== 'OK') throw new Error(`freezing shard ${s} at group ${from} for ${next.num}: ${r.err}`);
      state = r.state;
    }
    if (to !== 0) await this.group(to, next).installShard(s, state, next.num);
    if (from !== 0) await this.group(from, old).deleteShard(s, next.num);
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

  /** The stored configuration and its version. */
  private async read(): Promise<{ cfg: ShardConfig; version: number }> {
    const r = await this.kv.get(CONFIG_KEY);
    if (r.err !== 'OK') throw new Error('query: no configuration is stored yet (initConfig comes first).');
    return { cfg: ShardConfig.fromString(r.value), version: r.version };
  }
}
