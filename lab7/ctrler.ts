/**
 * Lab 7 — the controller. YOU WRITE THIS FILE (part 1).
 *
 * Keeps the current configuration in lab 2's key/value service (through your lab 2 clerk, imported from
 * ../lab2/client), as ShardConfig's string under a key of your choice. changeConfigTo(next) moves every shard whose
 * owner changes: freeze it at its old owner, install it at its new owner, delete it at the old owner; then store
 * `next`. Reach a group's servers with makeEnd(name) for each name the configuration lists. See lab7/README.md,
 * part 1; part 2 makes a change survive the controller's failure (initController); part 3 lets several controllers
 * run at once (claim the next configuration's number with a conditional put, and give up when another finished).
 */
import type { ClientEnd } from '../labrpc';
import { Clerk as KVClerk } from '../lab2/client';
import type { Controller, MakeEnd } from './rpc';
import type { ShardConfig } from './shardcfg';
import { GroupClerk } from './grpclerk';

export class ShardCtrler implements Controller {
  private readonly kv: KVClerk;
  private readonly makeEnd: MakeEnd;

  /** `kv` reaches lab 2's server that keeps the configuration; `makeEnd` reaches the groups' servers. */
  constructor(kv: ClientEnd, makeEnd: MakeEnd) {
    this.kv = new KVClerk(kv);
    this.makeEnd = makeEnd;
  }

  /** Stores the first configuration (the tester calls this once, first). */
  async initConfig(cfg: ShardConfig): Promise<void> {
    // TODO: put cfg.toString() at version 0.
    void this.kv;
    throw new Error(
      `TODO: ShardCtrler.initConfig is not implemented yet (configuration ${cfg.num}); see lab7/README.md, part 1`,
    );
  }

  /** The configuration stored now. */
  async query(): Promise<ShardConfig> {
    // TODO: get the configuration and read it with ShardConfig.fromString.
    throw new Error('TODO: ShardCtrler.query is not implemented yet; see lab7/README.md, part 1');
  }

  /** Part 2: finishes a change that a controller which failed left half done (see lab7/README.md, part 2). */
  async initController(): Promise<void> {
    // TODO (part 2): if a next configuration is stored beyond the current one, finish moving to it.
    throw new Error('TODO: ShardCtrler.initController is not implemented yet; see lab7/README.md, part 2');
  }

  /** Moves the shards to `next`, then stores it (part 3: unless another controller got there first). */
  async changeConfigTo(next: ShardConfig): Promise<void> {
    // TODO: for each shard whose owner changes: freeze, install, delete (with GroupClerks on makeEnd); then store next.
    // Part 3: first claim next.num (a conditional put of `next`); return at once if another controller has it.
    void this.makeEnd;
    void GroupClerk;
    throw new Error(
      `TODO: ShardCtrler.changeConfigTo is not implemented yet (configuration ${next.num}); see lab7/README.md, part 1`,
    );
  }
}
