/** What a controller may send to the shard groups: shard RPCs only, only during one of its moves, with fields a move can have. */
import { TraceHash } from '../../world/hash';
import { NSHARDS } from '../shardcfg';

/** The shard RPC whose OK reply carries a shard's state. */
export const FREEZE = 'KVServer.FreezeShard';
/** The shard RPC that makes a group serve a shard, with the state a freeze handed over. */
export const INSTALL = 'KVServer.InstallShard';
/** The shard RPC that forgets a shard's keys at its old owner. */
export const DELETE = 'KVServer.DeleteShard';

/** The RPCs a controller moves shards with, and their arguments' fields, exactly (rpc.ts's FreezeShardArgs, ...). */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  'KVServer.FreezeShard': ['num', 'shard'],
  'KVServer.InstallShard': ['num', 'shard', 'state'],
  'KVServer.DeleteShard': ['num', 'shard'],
};

/** The fields of a shard RPC, as sent (whatever their types). */
interface ShardFields {
  shard?: unknown;
  num?: unknown;
  state?: unknown;
}

/** A short fingerprint of a shard's state (the tester keeps no state itself: a memory test weighs what servers free). */
function fingerprint(shard: number, state: string): string {
  const h = new TraceHash();
  h.addString(state);
  return `${shard}:${state.length}:${h.digest()}`;
}

const CAUSES =
  'Likely causes: a controller that goes on moving shards after its call returned (a loop or a timer left running); ' +
  'a clerk that uses its controller for anything but query(); a shard RPC sent with a made-up shard, number or state ' +
  '(install exactly the state FreezeShard returned for that shard) or with a field added; or RPCs other than the three shard RPCs sent ' +
  'to a group through a controller’s ends.';

/**
 * The controllers of one test, held to what a move needs: each shard RPC goes out while the tester has a call of
 * that controller running (initConfig, changeConfigTo, initController), names a shard and a configuration number the
 * tester has asked for, and installs a state some group's FreezeShard returned for that shard (or, for a shard no
 * group held, one fixed state per shard). A clerk's controller sends nothing: a clerk uses it only for query().
 */
export class CtrlerRules {
  /** Calls running now, by controller owner. */
  private readonly running = new Map<string, number>();
  /** The highest configuration number the tester has handed a controller. */
  private maxNum = 0;
  /** Fingerprints of every state an OK FreezeShard reply carried. */
  private readonly frozen = new Set<string>();
  /** For each shard, the one state installed that no freeze returned (what the code calls an empty shard). */
  private readonly unfrozen = new Map<number, string>();

  /** A tester's call of controller `owner` starts (for configuration `num`, when it names one). */
  begin(owner: string, num?: number): void {
    this.running.set(owner, (this.running.get(owner) ?? 0) + 1);
    if (typeof num === 'number' && num > this.maxNum) this.maxNum = num;
  }

  /** That call settled. */
  end(owner: string): void {
    this.running.set(owner, (this.running.get(owner) ?? 1) - 1);
  }

  /** Notes a FreezeShard reply (its state may be installed from now on). */
  froze(args: unknown, reply: unknown): void {
    const shard = (args as ShardFields | null)?.shard;
    const r = reply as { err?: unknown; state?: unknown } | null;
    if (typeof shard === 'number' && r?.err === 'OK' && typeof r.state === 'string')
      this.frozen.add(fingerprint(shard, r.state));
  }

  /** What is wrong with `method` `args` sent through an end of controller `owner` (a clerk's when `ofClerk`), or undefined. */
  problem(owner: string, ofClerk: boolean, method: string, args: unknown): string | undefined {
    const what = `A controller sent ${method} with ${describe(args)}`;
    if (ofClerk)
      return `${what} through the ends a clerk's controller was given. Expected a clerk's controller to send nothing to the groups: a clerk uses its controller only to read the configuration (query). ${CAUSES}`;
    if (!Object.hasOwn(FIELDS, method))
      return `${what}. Expected a controller to send the groups only KVServer.FreezeShard, InstallShard and DeleteShard. ${CAUSES}`;
    if (!this.running.get(owner))
      return `${what} while none of its initConfig, changeConfigTo and initController calls ran. Expected shard RPCs only from inside those calls. ${CAUSES}`;
    const fields = args !== null && typeof args === 'object' ? Object.keys(args).sort() : [];
    if (fields.join() !== FIELDS[method].join())
      return `${what}: its fields are ${fields.join(', ') || 'none'}. Expected exactly ${FIELDS[method].join(', ')}, nothing added. ${CAUSES}`;
    const { shard, num, state } = (args ?? {}) as ShardFields;
    if (!Number.isInteger(shard) || (shard as number) < 0 || (shard as number) >= NSHARDS)
      return `${what}: no shard is numbered ${String(shard)}. Expected a shard from 0 to ${NSHARDS - 1}. ${CAUSES}`;
    if (!Number.isInteger(num) || (num as number) < 0 || (num as number) > this.maxNum)
      return `${what}: the tester has asked for no configuration numbered ${String(num)} (the highest is ${this.maxNum}). Expected the number of the configuration the move is for. ${CAUSES}`;
    if (method === INSTALL) return this.installProblem(what, shard as number, state);
    return undefined;
  }

  /** What is wrong with installing `state` in `shard`, or undefined. */
  private installProblem(what: string, shard: number, state: unknown): string | undefined {
    if (typeof state !== 'string') return `${what}: its state is not a string. ${CAUSES}`;
    if (this.frozen.has(fingerprint(shard, state))) return undefined;
    const before = this.unfrozen.get(shard);
    if (before === undefined) {
      this.unfrozen.set(shard, state);
      return undefined;
    }
    if (before === state) return undefined;
    return `${what}: no FreezeShard of shard ${shard} returned that state, and it differs from the state installed there before when no group had held the shard. Expected InstallShard to carry exactly what FreezeShard returned (or, for a shard no group held, your one encoding of an empty shard). ${CAUSES}`;
  }
}

/** A short, safe picture of RPC arguments for a message. */
function describe(args: unknown): string {
  if (args === null || typeof args !== 'object') return String(args);
  const { shard, num, state } = args as ShardFields;
  const s = typeof state === 'string' ? `, state of ${state.length} characters` : '';
  return `{ shard: ${String(shard)}, num: ${String(num)}${s} }`;
}
