/**
 * Lab 7 — the client of one shard group. YOU WRITE THIS FILE (part 1).
 *
 * Your lab 6 clerk (try the servers until the leader answers; retry after a TimeoutError), with the three shard
 * RPCs beside Get and Put. It gives ErrWrongGroup back to its caller (the clerk of client.ts, which reads the
 * configuration again), also when no server of the group answers for a while (the group may have left and been
 * shut down); the controller uses the shard RPCs. See lab7/README.md, parts 1 and 3.
 *
 * Only your own code calls this class (the tests never do), so shape its methods' arguments and results as your
 * clerk and controller need: for example a flag telling put that an earlier copy went to another group, or a
 * function the shard RPCs ask now and then whether to give up (part 3).
 */
import { ClientEnd, TimeoutError } from '../labrpc';
import type { GetResult, PutResult, Version } from '../lab6/kvapi';

/** What a group says to a get: lab 6's answers, or ErrWrongGroup. */
export type GroupGetResult = GetResult | { err: 'ErrWrongGroup' };

/** What a group says to a put: lab 6's answers (ErrMaybe included), or ErrWrongGroup. */
export type GroupPutResult = PutResult | 'ErrWrongGroup';

export class GroupClerk {
  private readonly servers: readonly ClientEnd[];
  // TODO: remember which server led last time.

  /** `servers[i]` reaches server i of the group. */
  constructor(servers: readonly ClientEnd[]) {
    this.servers = servers;
  }

  /** Reads `key` from the group's leader. */
  async get(key: string): Promise<GroupGetResult> {
    // TODO: send KVServer.Get, moving on to the next server after ErrWrongLeader or a TimeoutError.
    void this.servers;
    void TimeoutError;
    throw new Error(`TODO: GroupClerk.get is not implemented yet (key "${key}"); see lab7/README.md, part 1`);
  }

  /** Writes `key` at the group's leader; ErrMaybe for a re-sent put answered ErrVersion. */
  async put(key: string, value: string, version: Version): Promise<GroupPutResult> {
    // TODO: send KVServer.Put like get; remember whether an earlier copy (of this call, or one the clerk of
    // client.ts sent to another group) may have reached a leader: then ErrVersion becomes ErrMaybe.
    throw new Error(
      `TODO: GroupClerk.put is not implemented yet (key "${key}", version ${version}); see lab7/README.md, part 1`,
    );
  }

  /** Freezes `shard` for configuration `num`: its keys as a string, or ErrOldConfig. */
  async freezeShard(shard: number, num: number): Promise<{ err: 'OK'; state: string } | { err: 'ErrOldConfig' }> {
    // TODO: send KVServer.FreezeShard until the leader answers.
    throw new Error(
      `TODO: GroupClerk.freezeShard is not implemented yet (shard ${shard}, configuration ${num}); see lab7/README.md, part 1`,
    );
  }

  /** Installs `shard` with `state` for configuration `num`. */
  async installShard(shard: number, state: string, num: number): Promise<'OK' | 'ErrOldConfig'> {
    // TODO: send KVServer.InstallShard until the leader answers.
    throw new Error(
      `TODO: GroupClerk.installShard is not implemented yet (shard ${shard}, ${state.length} characters, configuration ${num}); see lab7/README.md, part 1`,
    );
  }

  /** Deletes `shard` (configuration `num` moved it away). */
  async deleteShard(shard: number, num: number): Promise<'OK' | 'ErrOldConfig'> {
    // TODO: send KVServer.DeleteShard until the leader answers.
    throw new Error(
      `TODO: GroupClerk.deleteShard is not implemented yet (shard ${shard}, configuration ${num}); see lab7/README.md, part 1`,
    );
  }
}
