/**
 * Lab 1 reference solution — the server.
 *
 * Each shard lives on `nreplicas` servers; its primary is the first of them that is running. Only the primary
 * executes operations, one at a time per shard: it applies a put or append to its copy, sends the same
 * operation to the shard's other running servers, and replies once they all have it. A server asked about a
 * shard it holds but does not lead forwards the request to the primary; a server asked about a shard it does
 * not hold refuses (ErrWrongShard) so that the clerk tries elsewhere.
 *
 * Exactly-once: a clerk numbers its writes 1, 2, 3, ... and sends one at a time, so each shard keeps, per
 * client, only the number of that client's last write and the reply it got. A request with a number at or
 * below that is a re-send: it gets the remembered reply instead of running again. Gets change nothing and are
 * not remembered at all.
 *
 * Failover: a primary may stop mid-write, when some backups have the write and others not. So whenever a
 * server finds itself primary of a shard with a set of running copies it has not yet seen (it just took over,
 * or a copy stopped or came back), it first sends its whole copy of the shard — data and exactly-once table —
 * to every running backup, which adopts it, and only then serves the next operation. Every acknowledged write
 * is on every running copy (the primary replied only once they all had it), hence on the new primary, and
 * from there on every copy again: the copies agree, in content and order, before anything new happens. A
 * write the old primary had not acknowledged is either kept (the new primary had it) or dropped everywhere
 * (it did not); either way the clerk's re-send then finds exactly one copy of it. The tester restarts only
 * servers that missed no acknowledged write, but one may come back while a write is being copied, after the primary
 * found it stopped: before acknowledging, the primary checks again and sends its whole copy to any backup that
 * came back, so that a restarted server never leads with an out-of-date copy.
 *
 * A server cannot always see that another led in the meantime: a copy that led, handed over, and leads again
 * with the same servers running may have missed a whole interim lead (a restarted server led for a moment and
 * stopped again before its writes reached this copy). So every copy remembers whose copy it follows (the primary
 * whose Install it took last), and a backup refuses a write from a primary it does not follow (ErrSync): the
 * primary then sends it its whole copy, which already holds the write.
 */
import { TimeoutError } from '../../labrpc';
import { keyToShard, shardServers } from '../../lab1/rpc';
import type { ServerConfig } from '../../lab1/rpc';

/** Arguments of KVServer.Get. */
export interface GetArgs {
  key: string;
}

/** Arguments of KVServer.Put and KVServer.Append. */
export interface PutAppendArgs {
  key: string;
  value: string;
  /** The clerk's random id. */
  clientId: number;
  /** The clerk's write counter: 1 for its first put or append, then 2, ... */
  seq: number;
}

/** Why a server did not answer: it does not hold the key's shard, or it could not reach the shard's primary. */
export type Refusal = { err: 'ErrWrongShard' } | { err: 'ErrRetry' };

/** Reply of KVServer.Get: the value ("" for a missing key). */
export type GetReply = { err: 'OK'; value: string } | Refusal;

/** Reply of KVServer.Put and KVServer.Append: the old value for Append, "" for Put. */
export type PutAppendReply = { err: 'OK'; value: string } | Refusal;

/** Arguments of KVServer.Replicate: a write the primary has applied, for a backup to apply too. */
export interface ReplicateArgs extends PutAppendArgs {
  op: 'Put' | 'Append';
  /** The primary that sends it. */
  from: number;
}

/** Reply of KVServer.Replicate and KVServer.Install: ErrSync when the backup follows another primary's copy. */
export interface ReplicateReply {
  err: 'OK' | 'ErrSync';
}

/** Arguments of KVServer.Install: a new primary's whole copy of one shard, for a backup to adopt. */
export interface InstallArgs {
  shard: number;
  /** The primary that sends it. */
  from: number;
  /** The shard's keys and values. */
  data: [string, string][];
  /** The exactly-once table: client id, number of its last write, the reply that write got. */
  lastWrites: [number, number, string][];
}

/** First wait before re-sending to a backup, and the cap the waits grow to (virtual ms). */
const FIRST_BACKOFF_MS = 5;
const MAX_BACKOFF_MS = 100;

/** The RPC handlers. All the work is done by a ShardStore, so that only these methods are callable. */
export class KVServer {
  private readonly store: ShardStore;

  constructor(config: ServerConfig) {
    this.store = new ShardStore(config);
  }

  /** Reads a key (through the shard's primary). */
  Get(args: GetArgs): Promise<GetReply> {
    return this.store.serve('KVServer.Get', args.key, args, (shard) => ({ err: 'OK', value: shard.read(args.key) }));
  }

  /** Replaces a key's value, exactly once. */
  Put(args: PutAppendArgs): Promise<PutAppendReply> {
    return this.store.serve('KVServer.Put', args.key, args, (shard, id) =>
      this.store.write(shard, id, { ...args, op: 'Put', from: this.store.config.me }),
    );
  }

  /** Appends to a key's value and returns the old value, exactly once. */
  Append(args: PutAppendArgs): Promise<PutAppendReply> {
    return this.store.serve('KVServer.Append', args.key, args, (shard, id) =>
      this.store.write(shard, id, { ...args, op: 'Append', from: this.store.config.me }),
    );
  }

  /** A backup's side of replication: apply what the primary applied (re-sends are recognised and skipped). */
  Replicate(args: ReplicateArgs): ReplicateReply {
    const shard = this.store.shard(keyToShard(args.key, this.store.config.nshards));
    shard.syncedWith = ''; // another server leads the shard now: if this one leads again, it must sync first
    // A primary whose copy this one does not follow may lack writes this copy took from another: it must send
    // its whole copy first.
    if (shard.follows !== args.from) return { err: 'ErrSync' };
    shard.apply(args);
    return { err: 'OK' };
  }

  /** A backup's side of a takeover: replace its copy of the shard by the new primary's. */
  Install(args: InstallArgs): ReplicateReply {
    this.store.shard(args.shard).install(args);
    return { err: 'OK' };
  }
}

/** What one client's last write was, and what it replied. */
interface LastWrite {
  seq: number;
  reply: string;
}

/** One shard's copy on this server: the data, the exactly-once table, and the queue that orders operations. */
class Shard {
  private readonly data = new Map<string, string>();
  private readonly lastWrite = new Map<number, LastWrite>();
  private tail: Promise<unknown> = Promise.resolve();
  /**
   * As primary: the running servers of the shard when this copy was last sent to them all ("" = never, or
   * another server has led the shard since: its writes or its copy reached this one).
   */
  syncedWith = '';
  /** As backup: the primary whose copy this one took last (by Install), undefined before any. */
  follows: number | undefined;

  /** The key's value, "" when missing. */
  read(key: string): string {
    return this.data.get(key) ?? '';
  }

  /** The reply already given to this write if it is a re-send, else undefined. */
  duplicateReply(w: PutAppendArgs): string | undefined {
    const last = this.lastWrite.get(w.clientId);
    if (!last || w.seq > last.seq) return undefined;
    // An older number is a stray copy of a write the clerk has long finished with: any reply will do.
    return w.seq === last.seq ? last.reply : '';
  }

  /** This copy as plain data, for Install. */
  snapshot(shard: number, from: number): InstallArgs {
    return {
      shard,
      from,
      data: [...this.data],
      lastWrites: [...this.lastWrite].map(([client, last]) => [client, last.seq, last.reply]),
    };
  }

  /** Replaces this copy by a primary's snapshot (writes only this copy had were never acknowledged). */
  install(s: InstallArgs): void {
    this.syncedWith = ''; // another server leads the shard now: if this one leads again, it must sync first
    this.follows = s.from;
    this.data.clear();
    for (const [key, value] of s.data) this.data.set(key, value);
    this.lastWrite.clear();
    for (const [client, seq, reply] of s.lastWrites) this.lastWrite.set(client, { seq, reply });
  }

  /** Applies a write unless it was already applied; returns its reply (the old value for Append). */
  apply(w: ReplicateArgs): string {
    const dup = this.duplicateReply(w);
    if (dup !== undefined) return dup;
    const old = this.read(w.key);
    this.data.set(w.key, w.op === 'Append' ? old + w.value : w.value);
    // Remember only this client's latest write: its previous reply is no longer needed.
    const reply = w.op === 'Append' ? old : '';
    this.lastWrite.set(w.clientId, { seq: w.seq, reply });
    return reply;
  }

  /** Runs `fn` once every operation queued on this shard before it has finished: one operation at a time. */
  serialize<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** The shards this server holds, and the rules for who executes what. */
class ShardStore {
  readonly config: ServerConfig;
  private readonly shards = new Map<number, Shard>();

  constructor(config: ServerConfig) {
    this.config = config;
  }

  /** This server's copy of a shard (created empty on first use). */
  shard(id: number): Shard {
    let s = this.shards.get(id);
    if (!s) {
      s = new Shard();
      this.shards.set(id, s);
    }
    return s;
  }

  /**
   * Routes a client request: refuse it if this server does not hold the key's shard, forward it if another
   * server is the shard's primary, else run `op` in the shard's queue.
   */
  async serve<R extends { err: string }>(
    method: string,
    key: string,
    args: object,
    op: (shard: Shard, id: number) => R | Promise<R>,
  ): Promise<R | Refusal> {
    const id = keyToShard(key, this.config.nshards);
    const servers = shardServers(id, this.config);
    if (!servers.includes(this.config.me)) return { err: 'ErrWrongShard' };
    const primary = this.primaryOf(id);
    if (primary === undefined) return { err: 'ErrRetry' };
    if (primary !== this.config.me) return this.forward<R>(primary, method, args);
    const shard = this.shard(id);
    return shard.serialize(async (): Promise<R | Refusal> => {
      // While the request waited in the queue, a copy listed before this one may have come back and taken the
      // shard over: its copy now decides, and this one must not run the request or push its copy to anyone.
      const now = this.primaryOf(id);
      if (now !== this.config.me) return now === undefined ? { err: 'ErrRetry' } : this.forward<R>(now, method, args);
      if (!(await this.syncBackups(shard, id))) return { err: 'ErrRetry' };
      return op(shard, id);
    });
  }

  /** The shard's primary: the first of its servers that is running (undefined when none is). */
  private primaryOf(id: number): number | undefined {
    return shardServers(id, this.config).find((s) => this.config.isRunning(s));
  }

  /**
   * As the shard's primary, in its queue: if the shard's running servers are not the ones this copy was last
   * sent to (this server just took over, or a copy stopped or came back), sends the whole copy to every running
   * backup before anything else runs, so that all running copies agree.
   */
  private async syncBackups(shard: Shard, id: number): Promise<boolean> {
    const running = shardServers(id, this.config).filter((s) => this.config.isRunning(s));
    const key = running.join(',');
    if (shard.syncedWith === key) return true;
    const snapshot = shard.snapshot(id, this.config.me);
    const backups = running.filter((s) => s !== this.config.me);
    const sent = await Promise.all(backups.map((b) => this.sendToBackup(shard, id, b, 'KVServer.Install', snapshot)));
    if (sent.includes('no longer primary')) return false;
    if (!(await this.reachReturned(shard, id, new Set(backups.filter((_, i) => sent[i] === 'sent'))))) return false;
    shard.syncedWith = key;
    return true;
  }

  /**
   * As the shard's primary, before acknowledging: until every running backup is in `done`, sends the whole copy
   * to those that are not. A backup found stopped may come back while a write is still being copied (it missed no
   * acknowledged write, but it lacks this one): the write may be acknowledged only once it has it too. False when
   * this server no longer leads the shard.
   */
  private async reachReturned(shard: Shard, id: number, done: Set<number>): Promise<boolean> {
    for (;;) {
      const missing = shardServers(id, this.config).filter(
        (s) => s !== this.config.me && this.config.isRunning(s) && !done.has(s),
      );
      if (missing.length === 0) return true;
      const snapshot = shard.snapshot(id, this.config.me);
      const sent = await Promise.all(missing.map((b) => this.sendToBackup(shard, id, b, 'KVServer.Install', snapshot)));
      if (sent.includes('no longer primary')) return false;
      missing.forEach((b, i) => sent[i] === 'sent' && done.add(b));
    }
  }

  /** The primary's side of a write: apply it, then make sure every running backup has it before replying. */
  async write(shard: Shard, id: number, w: ReplicateArgs): Promise<PutAppendReply | Refusal> {
    // A re-send is answered from the table: every running copy already has the write (the backups were
    // brought up to date when this server took over, and before that the old primary waited for them).
    const dup = shard.duplicateReply(w);
    if (dup !== undefined) return { err: 'OK', value: dup };
    const reply = shard.apply(w);
    const backups = shardServers(id, this.config).filter((s) => s !== this.config.me);
    const sent = await Promise.all(backups.map((b) => this.sendToBackup(shard, id, b, 'KVServer.Replicate', w)));
    // Another copy took the shard over before every backup had the write: not acknowledged here. The clerk's
    // re-send reaches the new primary, whose copy decides whether it happened.
    if (sent.includes('no longer primary')) return { err: 'ErrRetry' };
    // A backup found stopped may have come back meanwhile: it gets the whole copy before the write is acknowledged.
    const acked = new Set(backups.filter((_, i) => sent[i] === 'sent'));
    if (!(await this.reachReturned(shard, id, acked))) return { err: 'ErrRetry' };
    return { err: 'OK', value: reply };
  }

  /**
   * Sends a call to one backup of shard `id` until it acknowledges, or until the backup stops ('backup stopped':
   * it gets the whole copy when it comes back), or until this server no longer leads the shard (a stopped server
   * leads nothing; a copy before it in the list came back): its copy must then reach no one. A backup that
   * follows another primary's copy (ErrSync) gets this server's whole copy instead, which holds the write.
   */
  private async sendToBackup(
    shard: Shard,
    id: number,
    backup: number,
    method: 'KVServer.Replicate' | 'KVServer.Install',
    args: ReplicateArgs | InstallArgs,
  ): Promise<'sent' | 'backup stopped' | 'no longer primary'> {
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';
      if (!this.config.isRunning(backup)) return 'backup stopped';
      try {
        const reply = await this.config.peers[backup].call<ReplicateReply>(method, args);
        if (reply.err === 'OK') return 'sent';
        [method, args] = ['KVServer.Install', shard.snapshot(id, this.config.me)];
        continue;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
      }
      await sleep(backoff * (0.5 + Math.random()));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** Passes a request to the shard's primary once; if that is lost, the clerk will try again. */
  private async forward<R>(primary: number, method: string, args: object): Promise<R | Refusal> {
    try {
      return await this.config.peers[primary].call<R>(method, args);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      return { err: 'ErrRetry' };
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
