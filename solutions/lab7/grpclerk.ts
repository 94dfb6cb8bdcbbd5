/**
 * Lab 7 reference solution — the client of one shard group: lab 6's clerk (find the leader, retry) with the three
 * shard RPCs beside Get and Put. ErrWrongGroup goes back to the caller, which knows the configuration; so does a
 * group that no server answers for a while, when the caller says so: it may have left and been shut down.
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

/** Whether to stop sending an RPC that no leader answered yet (asked after each round of the servers). */
export type GiveUp = () => boolean | Promise<boolean>;

/** A reply without ErrWrongLeader: what a leader says. */
type FromLeader<R> = Exclude<R, { err: 'ErrWrongLeader' }>;

/** What the group says to a put (ErrMaybe: a re-sent put answered ErrVersion, lab 2's rule). */
export type GroupPutResult = Exclude<PutReply['err'], 'ErrWrongLeader'> | 'ErrMaybe';

export class GroupClerk {
  private readonly servers: readonly ClientEnd[];
  /** The server that answered last: the likely leader. */
  private leader = 0;
  /** Rounds of every server without a leader's answer after which get and put give up (ErrWrongGroup). */
  private readonly patience: number;

  /** `patience`: give up a get or put after this many rounds of the servers without a leader's answer. */
  constructor(servers: readonly ClientEnd[], patience = Infinity) {
    this.servers = servers;
    this.patience = patience;
  }

  async get(key: string): Promise<FromLeader<GetReply>> {
    const { reply } = await this.callLeader<GetReply>('KVServer.Get', { key }, this.impatient());
    return reply ?? { err: 'ErrWrongGroup' };
  }

  async put(key: string, value: string, version: Version): Promise<GroupPutResult> {
    const args: PutArgs = { key, value, version };
    const { reply, attempts } = await this.callLeader<PutReply>('KVServer.Put', args, this.impatient());
    if (reply === undefined) return 'ErrWrongGroup';
    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';
    return reply.err as GroupPutResult;
  }

  /**
   * The shard RPCs: each is sent until a leader answers, however long that takes, unless `giveUp` (asked after each
   * round of the servers without a leader's answer) says the controller no longer needs it: undefined then.
   */
  async freezeShard(shard: number, num: number, giveUp?: GiveUp): Promise<FromLeader<FreezeShardReply> | undefined> {
    const args: FreezeShardArgs = { shard, num };
    return (await this.callLeader<FreezeShardReply>('KVServer.FreezeShard', args, giveUp)).reply;
  }

  async installShard(
    shard: number,
    state: string,
    num: number,
    giveUp?: GiveUp,
  ): Promise<FromLeader<ShardReply> | undefined> {
    const args: InstallShardArgs = { shard, state, num };
    return (await this.callLeader<ShardReply>('KVServer.InstallShard', args, giveUp)).reply;
  }

  async deleteShard(shard: number, num: number, giveUp?: GiveUp): Promise<FromLeader<ShardReply> | undefined> {
    const args: DeleteShardArgs = { shard, num };
    return (await this.callLeader<ShardReply>('KVServer.DeleteShard', args, giveUp)).reply;
  }

  /** Gives up after `patience` rounds without a leader's answer. */
  private impatient(): GiveUp {
    let rounds = 0;
    return () => ++rounds >= this.patience;
  }

  /**
   * Sends the RPC until a leader answers, starting with the last leader; reports how many copies were sent. After
   * each round of every server without a leader's answer, asks `giveUp`: true ends the calls with no reply.
   */
  private async callLeader<R extends { err: string }>(
    method: string,
    args: object,
    giveUp: GiveUp = () => false,
  ): Promise<{ reply: FromLeader<R> | undefined; attempts: number }> {
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
      if (await giveUp()) return { reply: undefined, attempts };
      await sleep(ROUND_PAUSE_MS);
    }
  }
}

/** Waits `ms` (virtual) milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
