/**
 * Lab 6 — the clerk of the replicated key/value service. YOU WRITE THIS FILE (part 6).
 *
 * Like lab 2's clerk, but the service has several servers and only the leader answers: send to the server that
 * led last time; on ErrWrongLeader or a lost message (`call` rejects with a TimeoutError), try the next one. Lab
 * 2's ErrMaybe rule still holds for a put that had to be sent again. See lab6/README.md, part 6.
 */
import { ClientEnd, TimeoutError } from '../labrpc';
import type { GetResult, KVClerk, PutResult, Version } from './kvapi';

export class Clerk implements KVClerk {
  private readonly servers: readonly ClientEnd[];

  // TODO: remember which server led last time.

  /** `servers[i]` reaches server i of the group. */
  constructor(servers: readonly ClientEnd[]) {
    this.servers = servers;
  }

  /** Reads `key`: its value and version, or ErrNoKey. Keeps trying servers until a leader answers. */
  async get(key: string): Promise<GetResult> {
    // TODO: send KVServer.Get, moving on to the next server after ErrWrongLeader or a TimeoutError.
    void this.servers;
    void TimeoutError;
    throw new Error(`TODO: Clerk.get is not implemented yet (key "${key}"); see lab6/README.md, part 6`);
  }

  /**
   * Writes `value` to `key` if the key is at `version`. Keeps trying servers until a leader answers. Returns
   * ErrMaybe when a put sent again is answered ErrVersion (an earlier attempt may have taken effect).
   */
  async put(key: string, value: string, version: Version): Promise<PutResult> {
    // TODO: send KVServer.Put like get; remember whether an earlier attempt may have reached a leader.
    throw new Error(
      `TODO: Clerk.put is not implemented yet (key "${key}", version ${version}); see lab6/README.md, part 6`,
    );
  }
}
