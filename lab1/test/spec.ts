/** Lab 1's executable specification: the store a clerk must appear to talk to, written from the handout, one call at a time. */
import { keyToShard, shardServers } from '../rpc';
import type { ClusterConfig } from '../rpc';

/**
 * The handout's single-copy semantics: `get` returns the value or "" for a key nobody wrote; `put` sets it;
 * `append` adds to its end and returns the value before. Each call takes effect exactly once, however many
 * times the clerk had to send it. A Map, so that every string is a key ("__proto__" included).
 */
export class KvSpec {
  private readonly data = new Map<string, string>();
  /** Each key's value before its last write (for commands that write back a value held before). */
  private readonly before = new Map<string, string>();

  /** The key's value ("" for a key nobody wrote). */
  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  /** The key's value before its last write ("" when it had none). */
  heldBefore(key: string): string {
    return this.before.get(key) ?? '';
  }

  /** Sets the key's value. */
  put(key: string, value: string): void {
    this.before.set(key, this.get(key));
    this.data.set(key, value);
  }

  /** Adds `arg` to the end of the key's value; returns the value before. */
  append(key: string, arg: string): string {
    const old = this.get(key);
    this.before.set(key, old);
    this.data.set(key, old + arg);
    return old;
  }

  /** The servers that hold the key's shard (the handout's placement: keyToShard, then shardServers). */
  static holders(key: string, config: ClusterConfig): number[] {
    return shardServers(keyToShard(key, config.nshards), config);
  }
}
