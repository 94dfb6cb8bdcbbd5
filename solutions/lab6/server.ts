/**
 * Lab 6 reference solution — a server of the replicated key/value service: lab 2's versioned map, run by an RSM.
 *
 * Get and Put only submit an operation to the RSM and answer with what doOp returned for it once it is applied;
 * doOp, called on every server in log order, is lab 2's server. Reads go through the log too: a server that thinks
 * it leads may have been replaced by a majority it cannot hear, and its own map may be stale.
 */
import type { RpcEnd } from '../../labrpc';
import type { GetArgs, GetReply, KVService, PutArgs, PutReply, Version } from '../../lab6/kvapi';
import type { Persister } from '../../lab6/persister';
import type { Op, StateMachine } from '../../lab6/rsmapi';
import { RSM } from './rsm';

/** The operations this service puts in the log. */
type KvOp = { kind: 'get'; key: string } | { kind: 'put'; key: string; value: string; version: Version };

/** A key's value and version. */
interface Entry {
  value: string;
  version: Version;
}

/** The snapshot's form of one key: [key, value, version] (compact: no field names). */
type SavedEntry = [string, string, Version];

export class KVServer implements KVService, StateMachine {
  /** The key/value state (a Map, so that keys such as "__proto__" are plain keys). */
  private data = new Map<string, Entry>();
  readonly rsm: RSM;

  /** Builds server `me` of the group, with its RSM (and so its Raft peer). */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number) {
    this.rsm = new RSM(peers, me, persister, maxRaftState, this);
  }

  /** The Get RPC: the value and version (or ErrNoKey) once the read is in the log; ErrWrongLeader from a non-leader. */
  async Get(args: GetArgs): Promise<GetReply> {
    const op: KvOp = { kind: 'get', key: args.key };
    const r = await this.rsm.submit(op);
    return r.err === 'OK' ? (r.result as GetReply) : r;
  }

  /** The Put RPC: lab 2's rules, applied once the put is in the log; ErrWrongLeader from a non-leader. */
  async Put(args: PutArgs): Promise<PutReply> {
    const op: KvOp = { kind: 'put', key: args.key, value: args.value, version: args.version };
    const r = await this.rsm.submit(op);
    return r.err === 'OK' ? (r.result as PutReply) : r;
  }

  /** Applies one committed operation (called by the RSM, in log order, on every server) and returns its reply. */
  doOp(op: Op): GetReply | PutReply {
    const o = op as KvOp; // only Get and Put submit, so every operation in the log is a KvOp
    const entry = this.data.get(o.key);
    if (o.kind === 'get')
      return entry ? { err: 'OK', value: entry.value, version: entry.version } : { err: 'ErrNoKey' };
    if (!entry) {
      if (o.version !== 0) return { err: 'ErrNoKey' };
      this.data.set(o.key, { value: o.value, version: 1 });
      return { err: 'OK' };
    }
    if (entry.version !== o.version) return { err: 'ErrVersion' };
    entry.value = o.value;
    entry.version += 1;
    return { err: 'OK' };
  }

  /** The whole key/value state as a string: a JSON list of [key, value, version]. */
  snapshot(): string {
    const saved: SavedEntry[] = [...this.data].map(([key, e]) => [key, e.value, e.version]);
    return JSON.stringify(saved);
  }

  /** Replaces the state with one snapshot() produced. */
  restore(snapshot: string): void {
    const saved = JSON.parse(snapshot) as SavedEntry[];
    this.data = new Map(saved.map(([key, value, version]) => [key, { value, version }]));
  }

  /** Stops the server: its RSM, and so its Raft peer. */
  kill(): void {
    this.rsm.kill();
  }
}
