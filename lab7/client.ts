/**
 * Lab 7 — the clerk of the sharded service. YOU WRITE THIS FILE (part 1).
 *
 * Routes each key to the group that owns its shard (key2shard) in the configuration the controller returns; when
 * that group answers ErrWrongGroup, the shard has moved: wait a little, query the configuration again, and retry.
 * Lab 2's ErrMaybe rule holds across groups: a put sent more than once that ends with ErrVersion is ErrMaybe.
 * See lab7/README.md, part 1.
 */
import type { GetResult, PutResult, Version } from '../lab6/kvapi';
import type { Controller, MakeEnd, ShardClerk } from './rpc';
import { GroupClerk } from './grpclerk';

export class Clerk implements ShardClerk {
  private readonly ctrler: Controller;
  private readonly makeEnd: MakeEnd;
  // TODO: the configuration last read, and a GroupClerk per group.

  /** Asks `ctrler` for the configuration; reaches the groups' servers with `makeEnd`. */
  constructor(ctrler: Controller, makeEnd: MakeEnd) {
    this.ctrler = ctrler;
    this.makeEnd = makeEnd;
  }

  /** Reads `key` from the group that owns its shard. */
  async get(key: string): Promise<GetResult> {
    // TODO: find the owner, ask it, and on ErrWrongGroup read the configuration again.
    void this.ctrler;
    void this.makeEnd;
    void GroupClerk;
    throw new Error(`TODO: Clerk.get is not implemented yet (key "${key}"); see lab7/README.md, part 1`);
  }

  /** Writes `key` at the group that owns its shard. */
  async put(key: string, value: string, version: Version): Promise<PutResult> {
    // TODO: like get; ErrMaybe when a put sent more than once ends with ErrVersion.
    throw new Error(
      `TODO: Clerk.put is not implemented yet (key "${key}", version ${version}); see lab7/README.md, part 1`,
    );
  }
}
