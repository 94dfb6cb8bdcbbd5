/** Locks the prototypes that lab 5's node modules hand out (emitters, streams, sockets, servers), so code under test cannot patch a method node's own code calls on `process` and its other internals. */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import stream from 'node:stream';

let handlePrototypes: { readonly tcp: object; readonly stream: object } | undefined;

/**
 * The prototypes of a TCP handle (what a socket's or server's `_handle` is): its own (TCP's) and its parent's (every
 * libuv stream's, holding the write functions), found at the first call, before any guard, through a socket whose
 * connect node defers to the next tick, destroyed first: no connection is made.
 */
export function tcpHandlePrototypes(): { readonly tcp: object; readonly stream: object } {
  if (handlePrototypes !== undefined) return handlePrototypes;
  const probe = new net.Socket();
  probe.on('error', () => undefined);
  probe.connect({ port: 9, host: '127.0.0.1' }); // makes the handle now; the connection would start at the next tick
  const handle = (probe as unknown as { _handle: object })._handle;
  probe.destroy();
  const tcp = Object.getPrototypeOf(handle) as object;
  handlePrototypes = { tcp, stream: Object.getPrototypeOf(tcp) as object };
  return handlePrototypes;
}

/**
 * What node's code calls on objects the code under test can reach, locked allowing overrides: a TCP handle's
 * prototype and its grandparent (the handle's, with close and ref), a timer's, and a stream's state objects'.
 */
function internalPrototypes(): object[] {
  const { tcp, stream: libuvStream } = tcpHandlePrototypes();
  const timer = setTimeout(() => undefined, 0);
  clearTimeout(timer);
  const immediate = setImmediate(() => undefined);
  clearImmediate(immediate);
  return [
    tcp,
    Object.getPrototypeOf(libuvStream) as object,
    Object.getPrototypeOf(timer) as object,
    Object.getPrototypeOf(immediate) as object,
    Object.getPrototypeOf((new stream.Writable() as unknown as { _writableState: object })._writableState) as object,
    Object.getPrototypeOf((new stream.Readable() as unknown as { _readableState: object })._readableState) as object,
  ];
}

/**
 * The libuv stream prototype (a TCP handle's parent: readStart, shutdown, the write functions), locked property by
 * property: its functions made non-writable and non-configurable (node never sets them on a handle), its accessors
 * non-configurable. Not `onread`: node's C++ keeps it in the handle (a native property whose setter node calls on
 * each handle); a getter in its place, or freezing the prototype whole, breaks every socket.
 */
function lockStreamHandlePrototype(): void {
  const { stream: proto } = tcpHandlePrototypes();
  for (const key of Reflect.ownKeys(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (key === 'onread' || !d?.configurable) continue;
    if ('value' in d) Object.defineProperty(proto, key, { value: d.value, writable: false, configurable: false });
    else Object.defineProperty(proto, key, { configurable: false });
  }
}

/** How deep `madeRoots` looks into an instance's own properties (a socket's `_readableState.decoder` is 2). */
const MADE_DEPTH = 3;

/**
 * What node's objects lead to beyond their classes' prototypes, found on instances made here and thrown away: the
 * functions node hangs on each instance (a socket's `_events.end`, a listening server handle's `onconnection`) and
 * the prototypes of the objects it makes for one (a decoder after `setEncoding`, an async iterator's). They are the
 * same for every instance, so every machine of the student host shares them. The instances: a socket with an
 * encoding and its async iterator, a server that listened (port 0, closed at once), a write stream, a read stream.
 */
function madeRoots(): object[] {
  const socket = new net.Socket();
  socket.setEncoding('utf8');
  const iterator = socket[Symbol.asyncIterator]();
  const server = net.createServer();
  server.on('error', () => undefined);
  server.listen({ port: 0 }); // binds at once (no host to look up): its handle gets node's connection callback
  const writing = new stream.Writable();
  const reading = new stream.Readable();
  reading.setEncoding('utf8');
  const made = [socket, iterator, server, writing, reading, reading[Symbol.asyncIterator]()];
  const found = new Set<object>();
  const seen = new Set<unknown>();
  const queue: Array<[unknown, number]> = made.map((o) => [o, 0]);
  while (queue.length > 0) {
    const [o, depth] = queue.pop() as [unknown, number];
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o) || unfreezable(o)) continue;
    seen.add(o);
    if (typeof o === 'function') found.add(o);
    else {
      const proto = Object.getPrototypeOf(o) as object | null;
      if (proto && proto !== Object.prototype && proto !== Array.prototype) found.add(proto);
    }
    if (depth >= MADE_DEPTH) continue;
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && 'value' in d) queue.push([d.value, depth + 1]);
    }
  }
  socket.destroy();
  server.close();
  reading.destroy();
  writing.destroy();
  return [...found];
}

/** What has been locked in this process. */
const locked = new Set<'emitters' | 'all'>();

/** The prototypes lockAllowingOverrides locked, and the getters it put in place of their values (no side effects). */
const lockedPrototypes = new WeakSet<object>();
const overrideGetters = new WeakSet<object>();

/** EventEmitter's prototype: node calls its `emit` with `this === process` (when it warns, for one). */
function emitterPrototypes(): object[] {
  return [EventEmitter.prototype];
}

/** The stream, socket and server prototypes reachable from `net` and `fs` objects, below EventEmitter's. */
function streamPrototypes(): object[] {
  return [
    stream.Stream.prototype,
    stream.Readable.prototype,
    stream.Writable.prototype,
    stream.Duplex.prototype,
    stream.Transform.prototype,
    net.Socket.prototype,
    net.Server.prototype,
    fs.ReadStream.prototype,
    fs.WriteStream.prototype,
  ];
}

/** The prototypes of what fs's stat and readdir calls return (the student host's kit code reads files with them). */
function statPrototypes(): object[] {
  const chain = (o: object): object[] => {
    const out: object[] = [];
    for (let p = Object.getPrototypeOf(o) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p))
      out.push(p);
    return out;
  };
  let statfs: object[] = [];
  try {
    statfs = chain(fs.statfsSync(__filename)); // node 18.15 and later
  } catch {
    // none to lock
  }
  return [
    fs.Dirent.prototype,
    ...chain(fs.statSync(__filename)),
    ...chain(fs.statSync(__filename, { bigint: true })),
    ...statfs,
  ];
}

/** node's bindings whose classes lab 5's sockets, servers and files are built on (their requests and handles). */
const IO_BINDINGS = ['stream_wrap', 'tcp_wrap', 'pipe_wrap', 'fs', 'fs_dir', 'fs_event_wrap', 'js_stream', 'tty_wrap'];

/** node's `internalBinding`, where internals are exposed (the sandbox's `--expose-internals`), without its warning. */
function internalBinding(): ((name: string) => Record<string, unknown>) | undefined {
  const warn = process.emitWarning;
  try {
    process.emitWarning = () => undefined;
    return (require('internal/test/binding') as { internalBinding: (name: string) => Record<string, unknown> })
      .internalBinding;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = warn;
  }
}

/**
 * The prototypes of node's native classes behind the student host's I/O: the request node makes for each write,
 * shutdown and connect (WriteWrap, ShutdownWrap, TCPConnectWrap ...), handles, fs requests. Every request of the
 * process has one of them as its prototype: an accessor hung there would see every write, the kit's channel's too.
 */
function bindingPrototypes(): object[] {
  const binding = internalBinding();
  if (!binding) return [];
  const out: object[] = [];
  for (const name of IO_BINDINGS) {
    let exported: Record<string, unknown>;
    try {
      exported = binding(name);
    } catch {
      continue;
    }
    for (const v of Object.values(exported)) {
      const proto = typeof v === 'function' ? (v as { prototype?: unknown }).prototype : undefined;
      if (typeof proto === 'object' && proto !== null) out.push(proto);
    }
  }
  return out;
}

/**
 * The functions node hangs on requests and handles it makes: a handle's `onread` (onStreamRead), and each request's
 * `oncomplete` (onWriteComplete, afterShutdown, afterConnect), caught by making one request of each kind against a
 * stand-in handle that starts nothing. Shared by every socket of the process; none is reached otherwise at lockdown.
 */
function requestCallbacks(): unknown[] {
  const made: Array<{ oncomplete?: unknown }> = [];
  const out: unknown[] = [];
  const request = (req: { oncomplete?: unknown }): number => (made.push(req), 0);
  try {
    const commons = require('internal/stream_base_commons') as Record<string, unknown>;
    out.push(...Object.values(commons).filter((v) => typeof v === 'function'));
    // A write through a stand-in handle: node makes its write request (with its oncomplete) and the handle takes it.
    const writeGeneric = commons.writeGeneric as (self: object, data: string, encoding: string, cb: () => void) => void;
    const standInHandle = {
      writeUtf8String: request,
      writeBuffer: request,
      writeLatin1String: request,
      writeAsciiString: request,
    };
    writeGeneric({ [commons.kHandle as symbol]: standInHandle }, 'x', 'utf8', () => undefined);
  } catch {
    // internals not exposed, or node's shape differs: the walk of the tests says what is left
  }
  const standIn = {
    pending: false,
    _handle: {
      shutdown: (req: { oncomplete?: unknown }) => (made.push(req), 1),
      writeUtf8String: (req: { oncomplete?: unknown }) => (made.push(req), 0),
    },
  };
  try {
    (net.Socket.prototype as unknown as { _final(this: unknown, cb: () => void): void })._final.call(
      standIn,
      () => undefined,
    );
  } catch {
    // node's shape differs: the walk of the tests says what is left
  }
  const { tcp } = tcpHandlePrototypes();
  const connect = Object.getOwnPropertyDescriptor(tcp, 'connect');
  if (connect && 'value' in connect && connect.configurable) {
    Object.defineProperty(tcp, 'connect', {
      ...connect,
      value: (req: { oncomplete?: unknown }) => (made.push(req), 0),
    });
    try {
      const probe = new net.Socket();
      probe.on('error', () => undefined);
      probe.connect({ port: 9, host: '127.0.0.1' });
      probe.destroy();
    } catch {
      // as above
    } finally {
      Object.defineProperty(tcp, 'connect', connect);
    }
  }
  for (const req of made)
    if (typeof req === 'object' && req !== null) out.push(req.oncomplete, Object.getPrototypeOf(req));
  return out;
}

/** node's web classes that its streams and sockets hand out (a stream operator's `{ signal }`), with their events. */
function webClasses(): unknown[] {
  const g = globalThis as Record<string, unknown>;
  return ['AbortSignal', 'AbortController', 'EventTarget', 'Event', 'CustomEvent', 'DOMException'].map((n) => g[n]);
}

/**
 * Makes `proto`'s methods unchangeable while its instances may still set their own properties of the same names
 * (node's own objects do: `this._events = ...`, `stdout.write = ...`): each configurable data property becomes a
 * getter of its value and a setter that defines the property on the instance, as SES does for JavaScript's
 * intrinsics ("override taming"), and no property can be added. The few that node made non-configurable but
 * writable (EventEmitter's capture-rejections flag) stay writable: freezing them would break every new emitter.
 */
export function lockAllowingOverrides(proto: object): void {
  if (lockedPrototypes.has(proto)) return;
  lockedPrototypes.add(proto);
  for (const key of Reflect.ownKeys(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (d && !('value' in d)) {
      // node's own accessor: kept, and its functions frozen (they are objects every holder of the prototype shares).
      for (const f of [d.get, d.set]) {
        if (!f || Object.isFrozen(f)) continue;
        const made = (f as { prototype?: unknown }).prototype; // a function's own: nothing is made with a getter
        if (typeof made === 'object' && made !== null) Object.freeze(made);
        Object.freeze(f);
      }
      if (d.configurable) Object.defineProperty(proto, key, { configurable: false });
    }
    if (!d || !('value' in d) || !d.configurable) continue;
    const value: unknown = d.value;
    // Methods, not functions: they have no `prototype` object, which would be a changeable object every holder shares.
    const { get, set } = {
      get(): unknown {
        return value;
      },
      set(this: object, v: unknown): void {
        if (this === proto) throw new TypeError(`${String(key)} of a frozen node prototype cannot be replaced.`);
        Object.defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
      },
    };
    overrideGetters.add(get);
    Object.defineProperty(proto, key, {
      get: Object.freeze(get),
      set: Object.freeze(set),
      enumerable: d.enumerable,
      configurable: false,
    });
  }
  Object.preventExtensions(proto);
}

/**
 * Once per process, before code under test first gets `net` or `fs`. 'emitters' locks EventEmitter's prototype (and
 * its `init`), the way to `process`; a test process that loads such code stops there (no lab's test process does
 * now: lab 5's code runs in its student host). 'all' also locks every stream, socket and server prototype, for the
 * student host, whose kit spies hook socket writes before this runs (lab5/test/host-spies.ts) and where the
 * harness's own sockets are not in reach, and the prototypes of fs's stats and directory entries, which the kit's
 * code there reads (FileHandle's is locked where fs-facade.ts routes it), and the internal ones node's code calls
 * (internalPrototypes: a handle's, a timer's, a stream state's; lockStreamHandlePrototype: the libuv stream's,
 * whose write functions lab 5's spies wrapped first).
 */
export function lockNodePrototypes(scope: 'emitters' | 'all'): void {
  if (!locked.has('emitters')) {
    locked.add('emitters');
    for (const proto of emitterPrototypes()) {
      hideConstructor(proto);
      lockAllowingOverrides(proto);
    }
    // EventEmitter.init runs for every new emitter.
    const init = Object.getOwnPropertyDescriptor(EventEmitter, 'init');
    if (init?.configurable)
      Object.defineProperty(EventEmitter, 'init', { ...init, writable: false, configurable: false });
  }
  if (scope === 'all' && !locked.has('all')) {
    locked.add('all');
    for (const proto of streamPrototypes()) hideConstructor(proto);
    const natives = bindingPrototypes();
    const callbacks = requestCallbacks(); // before the handle's prototype is locked: it replaces connect a moment
    for (const proto of new Set([...streamPrototypes(), ...statPrototypes(), ...internalPrototypes(), ...natives]))
      if (proto !== tcpHandlePrototypes().stream) lockAllowingOverrides(proto);
    lockStreamHandlePrototype();
    hardenReachable([
      EventEmitter,
      ...madeRoots(),
      ...natives,
      ...(callbacks.filter((v) => typeof v === 'object' || typeof v === 'function') as object[]),
      ...(webClasses().filter((v) => typeof v === 'function') as object[]),
      ...streamPrototypes(),
      ...statPrototypes(),
      ...internalPrototypes(),
      tcpHandlePrototypes().tcp,
      tcpHandlePrototypes().stream,
    ]);
  }
}

/**
 * Puts a frozen stand-in in place of `proto`'s constructor (node's class), before the prototype is locked: a stand-in
 * that refuses to make anything and leads nowhere. node's emitter classes lead to EventEmitter (through `constructor`,
 * or a subclass's [[Prototype]]), whose two process-wide settings (`defaultMaxListeners`, `captureRejections`) are
 * setters node made unchangeable: every server and client of the student host could write and read them.
 */
function hideConstructor(proto: object): void {
  if (lockedPrototypes.has(proto)) return;
  const d = Object.getOwnPropertyDescriptor(proto, 'constructor');
  // A frozen constructor is a stand-in already (net's checked classes: net-guard.ts).
  if (!d || !('value' in d) || typeof d.value !== 'function' || !d.configurable || Object.isFrozen(d.value)) return;
  const name = String((d.value as { name?: unknown }).name);
  const standIn = function (): never {
    throw new TypeError(
      `${name}, node's class, is not given to code under test: make sockets and servers with the net module you ` +
        'import, and files with fs.',
    );
  };
  Object.defineProperty(standIn, 'name', { value: name });
  Object.freeze(standIn.prototype);
  Object.defineProperty(proto, 'constructor', { ...d, value: Object.freeze(standIn) });
}

/** What `get` answers on `o`, or undefined where it throws. */
function readOrUndefined(get: () => unknown, o: object): unknown {
  try {
    return Reflect.apply(get, o, []);
  } catch {
    return undefined;
  }
}

/** What node itself writes while it runs, never frozen: the process, the global object, and the fs module. */
function unfreezable(o: object): boolean {
  return o === process || o === globalThis || o === (fs as object) || o === (fs.promises as object);
}

/**
 * Makes everything reachable from `roots` (node's prototypes and classes that lab 5's `net` and `fs` objects lead
 * to) unchangeable: prototypes locked allowing overrides (their instances are each machine's own), every other
 * object and function (classes, their statics, the methods on prototypes) frozen. In the student host every server
 * and client is a copy of the code of its own, and these are the objects they all share: an extensible class or
 * method would be a table between them (a thirty-seventh review kept one on a class a socket's `constructor` leads
 * to). EventEmitter's two process-wide settings refuse to be set.
 */
function hardenReachable(roots: readonly object[]): void {
  for (const key of ['defaultMaxListeners', 'captureRejections']) {
    const d = Object.getOwnPropertyDescriptor(EventEmitter, key);
    if (!d?.configurable || !d.get) continue;
    const { refuse } = {
      refuse(): never {
        throw new TypeError(`EventEmitter.${key} is shared by the whole process and cannot be set by code under test.`);
      },
    };
    Object.defineProperty(EventEmitter, key, { get: d.get, set: Object.freeze(refuse), configurable: false });
  }
  const prototypeLike = new Set<object>(roots.filter((r) => typeof r === 'object'));
  const { stream: libuvStream } = tcpHandlePrototypes();
  const seen = new Set<object>();
  const queue: unknown[] = [...roots];
  while (queue.length > 0) {
    const o = queue.pop();
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
    seen.add(o);
    // A frozen object's own values were frozen with it (the realm's intrinsics), but a locked prototype's are not.
    if (unfreezable(o) || (Object.isFrozen(o) && !lockedPrototypes.has(o))) continue;
    queue.push(Object.getPrototypeOf(o));
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (!d) continue;
      if ('value' in d) queue.push(d.value);
      else if (d.get && overrideGetters.has(d.get)) queue.push(d.get.call(o));
      else {
        // node's own getters on its prototypes answer state defaults (a shared empty array, a no-op callback).
        if (d.get && (prototypeLike.has(o) || lockedPrototypes.has(o))) queue.push(readOrUndefined(d.get, o));
        queue.push(d.get, d.set);
      }
    }
    if (typeof o === 'function') {
      const proto = (o as { prototype?: unknown }).prototype;
      if (typeof proto === 'object' && proto !== null) prototypeLike.add(proto);
    }
    if (o === libuvStream) Object.preventExtensions(o);
    else if (prototypeLike.has(o) || lockedPrototypes.has(o)) lockAllowingOverrides(o);
    else Object.freeze(o);
  }
}
