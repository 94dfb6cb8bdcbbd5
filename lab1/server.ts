/**
 * Lab 1 — the key/value server. YOU WRITE THIS FILE.
 *
 * The tester registers each KVServer on the simulated network as the service "KVServer": every method of
 * this class (except the constructor and names starting with "_") can be called by clerks and other servers
 * as "KVServer.<Method>". Keep helpers in functions or other classes so they do not become RPC handlers.
 *
 * The RPC messages are yours: add the fields your clerk and server need (see lab1/README.md). Arguments and
 * replies cross the network as copies of plain data: objects, arrays, strings, numbers, booleans, null.
 */
import type { ServerConfig } from './rpc';

/** Arguments of KVServer.Get. */
export interface GetArgs {
  key: string;
  // TODO: add fields if you need them.
}

/** Reply of KVServer.Get. */
export interface GetReply {
  /** The key's value, "" when the key does not exist. */
  value: string;
  // TODO: add fields if you need them (for example an error for a key whose shard this server does not hold).
}

/** Arguments of KVServer.Put and KVServer.Append. */
export interface PutAppendArgs {
  key: string;
  value: string;
  // TODO: add what the server needs to recognise a re-sent request (part 2).
}

/** Reply of KVServer.Put and KVServer.Append. */
export interface PutAppendReply {
  /** For Append, the value the key had just before; for Put, anything. */
  value: string;
  // TODO: add fields if you need them.
}

export class KVServer {
  private readonly config: ServerConfig;

  // TODO: declare the server's state (the key/value map; later what duplicate detection needs).

  /** `config` says how many shards and replicas there are, which server this is, and has ends to its peers. */
  constructor(config: ServerConfig) {
    this.config = config;
  }

  /** Returns the key's value, or "" if the key does not exist. */
  Get(args: GetArgs): GetReply | Promise<GetReply> {
    // TODO: implement Get.
    throw new Error(
      `TODO: KVServer.Get is not implemented yet (server ${this.config.me}, key "${args.key}"); see lab1/README.md, part 1`,
    );
  }

  /** Installs or replaces the key's value. */
  Put(args: PutAppendArgs): PutAppendReply | Promise<PutAppendReply> {
    // TODO: implement Put.
    throw new Error(
      `TODO: KVServer.Put is not implemented yet (server ${this.config.me}, key "${args.key}"); see lab1/README.md, part 1`,
    );
  }

  /** Appends args.value to the key's value and replies with the value the key had before. */
  Append(args: PutAppendArgs): PutAppendReply | Promise<PutAppendReply> {
    // TODO: implement Append.
    throw new Error(
      `TODO: KVServer.Append is not implemented yet (server ${this.config.me}, key "${args.key}"); see lab1/README.md, part 1`,
    );
  }
}
