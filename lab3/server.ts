/**
 * Lab 3 — a replicated key/value server with three consistency levels. YOU WRITE THIS FILE.
 *
 * Every server of the cluster runs this class. Clients call "KVServer.Read" and "KVServer.Write" on the
 * server they are bound to; servers talk to each other through `peers` with RPCs of your own design (any
 * public method of this class can be called as "KVServer.<Method>"; names starting with "_" cannot).
 * See lab3/README.md: Lamport clocks, totally ordered broadcast, then the three levels.
 */
import type { RpcEnd } from '../labrpc';
import type {
  ConsistencyLevel,
  KVService,
  ReadArgs,
  ReadReply,
  ServerId,
  ServerOptions,
  WriteArgs,
  WriteReply,
} from './rpc';

export class KVServer implements KVService {
  private readonly me: ServerId;
  private readonly peers: readonly RpcEnd[];
  private readonly level: ConsistencyLevel;
  // TODO: your state — the Lamport clock, the key/value store, the hold-back queue of the broadcast,
  // acknowledgements received, clients waiting for their operation to be delivered, per-link sequence numbers…

  constructor(options: ServerOptions) {
    this.me = options.me;
    this.peers = options.peers;
    this.level = options.level;
  }

  /**
   * Returns the value of `args.key` ("" if none): at once from the local copy (sequential, eventual), or once
   * this server delivers the read through the totally ordered broadcast (linearizable).
   */
  async Read(args: ReadArgs): Promise<ReadReply> {
    // TODO: implement Read for each level.
    throw new Error(
      `TODO: KVServer.Read is not implemented yet (server ${this.me}, level ${this.level}, key "${args.key}", ${this.peers.length} servers); see lab3/README.md`,
    );
  }

  /**
   * Writes `args.value` to `args.key`: through the totally ordered broadcast, answering once this server
   * delivers it (linearizable, sequential), or locally with asynchronous propagation (eventual).
   */
  async Write(args: WriteArgs): Promise<WriteReply> {
    // TODO: implement Write for each level.
    throw new Error(
      `TODO: KVServer.Write is not implemented yet (server ${this.me}, level ${this.level}, key "${args.key}"); see lab3/README.md`,
    );
  }

  // TODO: the RPC handler(s) other servers call, e.g. one that receives a broadcast message or an
  // acknowledgement, and the private helpers of the broadcast.
}
