/**
 * Lab 4 reference solution — a node of the replicated key/value store (leader or follower).
 *
 * The leader never changes its data on a write. It appends the write to its log, which gives it a sequence
 * number, and one replication loop per follower sends the follower every entry it does not hold yet, many at a
 * time (at most maxBatch entries and about 1 MiB), one call in flight per follower. A follower applies entries
 * strictly in sequence order and ignores the ones it already holds, so a re-sent batch is harmless and every
 * replica walks through the same states. A loop with nothing to send waits for the next write, or heartbeatMs,
 * then sends an empty batch: the answer shows a follower that restarted empty while the cluster was idle.
 * Every Replicate carries the cluster's token, and a follower refuses a call without it: only the leader writes.
 * When W followers hold an entry it is committed: the leader applies it and acknowledges the write. A write
 * that is not committed within writeTimeoutMs is answered ErrNoQuorum (it stays in the log).
 */
import type { RpcEnd } from '../../labrpc';
import {
  SERVICE,
  type GetArgs,
  type GetReply,
  type KVNodeService,
  type LogEntry,
  type NodeConfig,
  type ReplicateArgs,
  type ReplicateReply,
  type SetArgs,
  type SetReply,
  type StatusArgs,
  type StatusReply,
} from '../../lab4/rpc';

/**
 * About how many bytes one Replicate call may carry. A batch bounded by entries only can exceed the transport's
 * body limit (over HTTP 8 MiB, labrpc/http's DEFAULT_MAX_BODY_BYTES: 256 entries of 40 kB are 10 MB), and then
 * every catch-up call is refused and retried unchanged: the follower never catches up. JSON can make a byte
 * of a key or value at most 6 bytes long (a control character is written \u0001), so 1 MiB of keys and values
 * stays under the limit whatever they hold.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

/** Bytes an entry adds to a batch besides its key and value (its seq, field names and punctuation, generously). */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * The entries from seq `next` on: at most `maxEntries` of them, and at most about `maxBytes` (UTF-8 bytes of
 * keys and values plus a framing allowance per entry). The first entry always goes, even alone over the
 * bound, so a single large entry cannot stall a follower.
 */
function nextBatch(log: readonly LogEntry[], next: number, maxEntries: number, maxBytes: number): LogEntry[] {
  const batch: LogEntry[] = [];
  let bytes = 0;
  for (let i = next - 1; i < log.length && batch.length < maxEntries; i++) {
    const e = log[i];
    const size = Buffer.byteLength(e.key) + Buffer.byteLength(e.value) + ENTRY_OVERHEAD_BYTES;
    if (batch.length > 0 && bytes + size > maxBytes) break;
    batch.push(e);
    bytes += size;
  }
  return batch;
}

/** The leader's view of one follower. */
interface Follower {
  readonly end: RpcEnd;
  /** The highest seq this follower is known to hold. */
  match: number;
  /** Wakes the follower's loop when it is idle and a new entry arrives. */
  wake: (() => void) | undefined;
}

/** A write waiting for its quorum. */
interface Waiter {
  readonly seq: number;
  readonly resolve: (reply: SetReply) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  done: boolean;
}

export class KVNode implements KVNodeService {
  private readonly config: NodeConfig;
  private readonly data = new Map<string, string>();
  /** The leader's log: log[i] has seq i + 1. Followers keep no log, only what they applied. */
  private readonly log: LogEntry[] = [];
  /** Follower: the last seq applied. */
  private applied = 0;
  /** Leader: entries up to here are on W followers and applied to `data`. */
  private commitSeq = 0;
  private readonly followers: Follower[];
  /** Writes waiting for their quorum, in seq order. */
  private readonly waiting: Waiter[] = [];
  private stopped = false;

  constructor(config: NodeConfig, followers: RpcEnd[]) {
    this.config = config;
    const { quorum } = config;
    if (config.role === 'leader' && !(Number.isInteger(quorum) && quorum >= 1 && quorum <= followers.length)) {
      throw new RangeError(
        `${config.id}: the write quorum must be a whole number between 1 and the number of followers (${followers.length}); got ${quorum}.`,
      );
    }
    this.followers = config.role === 'leader' ? followers.map((end) => ({ end, match: 0, wake: undefined })) : [];
    for (const f of this.followers) void this.replicateTo(f);
  }

  Set(args: SetArgs): Promise<SetReply> | SetReply {
    if (this.config.role !== 'leader') {
      return {
        err: 'ErrNotLeader',
        message: `${this.config.id} is a follower and does not accept writes; send writes to the leader.`,
      };
    }
    const entry: LogEntry = { seq: this.log.length + 1, key: args.key, value: args.value };
    this.log.push(entry);
    for (const f of this.followers) f.wake?.();
    return new Promise<SetReply>((resolve) => {
      const waiter: Waiter = {
        seq: entry.seq,
        resolve,
        done: false,
        timer: setTimeout(() => {
          waiter.done = true;
          // Timed-out writes leave the queue from its head (they time out in seq order).
          while (this.waiting.length > 0 && this.waiting[0].done) this.waiting.shift();
          const holders = this.followers.filter((f) => f.match >= entry.seq).length;
          resolve({
            err: 'ErrNoQuorum',
            replicas: holders,
            message:
              `write #${entry.seq} reached ${holders} of the ${this.config.quorum} followers it needs within ${this.config.writeTimeoutMs} ms; ` +
              'it was not acknowledged (it stays in the log and may still be applied when followers return).',
          });
        }, this.config.writeTimeoutMs),
      };
      this.waiting.push(waiter);
    });
  }

  Get(args: GetArgs): GetReply {
    const value = this.data.get(args.key);
    return value === undefined ? { err: 'ErrNoKey' } : { err: 'OK', value };
  }

  Status(args: StatusArgs): StatusReply {
    const leader = this.config.role === 'leader';
    return {
      id: this.config.id,
      role: this.config.role,
      lastSeq: leader ? this.log.length : this.applied,
      commitSeq: leader ? this.commitSeq : this.applied,
      dataCount: this.data.size,
      data: args.noData ? {} : Object.fromEntries(this.data),
    };
  }

  Replicate(args: ReplicateArgs): ReplicateReply {
    if (this.config.role === 'leader') return { err: 'ErrNotFollower', lastSeq: this.log.length };
    // Only our leader knows the cluster's token: anyone else who reaches this address must not write to our log.
    if (args.token !== this.config.token) return { err: 'ErrForbidden', lastSeq: this.applied };
    const entries = args.entries;
    if (entries.length > 0 && entries[0].seq > this.applied + 1) return { err: 'ErrGap', lastSeq: this.applied };
    for (const e of entries) {
      if (e.seq <= this.applied) continue; // already held: a re-sent batch
      if (e.seq !== this.applied + 1) break; // not consecutive: keep the prefix we could apply
      this.data.set(e.key, e.value);
      this.applied = e.seq;
    }
    return { err: 'OK', lastSeq: this.applied };
  }

  _stop(): void {
    this.stopped = true;
    for (const f of this.followers) f.wake?.();
    for (const w of this.waiting) clearTimeout(w.timer);
    this.waiting.length = 0;
  }

  /**
   * One follower's replication loop: send what it lacks, one call at a time, until stopped. With nothing to send
   * it waits for the next write, but no longer than heartbeatMs: then it sends an empty batch, whose answer
   * tells where the follower really is (a follower that restarted empty answers lastSeq 0 and is sent the log).
   */
  private async replicateTo(f: Follower): Promise<void> {
    let next = 1;
    let heartbeat = false;
    while (!this.stopped) {
      if (next > this.log.length && !heartbeat) {
        heartbeat = !(await this.idle(f));
        continue;
      }
      heartbeat = false;
      const entries = nextBatch(this.log, next, this.config.maxBatch, MAX_BATCH_BYTES); // none for a heartbeat
      let reply: ReplicateReply;
      try {
        reply = await f.end.call<ReplicateReply>(`${SERVICE}.Replicate`, { entries, token: this.config.token });
      } catch {
        // Lost, or the follower is unreachable: try again a little later, from the same place.
        await sleep(this.config.retryMs);
        continue;
      }
      if (reply.err === 'ErrNotFollower' || reply.err === 'ErrForbidden') {
        // A misconfigured cluster (a leader among the followers, or a different token): keep trying, slowly.
        await sleep(this.config.retryMs);
        continue;
      }
      // OK: it holds everything up to lastSeq. ErrGap: it holds less than we thought; resend from there.
      f.match = reply.lastSeq;
      next = reply.lastSeq + 1;
      if (reply.err === 'OK') this.advanceCommit();
    }
  }

  /** Waits until Set (or _stop) wakes the follower's loop, true, or heartbeatMs pass, false. */
  private idle(f: Follower): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        f.wake = undefined;
        resolve(false);
      }, this.config.heartbeatMs);
      f.wake = () => {
        f.wake = undefined;
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Commits up to the highest seq that W followers hold, applies it, and acknowledges the writes waiting for it. */
  private advanceCommit(): void {
    const matches = this.followers.map((f) => f.match).sort((a, b) => b - a);
    const quorumSeq = matches[this.config.quorum - 1];
    if (quorumSeq <= this.commitSeq) return;
    for (let s = this.commitSeq + 1; s <= quorumSeq; s++) {
      const e = this.log[s - 1];
      this.data.set(e.key, e.value);
    }
    this.commitSeq = quorumSeq;
    while (this.waiting.length > 0 && this.waiting[0].seq <= quorumSeq) {
      const w = this.waiting.shift() as Waiter;
      if (w.done) continue;
      clearTimeout(w.timer);
      const replicas = this.followers.filter((f) => f.match >= w.seq).length;
      w.resolve({ err: 'OK', seq: w.seq, replicas });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
