/** In the host: answers the harness's requests (host-protocol.ts) by calling the code under test, keeping the objects it made. */
import type { ClientOptions, ServerOptions } from '../types';
import type { Lab5Impl } from './harness';
import { METHODS, isRecord, type HostMessage, type ObjectKind, type Plain } from './host-protocol';
import { toPlain, toWireError } from './host-values';

/** The code under test as loaded, or why it could not be. */
export type Loaded = { readonly impl: Lab5Impl } | { readonly error: unknown };

/** The message a test gets for an export the code under test does not have. */
function missingExport(name: string): Error {
  return new Error(
    `Your code does not export "${name}", which this test uses (it is loaded from one of lab5/server.ts, lab5/persistence.ts, lab5/client.ts). ` +
      `Keep the export your skeleton declares, spelled exactly so (for example \`export class ${name}\`); ` +
      'an emptied file or a renamed or unexported class or function causes this.',
  );
}

/** Serves requests against `loaded`, sending replies and events with `send`. */
export class Dispatcher {
  private readonly loaded: Loaded;
  private readonly send: (msg: HostMessage) => void;
  private readonly objects = new Map<number, { kind: ObjectKind; target: Record<string, unknown> }>();
  private nextRef = 1;

  constructor(loaded: Loaded, send: (msg: HostMessage) => void) {
    this.loaded = loaded;
    this.send = send;
  }

  /** Answers one request (anything malformed gets an error reply when it has an id, and is ignored otherwise). */
  handle(req: unknown): void {
    if (!isRecord(req) || typeof req.id !== 'number') return;
    const id = req.id;
    Promise.resolve()
      .then(() => this.run(req))
      .then(
        (value) => {
          const plain = toPlain(value);
          this.send(plain === undefined ? { id } : { id, value: plain });
        },
        (e: unknown) => this.send({ id, error: toWireError(e) }),
      );
  }

  /** The code under test, or the error that loading it threw. */
  private impl(): Lab5Impl {
    if ('error' in this.loaded) throw this.loaded.error;
    return this.loaded.impl;
  }

  /** One export of the code under test, or the error that names it missing. */
  private exported<K extends keyof Lab5Impl>(name: K): Lab5Impl[K] {
    const value = this.impl()[name];
    if (value === undefined) throw missingExport(name);
    return value;
  }

  private keep(kind: ObjectKind, target: object): number {
    const ref = this.nextRef++;
    this.objects.set(ref, { kind, target: target as Record<string, unknown> });
    return ref;
  }

  private async run(req: { [key: string]: unknown }): Promise<unknown> {
    const args = Array.isArray(req.args) ? (req.args as Plain[]) : [];
    switch (req.op) {
      case 'start-server': {
        const start = this.exported('startServer');
        const server = await start((isRecord(req.options) ? req.options : {}) as ServerOptions);
        const port = (server as { port?: unknown } | undefined)?.port;
        const host = (server as { host?: unknown } | undefined)?.host;
        return { ref: this.keep('server', server), port: toPlain(port) ?? null, host: toPlain(host) ?? null };
      }
      case 'new-client': {
        const ShardedClient = this.exported('ShardedClient');
        const options = (isRecord(req.options) ? { ...req.options } : {}) as ClientOptions;
        let ref = 0;
        if (req.onRetry === true)
          options.onRetry = (notice) => this.send({ event: 'retry', ref, notice: toPlain(notice) ?? null });
        ref = this.keep('client', new ShardedClient(req.servers as never, options));
        return { ref };
      }
      case 'new-ring': {
        const HashRing = this.exported('HashRing');
        return { ref: this.keep('ring', new HashRing(...(args as [never, never]))) };
      }
      case 'md5-shard':
        return this.exported('md5Shard')(...(args as [string, number]));
      case 'call':
        return this.call(req.ref, req.method, args);
      default:
        throw new Error(`The harness sent an unknown request ${JSON.stringify(req.op)}.`);
    }
  }

  private async call(ref: unknown, method: unknown, args: Plain[]): Promise<unknown> {
    const entry = typeof ref === 'number' ? this.objects.get(ref) : undefined;
    if (!entry || typeof method !== 'string' || !(METHODS[entry.kind] as readonly string[]).includes(method))
      throw new Error(`The harness asked for ${String(method)} on an unknown object ${String(ref)}.`);
    const fn = entry.target[method];
    if (typeof fn !== 'function') throw new TypeError(`${method} is not a function (it is ${typeof fn}).`);
    const result = (await (fn as (...a: unknown[]) => unknown).apply(entry.target, args)) as unknown;
    if (method === 'close') this.objects.delete(ref as number);
    return result;
  }
}
