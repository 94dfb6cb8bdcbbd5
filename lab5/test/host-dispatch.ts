/** In the host: answers the harness's requests (host-protocol.ts) by calling the code under test and the kit's spies, keeping the objects they made. */
import type { ClientOptions, ServerOptions } from '../types';
import { givePortsIn } from '../../grader/net-guard';
import { DiskNemesis } from './disk-nemesis';
import { CrashCopies, SyncWatch, copyFolder, weighHeap } from './host-spies';
import type { Lab5Impl } from './harness';
import {
  MAX_CALLS_IN_TURN,
  MAX_IN_TURN_MS,
  METHODS,
  isRecord,
  type HostMessage,
  type InTurnOutcome,
  type ObjectKind,
  type Plain,
} from './host-protocol';
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

/**
 * Makes `calls` one after another, each as soon as the one before it settled (no timer, no I/O in between), again
 * and again until `forMs` has passed (0: once), at most MAX_CALLS_IN_TURN calls; one outcome per call made.
 */
export async function callsInTurn<A, E>(
  calls: ReadonlyArray<{ readonly method: string; readonly args: readonly A[] }>,
  forMs: number,
  call: (method: string, args: readonly A[]) => Promise<unknown>,
  asError: (e: unknown) => E,
): Promise<Array<InTurnOutcome<E>>> {
  const outcomes: Array<InTurnOutcome<E>> = [];
  const until = Date.now() + Math.min(Math.max(forMs, 0), MAX_IN_TURN_MS);
  do {
    for (const c of calls) {
      try {
        outcomes.push({ value: toPlain(await call(c.method, c.args)) ?? null });
      } catch (e) {
        outcomes.push({ error: asError(e) });
      }
    }
  } while (calls.length > 0 && Date.now() < until && outcomes.length < MAX_CALLS_IN_TURN);
  return outcomes;
}

/** The calls of a 'calls-in-turn' request, checked: each a method name and its arguments. */
function inTurnCalls(v: unknown): Array<{ method: string; args: Plain[] }> {
  if (!Array.isArray(v)) throw new Error('The harness sent calls-in-turn without a list of calls.');
  return v.map((c: unknown) => {
    if (!isRecord(c) || typeof c.method !== 'string' || !Array.isArray(c.args))
      throw new Error('The harness sent a malformed call in calls-in-turn.');
    return { method: c.method, args: c.args as Plain[] };
  });
}

/** A string field of a request, checked. */
function text(req: { [key: string]: unknown }, field: string): string {
  const v = req[field];
  if (typeof v !== 'string') throw new Error(`The harness sent ${String(req.op)} without a string ${field}.`);
  return v;
}

/** A number field of a request, checked. */
function num(req: { [key: string]: unknown }, field: string): number {
  const v = req[field];
  if (typeof v !== 'number') throw new Error(`The harness sent ${String(req.op)} without a number ${field}.`);
  return v;
}

/** A list of strings of a request (folders), checked. */
function texts(req: { [key: string]: unknown }, field: string): string[] {
  const v = req[field];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new Error(`The harness sent ${String(req.op)} without a list of strings ${field}.`);
  return v as string[];
}

/** A reply's value the host built itself as wire data (toPlain would cut an error's stack and fields). */
class AlreadyPlain {
  readonly plain: Plain;
  constructor(plain: Plain) {
    this.plain = plain;
  }
}

/** Serves requests against the code `load` loads (at the harness's 'load' or first use), sending replies and events with `send`. */
export class Dispatcher {
  private readonly load: () => Loaded;
  private loaded: Loaded | undefined;
  private readonly send: (msg: HostMessage) => void;
  private readonly objects = new Map<number, { kind: ObjectKind; target: Record<string, unknown> }>();
  private nextRef = 1;

  /** The delay of each timer the code under test set that is live now, ms (see student-host.ts). */
  private readonly liveTimers: () => number[];

  constructor(load: () => Loaded, send: (msg: HostMessage) => void, liveTimers: () => number[]) {
    this.load = load;
    this.send = send;
    this.liveTimers = liveTimers;
  }

  /** Answers one request (anything malformed gets an error reply when it has an id, and is ignored otherwise). */
  handle(req: unknown): void {
    if (!isRecord(req) || typeof req.id !== 'number') return;
    const id = req.id;
    Promise.resolve()
      .then(() => this.run(req))
      .then(
        (value) => {
          const plain = value instanceof AlreadyPlain ? value.plain : toPlain(value);
          this.send(plain === undefined ? { id } : { id, value: plain });
        },
        (e: unknown) => this.send({ id, error: toWireError(e) }),
      );
  }

  /** The code under test, or the error that loading it threw. */
  private impl(): Lab5Impl {
    this.loaded ??= this.load();
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
    // The ports a request names are the ones the test gives the code (where the grader guards its network).
    givePortsIn(req);
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
      case 'load':
        return void this.impl();
      case 'watch-syncs': {
        const watch = new SyncWatch(text(req, 'dir'), num(req, 'serverPort'));
        await watch.start();
        return { ref: this.keep('syncWatch', watch) };
      }
      case 'crash-copies': {
        const into = texts(req, 'into');
        if (into.length !== 2) throw new Error('The harness sent crash-copies without two folders.');
        const copies = new CrashCopies(text(req, 'dir'), [into[0], into[1]]);
        await copies.start();
        return { ref: this.keep('crashCopies', copies) };
      }
      case 'disk-nemesis': {
        const into = texts(req, 'into');
        const disk = new DiskNemesis(text(req, 'dir'), num(req, 'seed'), text(req, 'key'), into, num(req, 'maxCopies'));
        await disk.install();
        return { ref: this.keep('diskNemesis', disk) };
      }
      case 'copy-folder':
        return void copyFolder(text(req, 'dir'), text(req, 'into'));
      case 'weigh-heap':
        return weighHeap();
      case 'weigh-rss':
        return process.memoryUsage.rss();
      case 'live-timers':
        return this.liveTimers();
      case 'call':
        return this.call(req.ref, req.method, args);
      case 'calls-in-turn':
        return new AlreadyPlain(
          (await callsInTurn(
            inTurnCalls(req.calls),
            typeof req.forMs === 'number' ? req.forMs : 0,
            (method, a) => this.call(req.ref, method, [...a]),
            toWireError,
          )) as unknown as Plain,
        );
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
    // A closed client stays: a call after close() is part of what is tested (it must fail, not reconnect).
    if ((method === 'close' && entry.kind !== 'client') || method === 'stop') this.objects.delete(ref as number);
    return result;
  }
}
