/**
 * Lab 3 reference solution — a replicated key/value server with three consistency levels.
 *
 * Layers, bottom up:
 * 1. FIFO links. Messages to a peer can overtake each other, so every message carries a per-link sequence
 *    number and the receiver handles them strictly in that order, holding back early arrivals. A failed
 *    call (a real transport whose peer is not up yet) is re-sent; the receiver drops duplicates.
 * 2. Lamport clocks: tick before every send; on every receipt jump past the sender's clock.
 * 3. Totally ordered broadcast with acknowledgements: a broadcast message goes to every server (this one
 *    too), each receiver queues it by (clock, server) and acknowledges it to everyone; a server delivers the
 *    head of its queue once every server has acknowledged it. Because links are FIFO, a message with a
 *    smaller timestamp can no longer arrive at that point, so all servers deliver in the same order.
 * 4. The consistency levels on top:
 *    - linearizable: reads and writes are broadcast; the server answers the client when it delivers its own
 *      message (a read returns the value at that point of the total order);
 *    - sequential: writes are broadcast as above; reads return the local copy at once;
 *    - eventual: a write is applied locally and answered at once, then sent to the others; every copy keeps
 *      the write with the largest (clock, server, value), so all copies end up equal.
 */
import type { RpcEnd } from '../../labrpc';
import type {
  ConsistencyLevel,
  KVService,
  ReadArgs,
  ReadReply,
  ServerId,
  ServerOptions,
  Timestamp,
  WriteArgs,
  WriteReply,
} from '../../lab3/rpc';

/** An operation ordered by the broadcast. */
type Op = { kind: 'read'; key: string } | { kind: 'write'; key: string; value: string };

/** What servers say to each other. */
type Body =
  | { type: 'broadcast'; ts: Timestamp; op: Op }
  | { type: 'ack'; clock: number; of: Timestamp }
  | { type: 'update'; ts: Timestamp; key: string; value: string };

/** A message on a FIFO link: the sender and its sequence number on this link. */
interface Envelope {
  from: ServerId;
  seq: number;
  body: Body;
}

/** A stored value and the timestamp of the write that put it there. */
interface Entry {
  value: string;
  ts: Timestamp;
}

/** A broadcast message waiting in the hold-back queue. */
interface Queued {
  ts: Timestamp;
  op: Op;
}

/** How long to wait before re-sending a message whose call failed, ms. */
const RESEND_MS = 100;

/** Orders timestamps: clock first, then server id. */
function compareTs(a: Timestamp, b: Timestamp): number {
  return a.clock - b.clock || a.server - b.server;
}

/** A map key for a timestamp (unique per message, since each server ticks before every broadcast). */
function tsKey(ts: Timestamp): string {
  return `${ts.clock}.${ts.server}`;
}

/** Last-writer-wins: true when write `a` beats write `b`, comparing (clock, server id, value). */
function newer(a: Entry, b: Entry): boolean {
  if (a.ts.clock !== b.ts.clock) return a.ts.clock > b.ts.clock;
  if (a.ts.server !== b.ts.server) return a.ts.server > b.ts.server;
  return a.value > b.value;
}

export class KVServer implements KVService {
  private readonly me: ServerId;
  private readonly peers: readonly RpcEnd[];
  private readonly level: ConsistencyLevel;
  private clock = 0;
  private readonly store = new Map<string, Entry>();

  // FIFO links.
  private readonly nextSendSeq: number[];
  private readonly nextRecvSeq: number[];
  private readonly early: Array<Map<number, Body>>;

  // Totally ordered broadcast.
  private readonly queue: Queued[] = [];
  private readonly acks = new Map<string, Set<ServerId>>();
  private readonly waiting = new Map<string, (value: string) => void>();

  constructor(options: ServerOptions) {
    this.me = options.me;
    this.peers = options.peers;
    this.level = options.level;
    const n = this.peers.length;
    this.nextSendSeq = new Array<number>(n).fill(0);
    this.nextRecvSeq = new Array<number>(n).fill(0);
    this.early = Array.from({ length: n }, () => new Map<number, Body>());
  }

  /** Reads a key: locally in the sequential and eventual levels, through the total order when linearizable. */
  async Read(args: ReadArgs): Promise<ReadReply> {
    const local = this.level !== 'linearizable';
    if (local) return { value: this.store.get(args.key)?.value ?? '' };
    const value = await this.broadcast({ kind: 'read', key: args.key });
    return { value };
  }

  /** Writes a key: through the total order, or (eventual) locally with asynchronous propagation. */
  async Write(args: WriteArgs): Promise<WriteReply> {
    if (this.level === 'eventual') {
      const ts = { clock: ++this.clock, server: this.me };
      this.applyIfNewer({ value: args.value, ts }, args.key);
      this.peers.forEach((_, j) => {
        if (j !== this.me) this.send(j, { type: 'update', ts, key: args.key, value: args.value });
      });
      return { ok: true };
    }
    await this.broadcast({ kind: 'write', key: args.key, value: args.value });
    return { ok: true };
  }

  /** The one RPC servers call on each other: a message on a FIFO link. */
  Peer(env: Envelope): Record<string, never> {
    const from = env.from;
    if (env.seq < this.nextRecvSeq[from] || this.early[from].has(env.seq)) return {}; // a duplicate from a re-send
    this.early[from].set(env.seq, env.body);
    for (
      let body = this.early[from].get(this.nextRecvSeq[from]);
      body !== undefined;
      body = this.early[from].get(this.nextRecvSeq[from])
    ) {
      this.early[from].delete(this.nextRecvSeq[from]);
      this.nextRecvSeq[from]++;
      this.receive(from, body);
    }
    return {};
  }

  /** Broadcasts `op` in total order; resolves when this server delivers it, with the value a read sees. */
  private broadcast(op: Op): Promise<string> {
    const ts = { clock: ++this.clock, server: this.me };
    const delivered = new Promise<string>((resolve) => this.waiting.set(tsKey(ts), resolve));
    this.peers.forEach((_, j) => this.send(j, { type: 'broadcast', ts, op }));
    return delivered;
  }

  /** Sends a message on the FIFO link to server `to`, re-sending it if the call fails. */
  private send(to: ServerId, body: Body): void {
    const env: Envelope = { from: this.me, seq: this.nextSendSeq[to]++, body };
    const attempt = (): void => {
      // Lost or refused (a real peer not started yet): try again later; the receiver drops duplicates.
      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));
    };
    attempt();
  }

  /** Handles one message, in FIFO order for its link. */
  private receive(from: ServerId, body: Body): void {
    switch (body.type) {
      case 'broadcast': {
        this.clock = Math.max(this.clock, body.ts.clock) + 1;
        const at = this.queue.findIndex((q) => compareTs(body.ts, q.ts) < 0);
        this.queue.splice(at < 0 ? this.queue.length : at, 0, { ts: body.ts, op: body.op });
        const clock = ++this.clock;
        this.peers.forEach((_, j) => this.send(j, { type: 'ack', clock, of: body.ts }));
        break;
      }
      case 'ack': {
        this.clock = Math.max(this.clock, body.clock) + 1;
        const key = tsKey(body.of);
        const set = this.acks.get(key) ?? new Set<ServerId>();
        set.add(from);
        this.acks.set(key, set);
        break;
      }
      case 'update':
        this.clock = Math.max(this.clock, body.ts.clock) + 1;
        this.applyIfNewer({ value: body.value, ts: body.ts }, body.key);
        return;
    }
    this.deliverReady();
  }

  /** Delivers queued messages from the head while every server has acknowledged the head. */
  private deliverReady(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const key = tsKey(head.ts);
      const acked = this.acks.get(key)?.size ?? 0;
      if (acked < this.peers.length) break;
      this.queue.shift();
      this.acks.delete(key);
      let value: string;
      if (head.op.kind === 'write') {
        this.store.set(head.op.key, { value: head.op.value, ts: head.ts });
        value = head.op.value;
      } else {
        value = this.store.get(head.op.key)?.value ?? '';
      }
      const reply = this.waiting.get(key);
      if (reply) {
        this.waiting.delete(key);
        reply(value);
      }
    }
  }

  /** Last-writer-wins: keeps `entry` for `key` if it beats what is stored. */
  private applyIfNewer(entry: Entry, key: string): void {
    const cur = this.store.get(key);
    if (!cur || newer(entry, cur)) this.store.set(key, entry);
  }
}
