/**
 * Lab 5's code under test as the harness sees it: the same operations as Lab5Impl, each one a request to the
 * student host (host-link.ts) and every answer checked as untrusted data. Calls are asynchronous, constructors too.
 */
import { RespError, type RespReply } from '../resp';
import type { ServerStats } from '../info';
import type {
  ClientOptions,
  ConsistentRing,
  KVClient,
  RetryNotice,
  RunningServer,
  ServerAddress,
  ServerOptions,
} from '../types';
import {
  MAX_CALLS_IN_TURN,
  isRecord,
  readWireError,
  type InTurnOutcome,
  type METHODS,
  type Plain,
} from './host-protocol';
import { rebuiltError, type HostLink } from './host-link';

/** An interface with every method asynchronous: what a call to the student host returns (its fields stay as they are). */
type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};

/** ShardedClient as the harness uses it: KVClient's methods, every one asynchronous, and calls made in turn there. */
export interface RemoteClient extends Remote<KVClient> {
  /**
   * `calls` made one after another where the client runs, each as soon as the one before it settled (in the same
   * tick there: no round trip to the harness in between), repeated until `forMs` has passed (0: once); one outcome
   * per call made. For tests whose point is what the client does "at once" after a reply or a failure.
   */
  inTurn(calls: readonly ClientCall[], forMs?: number): Promise<Array<InTurnOutcome<Error>>>;
}

/** A method of ShardedClient and its arguments, for RemoteClient.inTurn. */
export interface ClientCall {
  readonly method: (typeof METHODS.client)[number];
  readonly args: readonly unknown[];
}

/** HashRing as the harness uses it: ConsistentRing's methods, every one asynchronous. */
export type RemoteRing = Remote<ConsistentRing>;

/** The reply `v` as RespReply (RespError replies come marked). */
export function toReply(v: Plain | undefined): RespReply {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(toReply);
  if (isRecord(v)) return typeof v.$respError === 'string' ? new RespError(v.$respError) : JSON.stringify(v);
  return typeof v === 'boolean' ? String(v) : v;
}

/** Arguments as plain data: a test's arguments are strings, numbers and arrays of them. */
function plainArgs(args: readonly unknown[]): Plain[] {
  return args.filter((a) => a !== undefined).map((a) => JSON.parse(JSON.stringify(a)) as Plain);
}

/** A reference the host gave back: a positive integer. */
function refOf(v: Plain | undefined, what: string): number {
  const ref = isRecord(v) ? v.ref : undefined;
  if (typeof ref !== 'number' || !Number.isInteger(ref) || ref <= 0)
    throw new Error(`${what}: the process running your code answered ${JSON.stringify(v)?.slice(0, 200)}.`);
  return ref;
}

/** The outcomes of a 'calls-in-turn' request, checked: a list of at most MAX_CALLS_IN_TURN values or errors. */
function inTurnOutcomes(v: Plain | undefined): Array<InTurnOutcome<Error>> {
  const bad = (): Error =>
    new Error(
      `ShardedClient calls in turn: the process running your code answered ${JSON.stringify(v)?.slice(0, 200)}.`,
    );
  if (!Array.isArray(v) || v.length > MAX_CALLS_IN_TURN) throw bad();
  return v.map((o) => {
    if (isRecord(o) && 'error' in o) return { error: rebuiltError(readWireError(o.error)) };
    if (isRecord(o) && 'value' in o) return { value: o.value };
    throw bad();
  });
}

/** Calls of one object the host keeps. */
function caller(link: HostLink, ref: number, label: string) {
  return (method: string, ...args: unknown[]): Promise<Plain | undefined> =>
    link.request({ op: 'call', ref, method, args: plainArgs(args) }, `${label}.${method}()`);
}

/** The code under test as a test uses it, wherever it runs. */
export interface StudentCode {
  startServer(options: ServerOptions): Promise<RunningServer>;
  shardedClient(servers: readonly ServerAddress[], options?: ClientOptions): Promise<RemoteClient>;
  hashRing(nodes?: readonly number[], vnodes?: number): Promise<RemoteRing>;
  md5Shard(key: string, servers: number): Promise<number>;
}

/** The code under test behind `link`, in its student host. */
export class HostedCode implements StudentCode {
  private readonly link: HostLink;

  constructor(link: HostLink) {
    this.link = link;
  }

  /** startServer(options): the server lives in the host; close() asks the host to close it. */
  async startServer(options: ServerOptions): Promise<RunningServer> {
    const v = await this.link.request({ op: 'start-server', options: plainArgs([options])[0] }, 'startServer()');
    const ref = refOf(v, 'startServer()');
    const { port, host } = v as { port: Plain; host: Plain };
    const call = caller(this.link, ref, 'RunningServer');
    return {
      port: port as number,
      host: host as string,
      close: async () => void (await call('close')),
    };
  }

  /** new ShardedClient(servers, options): `options.onRetry` is called with each notice the host reports. */
  async shardedClient(servers: readonly ServerAddress[], options: ClientOptions = {}): Promise<RemoteClient> {
    const { onRetry, ...rest } = options;
    const v = await this.link.request(
      { op: 'new-client', servers: plainArgs([servers])[0], options: plainArgs([rest])[0], onRetry: !!onRetry },
      'new ShardedClient()',
    );
    const ref = refOf(v, 'new ShardedClient()');
    if (onRetry) this.link.onRetry(ref, (n) => onRetry(retryNotice(n)));
    const call = caller(this.link, ref, 'ShardedClient');
    return {
      servers,
      indexFor: async (key) => (await call('indexFor', key)) as number,
      serverFor: async (key) => (await call('serverFor', key)) as unknown as ServerAddress,
      command: async (index, args) => toReply(await call('command', index, args)),
      set: async (key, value, ttl) => void (await call('set', key, value, ttl)),
      get: async (key) => ((await call('get', key)) ?? null) as string | null,
      del: async (key) => (await call('del', key)) as boolean,
      expire: async (key, seconds) => (await call('expire', key, seconds)) as boolean,
      ttl: async (key) => (await call('ttl', key)) as number,
      incr: async (key) => (await call('incr', key)) as number,
      keys: async (index, pattern) => (await call('keys', index, pattern)) as string[],
      stats: async (index) => (await call('stats', index)) as unknown as ServerStats,
      close: async () => void (await call('close')),
      inTurn: async (calls, forMs = 0) =>
        inTurnOutcomes(
          await this.link.request(
            {
              op: 'calls-in-turn',
              ref,
              calls: calls.map((c) => ({ method: c.method, args: plainArgs(c.args) })),
              forMs,
            },
            'ShardedClient calls in turn',
          ),
        ),
    };
  }

  /** new HashRing(nodes, vnodes). */
  async hashRing(nodes?: readonly number[], vnodes?: number): Promise<RemoteRing> {
    const v = await this.link.request({ op: 'new-ring', args: plainArgs([nodes, vnodes]) }, 'new HashRing()');
    const call = caller(this.link, refOf(v, 'new HashRing()'), 'HashRing');
    return {
      add: async (node) => void (await call('add', node)),
      remove: async (node) => void (await call('remove', node)),
      nodeFor: async (key) => (await call('nodeFor', key)) as number,
    };
  }

  /** md5Shard(key, servers). */
  async md5Shard(key: string, servers: number): Promise<number> {
    return (await this.link.request({ op: 'md5-shard', args: [key, servers] }, 'md5Shard()')) as number;
  }
}

/** A retry notice from the host, with its error rebuilt. */
function retryNotice(n: Plain): RetryNotice {
  const o = isRecord(n) ? n : {};
  const err = isRecord(o.error) ? o.error : {};
  return {
    server: (isRecord(o.server) ? o.server : {}) as unknown as ServerAddress,
    attempt: o.attempt as number,
    retries: o.retries as number,
    error: rebuiltError({
      name: String(err.name ?? 'Error'),
      message: String(err.message ?? ''),
      stack: '',
      fields: {},
    }),
  };
}

/** Where `ring` places each of `keys` (the requests go out together, the host answers them in order). */
export function nodesFor(ring: RemoteRing, keys: readonly string[]): Promise<number[]> {
  return Promise.all(keys.map((k) => ring.nodeFor(k)));
}
