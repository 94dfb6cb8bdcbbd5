/**
 * Lab 1 — the clerk: the client library applications use to talk to the servers. YOU WRITE THIS FILE.
 *
 * `servers[i]` is an end to server i. Send an RPC with `await this.servers[0].call<GetReply>('KVServer.Get', args)`.
 * When the request or its reply is lost, `call` rejects with a TimeoutError: send the request again, to the
 * same server or (part 3) to the next server holding the key's shard. See lab1/README.md.
 */
import { RpcEnd, TimeoutError } from '../labrpc';
import type { ClusterConfig, KVClerk } from './rpc';
import type { GetArgs, GetReply, PutAppendArgs, PutAppendReply } from './server';

export class Clerk implements KVClerk {
  private readonly servers: readonly RpcEnd[];
  private readonly config: ClusterConfig;

  // TODO: add the clerk's state (part 2: an id and a request counter).

  /** `servers` has one end per server; `config` says how many shards and replicas there are. */
  constructor(servers: readonly RpcEnd[], config: ClusterConfig) {
    this.servers = servers;
    this.config = config;
  }

  /** Fetches the key's current value ("" if it does not exist). Keeps trying until it gets an answer. */
  async get(key: string): Promise<string> {
    // TODO: send KVServer.Get and return the value.
    void this.servers;
    void this.config;
    void TimeoutError;
    throw new Error(`TODO: Clerk.get is not implemented yet (key "${key}"); see lab1/README.md, part 1`);
  }

  /** Installs or replaces the key's value, exactly once. */
  async put(key: string, value: string): Promise<void> {
    // TODO: send KVServer.Put.
    throw new Error(
      `TODO: Clerk.put is not implemented yet (key "${key}", ${value.length} characters); see lab1/README.md, part 1`,
    );
  }

  /** Appends `arg` to the key's value, exactly once, and returns the value the key had before. */
  async append(key: string, arg: string): Promise<string> {
    // TODO: send KVServer.Append and return the old value.
    throw new Error(
      `TODO: Clerk.append is not implemented yet (key "${key}", ${arg.length} characters); see lab1/README.md, part 1`,
    );
  }
}
