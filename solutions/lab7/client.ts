/**
 * Lab 7 reference solution — the clerk of the sharded service: routes each key to the group the configuration
 * says owns its shard, and reads the configuration again when that group answers ErrWrongGroup (the shard moved),
 * or when none of its servers answers for a while (it may have left and been shut down). A put sent to more than
 * one group, or more than once, that ends with ErrVersion is ErrMaybe: an earlier copy may have taken effect before
 * the shard moved (lab 2's rule, across groups).
 */
import type { GetResult, PutResult, Version } from '../../lab6/kvapi';
import type { Controller, MakeEnd, ShardClerk } from '../../lab7/rpc';
import { key2shard, type Gid, type ShardConfig } from '../../lab7/shardcfg';
import { GroupClerk, sleep } from './grpclerk';

/** How long to wait before reading the configuration again after ErrWrongGroup (virtual ms). */
const WRONG_GROUP_PAUSE_MS = 50;
/**
 * Rounds of a group's servers without an answer after which a get or put reads the configuration again: the group
 * may have left and been shut down, its shards served elsewhere.
 */
const PATIENCE_ROUNDS = 3;

export class Clerk implements ShardClerk {
  private readonly ctrler: Controller;
  private readonly makeEnd: MakeEnd;
  private cfg: ShardConfig | undefined;
  /** One clerk per group, made on first use. */
  private readonly groups = new Map<Gid, GroupClerk>();

  constructor(ctrler: Controller, makeEnd: MakeEnd) {
    this.ctrler = ctrler;
    this.makeEnd = makeEnd;
  }

  async get(key: string): Promise<GetResult> {
    for (;;) {
      const r = await (await this.owner(key)).get(key);
      if (r.err !== 'ErrWrongGroup') return r;
      await this.refresh();
    }
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    for (let tries = 1; ; tries++) {
      const err = await (await this.owner(key)).put(key, value, version);
      if (err === 'ErrVersion' && tries > 1) return 'ErrMaybe';
      if (err !== 'ErrWrongGroup') return err;
      await this.refresh();
    }
  }

  /** The clerk of the group that owns `key`'s shard in the configuration known. */
  private async owner(key: string): Promise<GroupClerk> {
    const cfg = this.cfg ?? (this.cfg = await this.ctrler.query());
    const gid = cfg.shards[key2shard(key)];
    if (gid === 0) {
      await this.refresh();
      return this.owner(key);
    }
    let ck = this.groups.get(gid);
    if (!ck) {
      ck = new GroupClerk(
        cfg.servers(gid).map((name) => this.makeEnd(name)),
        PATIENCE_ROUNDS,
      );
      this.groups.set(gid, ck);
    }
    return ck;
  }

  /** Waits a little and reads the configuration again. */
  private async refresh(): Promise<void> {
    await sleep(WRONG_GROUP_PAUSE_MS);
    this.cfg = await this.ctrler.query();
  }
}
