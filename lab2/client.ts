/**
 * Lab 2 — the clerk: the client library applications use to talk to the server. YOU WRITE THIS FILE.
 *
 * Send RPCs with `await this.server.call<Reply>('KVServer.Get', args)`. When the request or its reply is
 * lost, `call` rejects with a TimeoutError: send the RPC again (see lab2/README.md, part 2).
 */
import { ClientEnd, TimeoutError } from '../labrpc';
import type { GetResult, KVClerk, PutResult, Version } from './rpc';

export class Clerk implements KVClerk {
  private readonly server: ClientEnd;

  constructor(server: ClientEnd) {
    this.server = server;
  }

  /** Reads `key`: its value and version, or ErrNoKey. Keeps trying until the server answers. */
  async get(key: string): Promise<GetResult> {
    // TODO: send KVServer.Get, retrying after a TimeoutError.
    void this.server;
    void TimeoutError;
    throw new Error(`TODO: Clerk.get is not implemented yet (key "${key}"); see lab2/README.md, part 1`);
  }

  /**
   * Writes `value` to `key` if the key is at `version`. Keeps trying until the server answers.
   * Returns ErrMaybe when a re-sent put is answered ErrVersion (an earlier copy may have succeeded).
   */
  async put(key: string, value: string, version: Version): Promise<PutResult> {
    // TODO: send KVServer.Put, retrying after a TimeoutError; remember whether this is a re-send.
    throw new Error(
      `TODO: Clerk.put is not implemented yet (key "${key}", version ${version}); see lab2/README.md, part 1`,
    );
  }
}
