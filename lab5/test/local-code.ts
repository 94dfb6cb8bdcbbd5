/**
 * The code under test loaded in the harness's own process, for the few tests whose spies on fs and sockets must
 * share a process with the student's server (see common.ts, `inHarness`); every other test uses a student host.
 */
import { load } from '../load';
import type { ClientOptions, RunningServer, ServerAddress, ServerOptions } from '../types';
import type { RemoteClient, RemoteRing, StudentCode } from './remote';
import { callsInTurn } from './host-dispatch';

/** Lab5Impl from `dir`, loaded here (through the grader's compartment when grading), with StudentCode's shape. */
export function localCode(dir: string): StudentCode {
  const impl = load(dir);
  return {
    startServer: (options: ServerOptions): Promise<RunningServer> => impl.startServer(options),
    shardedClient: async (servers: readonly ServerAddress[], options?: ClientOptions): Promise<RemoteClient> => {
      const c = new impl.ShardedClient(servers, options);
      return {
        servers,
        indexFor: async (key) => c.indexFor(key),
        serverFor: async (key) => c.serverFor(key),
        command: (index, args) => c.command(index, args),
        set: (key, value, ttl) => c.set(key, value, ttl),
        get: (key) => c.get(key),
        del: (key) => c.del(key),
        expire: (key, seconds) => c.expire(key, seconds),
        ttl: (key) => c.ttl(key),
        incr: (key) => c.incr(key),
        keys: (index, pattern) => c.keys(index, pattern),
        stats: (index) => c.stats(index),
        close: async () => c.close(),
        inTurn: (calls, forMs = 0) =>
          callsInTurn(
            calls,
            forMs,
            async (method, args) => (c as unknown as Record<string, (...a: unknown[]) => unknown>)[method](...args),
            (e) => (e instanceof Error ? e : new Error(`non-Error value thrown: ${String(e)}`)),
          ),
      };
    },
    hashRing: async (nodes?: readonly number[], vnodes?: number): Promise<RemoteRing> => {
      const r = new impl.HashRing(nodes, vnodes);
      return {
        add: async (node) => r.add(node),
        remove: async (node) => r.remove(node),
        nodeFor: async (key) => r.nodeFor(key),
      };
    },
    md5Shard: async (key: string, servers: number): Promise<number> => impl.md5Shard(key, servers),
  };
}
