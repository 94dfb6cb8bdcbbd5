/**
 * Lab 1 reference solution — the clerk.
 *
 * The clerk picks a random id and numbers its writes, so the servers can recognise a re-sent write. It sends
 * each request to the servers of the key's shard in turn — the shard's own server first, then its replicas —
 * moving on whenever a message is lost or a server refuses, and waits a little after each full round.
 */
import { RpcEnd, TimeoutError } from '../../labrpc';
import { keyToShard, shardServers } from '../../lab1/rpc';
import type { ClusterConfig, KVClerk } from '../../lab1/rpc';
import type { GetArgs, GetReply, PutAppendArgs, PutAppendReply } from './server';

/** First wait after a full round of failed tries, and the cap the waits grow to (virtual ms). */
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 100;

export class Clerk implements KVClerk {
  private readonly servers: readonly RpcEnd[];
  private readonly config: ClusterConfig;

  /** A random id (Math.random is seeded in the simulation); 52 bits make a clash between clerks negligible. */
  private readonly clientId = Math.floor(Math.random() * 2 ** 52);
  /** How many writes this clerk has started. */
  private seq = 0;

  constructor(servers: readonly RpcEnd[], config: ClusterConfig) {
    this.servers = servers;
    this.config = config;
  }

  async get(key: string): Promise<string> {
    const args: GetArgs = { key };
    return this.send<GetReply>('KVServer.Get', key, args);
  }

  async put(key: string, value: string): Promise<void> {
    const args: PutAppendArgs = { key, value, clientId: this.clientId, seq: ++this.seq };
    await this.send<PutAppendReply>('KVServer.Put', key, args);
  }

  async append(key: string, arg: string): Promise<string> {
    const args: PutAppendArgs = { key, value: arg, clientId: this.clientId, seq: ++this.seq };
    return this.send<PutAppendReply>('KVServer.Append', key, args);
  }

  /** Sends the same request around the shard's servers until one answers OK; returns the answer's value. */
  private async send<R extends { err: string; value?: string }>(
    method: string,
    key: string,
    args: object,
  ): Promise<string> {
    const replicas = shardServers(keyToShard(key, this.config.nshards), this.config);
    let backoff = FIRST_BACKOFF_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.servers[replicas[attempt % replicas.length]].call<R>(method, args);
        if (reply.err === 'OK') return reply.value ?? '';
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
      }
      if (attempt % replicas.length === replicas.length - 1) {
        await sleep(backoff * (0.5 + Math.random()));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
