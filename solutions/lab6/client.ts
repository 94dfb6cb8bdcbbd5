/**
 * Lab 6 reference solution — the clerk of the replicated key/value service: finds the leader and retries.
 *
 * It sends each request to the server that led last time; on ErrWrongLeader or a lost message it moves on to the
 * next server, and after a whole round without a leader it waits a little (an election may be under way). Gets are
 * safe to repeat. A put sent more than once may have taken effect at an earlier attempt: a lost reply hides a put
 * that happened, and a leader that answered ErrWrongLeader because it lost its leadership after start() may still
 * see its entry committed by the next leader. So a re-sent put answered ErrVersion is ErrMaybe (lab 2's rule).
 */
import { ClientEnd, TimeoutError } from '../../labrpc';
import type { GetArgs, GetResult, KVClerk, PutArgs, PutResult, Version } from '../../lab6/kvapi';

/** How long to wait after a round of every server without a leader's answer (virtual ms). */
const ROUND_PAUSE_MS = 100;

/** A server's reply when it does not lead. */
type WrongLeader = { err: 'ErrWrongLeader' };

/** A Put reply from a server that leads (any PutReply but ErrWrongLeader). */
type PutAnswer = { err: Exclude<PutResult, 'ErrMaybe'> };

export class Clerk implements KVClerk {
  private readonly servers: readonly ClientEnd[];

  /** The server that answered last: the likely leader. */
  private leader = 0;

  /** `servers[i]` reaches server i of the group. */
  constructor(servers: readonly ClientEnd[]) {
    this.servers = servers;
  }

  /** Reads `key`: its value and version, or ErrNoKey. */
  async get(key: string): Promise<GetResult> {
    const args: GetArgs = { key };
    const { reply } = await this.callLeader<GetResult>('KVServer.Get', args);
    return reply;
  }

  /** Writes `value` to `key` if the key is at `version`; ErrMaybe when a re-sent put is answered ErrVersion. */
  async put(key: string, value: string, version: Version): Promise<PutResult> {
    const args: PutArgs = { key, value, version };
    const { reply, attempts } = await this.callLeader<PutAnswer>('KVServer.Put', args);
    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';
    return reply.err;
  }

  /** Sends the RPC until a leader answers, starting with the last leader; reports how many copies were sent. */
  private async callLeader<A>(method: string, args: object): Promise<{ reply: A; attempts: number }> {
    let attempts = 0;
    for (;;) {
      for (let tried = 0; tried < this.servers.length; tried++) {
        attempts++;
        try {
          const reply = await this.servers[this.leader].call<A | WrongLeader>(method, args);
          if (!isWrongLeader(reply)) return { reply, attempts };
        } catch (err) {
          if (!(err instanceof TimeoutError)) throw err;
        }
        this.leader = (this.leader + 1) % this.servers.length;
      }
      await sleep(ROUND_PAUSE_MS);
    }
  }
}

/** True for a server's "I do not lead: ask another server". */
function isWrongLeader(reply: unknown): reply is WrongLeader {
  return (reply as { err?: unknown }).err === 'ErrWrongLeader';
}

/** Waits `ms` (virtual) milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
