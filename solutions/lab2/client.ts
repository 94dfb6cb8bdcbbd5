/**
 * Lab 2 reference solution — the clerk.
 *
 * A lost request or reply shows up as a TimeoutError; the clerk simply sends the same RPC again, waiting a
 * little longer each time. Gets are safe to repeat. A put is not always: if a re-sent put comes back
 * ErrVersion, the first copy may have been the one that moved the version, so the clerk answers ErrMaybe.
 */
import { ClientEnd, TimeoutError } from '../../labrpc';
import type { GetArgs, GetReply, GetResult, KVClerk, PutArgs, PutReply, PutResult, Version } from '../../lab2/rpc';

/** First wait after a lost message, and the cap the waits grow to (virtual ms). */
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 100;

export class Clerk implements KVClerk {
  private readonly server: ClientEnd;

  constructor(server: ClientEnd) {
    this.server = server;
  }

  async get(key: string): Promise<GetResult> {
    const args: GetArgs = { key };
    const { reply } = await this.callUntilAnswered<GetReply>('KVServer.Get', args);
    return reply;
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    const args: PutArgs = { key, value, version };
    const { reply, attempts } = await this.callUntilAnswered<PutReply>('KVServer.Put', args);
    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';
    return reply.err;
  }

  /** Sends the RPC until a reply arrives; reports how many attempts it took. */
  private async callUntilAnswered<R>(method: string, args: object): Promise<{ reply: R; attempts: number }> {
    let backoff = FIRST_BACKOFF_MS;
    for (let attempts = 1; ; attempts++) {
      try {
        const reply = await this.server.call<R>(method, args);
        return { reply, attempts };
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
      }
      await sleep(backoff * (0.5 + Math.random()));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
