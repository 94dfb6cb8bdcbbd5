/**
 * Lab 7 reference solution — the client of one shard group: lab 6's clerk (find the leader, retry) with the three
 * shard RPCs beside Get and Put. ErrWrongGroup goes back to the caller, which knows the configuration.
 */
import { ClientEnd, TimeoutError } from '../../labrpc';
import type { PutArgs, Version } from '../../lab6/kvapi';
import type {
  DeleteShardArgs,
  FreezeShardArgs,
  FreezeShardReply,
  GetReply,
  InstallShardArgs,
  PutReply,
  ShardReply,
} from '../../lab7/rpc';

/** How long to wait after a round of every server without a leader's answer (virtual ms). */
const ROUND_PAUSE_MS = 100;

/** A reply without ErrWrongLeader: what a leader says. */
type FromLeader<R> = Exclude<R, { err: 'ErrWrongLeader' }>;

/** What the group says to a put (ErrMaybe: a re-sent put answered ErrVersion, lab 2's rule). */
export type GroupPutResult = Exclude<PutReply['err'], 'ErrWrongLeader'> | 'ErrMaybe';

export class GroupClerk {
  private readonly servers: readonly ClientEnd[];
  /** The server that answered last: the likely leader. */
  private leader = 0;

  constructor(servers: readonly ClientEnd[]) {
    this.servers = servers;
  }

  async get(key: string): Promise<FromLeader<GetReply>> {
    return (await this.callLeader<GetReply>('KVServer.Get', { key })).reply;
  }

  async put(key: string, value: string, version: Version): Promise<GroupPutResult> {
    const args: PutArgs = { key, value, version };
    const { reply, attempts } = await this.callLeader<PutReply>('KVServer.Put', args);
    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';
    return reply.err as GroupPutResult;
  }

  async freezeShard(shard: number, num: number): Promise<FromLeader<FreezeShardReply>> {
    const args: FreezeShardArgs = { shard, num };
    return (await this.callLeader<FreezeShardReply>('KVServer.FreezeShard', args)).reply;
  }

  async installShard(shard: number, state: string, num: number): Promise<FromLeader<ShardReply>> {
    const args: InstallShardArgs = { shard, state, num };
    return (await this.callLeader<ShardReply>('KVServer.InstallShard', args)).reply;
  }

  async deleteShard(shard: number, num: number): Promise<FromLeader<ShardReply>> {
    const args: DeleteShardArgs = { shard, num };
    return (await this.callLeader<ShardReply>('KVServer.DeleteShard', args)).reply;
  }

  /** Sends the RPC until a leader answers, starting with the last leader; reports how many copies were sent. */
  private async callLeader<R extends { err: string }>(
    method: string,
    args: object,
  ): Promise<{ reply: FromLeader<R>; attempts: number }> {
    let attempts = 0;
    for (;;) {
      for (let tried = 0; tried < this.servers.length; tried++) {
        attempts++;
        try {
          const reply = await this.servers[this.leader].call<R>(method, args);
          if (reply.err !== 'ErrWrongLeader') return { reply: reply as FromLeader<R>, attempts };
        } catch (err) {
          if (!(err instanceof TimeoutError)) throw err;
        }
        this.leader = (this.leader + 1) % this.servers.length;
      }
      await sleep(ROUND_PAUSE_MS);
    }
  }
}

/** Waits `ms` (virtual) milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
