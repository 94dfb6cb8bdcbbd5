/**
 * Lab 7 reference solution — a server of a shard group: lab 6's key/value service, per shard, with shard moves.
 *
 * Every operation, reads and the three shard RPCs too, goes through the group's RSM, so every server of the group
 * sees the same shards change hands at the same point of the log. Each shard remembers the highest configuration
 * number it was frozen, installed or deleted at: an RPC from an older configuration is refused, and one at the
 * same number is a repeat, which changes nothing. A frozen shard keeps its data (the controller may ask again)
 * but serves nobody; a deleted one keeps only its number.
 */
import type { RpcEnd } from '../../labrpc';
import type { GetArgs, PutArgs, Version } from '../../lab6/kvapi';
import type { Persister } from '../../lab6/persister';
import type { Op, StateMachine } from '../../lab6/rsmapi';
import type {
  DeleteShardArgs,
  FreezeShardArgs,
  FreezeShardReply,
  GetReply,
  InstallShardArgs,
  PutReply,
  ShardReply,
  ShardService,
} from '../../lab7/rpc';
import { GID1, key2shard, NSHARDS, NUM_FIRST, type Gid } from '../../lab7/shardcfg';
import { RSM } from '../lab6/rsm';

/** A key's value and version. */
interface Entry {
  value: string;
  version: Version;
}

/** What a group knows of one shard: serving it, frozen (moving away), or gone (deleted); and at which number. */
interface Shard {
  status: 'serving' | 'frozen' | 'gone';
  num: number;
  kv: Map<string, Entry>;
}

/** The operations the servers put in the log. */
type ShardOp =
  | ({ op: 'get' } & GetArgs)
  | ({ op: 'put' } & PutArgs)
  | ({ op: 'freeze' } & FreezeShardArgs)
  | ({ op: 'install' } & InstallShardArgs)
  | ({ op: 'delete' } & DeleteShardArgs);

/** A shard's keys as FreezeShard hands them over: [key, value, version] triples. */
type Encoded = Array<[string, string, Version]>;

export class ShardServer implements ShardService, StateMachine {
  readonly rsm: RSM;
  /** shards[s]: what this group knows of shard s; undefined for a shard it never had. */
  private shards: Array<Shard | undefined>;

  /** Server `me` of group `gid`; group GID1 starts out serving every shard. */
  constructor(peers: readonly RpcEnd[], me: number, persister: Persister, maxRaftState: number, gid: Gid) {
    this.shards = Array.from({ length: NSHARDS }, () =>
      gid === GID1 ? { status: 'serving', num: NUM_FIRST, kv: new Map<string, Entry>() } : undefined,
    );
    // Built last: the RSM may restore a snapshot over the state above.
    this.rsm = new RSM(peers, me, persister, maxRaftState, this);
  }

  Get(args: GetArgs): Promise<GetReply> {
    return this.run<GetReply>({ op: 'get', key: args.key });
  }

  Put(args: PutArgs): Promise<PutReply> {
    return this.run<PutReply>({ op: 'put', key: args.key, value: args.value, version: args.version });
  }

  FreezeShard(args: FreezeShardArgs): Promise<FreezeShardReply> {
    return this.run<FreezeShardReply>({ op: 'freeze', shard: args.shard, num: args.num });
  }

  InstallShard(args: InstallShardArgs): Promise<ShardReply> {
    return this.run<ShardReply>({ op: 'install', shard: args.shard, state: args.state, num: args.num });
  }

  DeleteShard(args: DeleteShardArgs): Promise<ShardReply> {
    return this.run<ShardReply>({ op: 'delete', shard: args.shard, num: args.num });
  }

  /** Submits `op` and answers with what doOp returned, or ErrWrongLeader. */
  private async run<R>(op: ShardOp): Promise<R | { err: 'ErrWrongLeader' }> {
    const r = await this.rsm.submit(op);
    return r.err === 'OK' ? (r.result as R) : { err: 'ErrWrongLeader' };
  }

  /** Applies one committed operation, the same way on every server of the group. */
  doOp(op: Op): unknown {
    const o = op as ShardOp;
    switch (o.op) {
      case 'get':
      case 'put':
        return this.keyOp(o);
      case 'freeze':
        return this.freeze(o.shard, o.num);
      case 'install':
        return this.install(o.shard, o.num, o.state);
      case 'delete':
        return this.remove(o.shard, o.num);
    }
  }

  /** A get or a put with lab 2's rules, if this group serves the key's shard. */
  private keyOp(o: ({ op: 'get' } & GetArgs) | ({ op: 'put' } & PutArgs)): GetReply | PutReply {
    const shard = this.shards[key2shard(o.key)];
    if (shard?.status !== 'serving') return { err: 'ErrWrongGroup' };
    const entry = shard.kv.get(o.key);
    if (o.op === 'get') return entry ? { err: 'OK', value: entry.value, version: entry.version } : { err: 'ErrNoKey' };
    if (!entry) {
      if (o.version !== 0) return { err: 'ErrNoKey' };
      shard.kv.set(o.key, { value: o.value, version: 1 });
      return { err: 'OK' };
    }
    if (entry.version !== o.version) return { err: 'ErrVersion' };
    shard.kv.set(o.key, { value: o.value, version: entry.version + 1 });
    return { err: 'OK' };
  }

  /** Stops serving shard `s` for configuration `num` and returns its keys (again, for a repeat). */
  private freeze(s: number, num: number): FreezeShardReply {
    const shard = this.shards[s] ?? { status: 'gone', num, kv: new Map<string, Entry>() };
    if (num < shard.num) return { err: 'ErrOldConfig' };
    if (shard.status === 'serving') shard.status = 'frozen';
    shard.num = num;
    this.shards[s] = shard;
    const encoded: Encoded = [...shard.kv].map(([k, e]) => [k, e.value, e.version]);
    return { err: 'OK', state: JSON.stringify(encoded) };
  }

  /** Serves shard `s` from configuration `num` on, with the keys FreezeShard handed over. */
  private install(s: number, num: number, state: string): ShardReply {
    const shard = this.shards[s];
    if (shard && num < shard.num) return { err: 'ErrOldConfig' };
    if (shard && num === shard.num && shard.status === 'serving') return { err: 'OK' };
    const kv = new Map<string, Entry>(
      (JSON.parse(state) as Encoded).map(([k, value, version]) => [k, { value, version }]),
    );
    this.shards[s] = { status: 'serving', num, kv };
    return { err: 'OK' };
  }

  /** Forgets shard `s`'s keys (configuration `num` moved it away); keeps only the number. */
  private remove(s: number, num: number): ShardReply {
    const shard = this.shards[s];
    if (shard && num < shard.num) return { err: 'ErrOldConfig' };
    if (shard?.status === 'serving' && shard.num === num) return { err: 'OK' };
    this.shards[s] = { status: 'gone', num, kv: new Map() };
    return { err: 'OK' };
  }

  /** Every shard's status, number and keys. */
  snapshot(): string {
    return JSON.stringify(
      this.shards.map((sh) => (sh ? [sh.status, sh.num, [...sh.kv].map(([k, e]) => [k, e.value, e.version])] : null)),
    );
  }

  restore(snapshot: string): void {
    const data = JSON.parse(snapshot) as Array<[Shard['status'], number, Encoded] | null>;
    this.shards = data.map((d) =>
      d
        ? { status: d[0], num: d[1], kv: new Map(d[2].map(([k, value, version]) => [k, { value, version }])) }
        : undefined,
    );
  }

  kill(): void {
    this.rsm.kill();
  }
}
