/**
 * Networking as a capability for code under test (lab 5's `net`): a socket may connect, and a server listen, only
 * on a loopback port its test gave it (or a port its own servers listen on); anything else is refused with an
 * error naming what was refused and what is allowed. Where the code runs as machines (lab 5's student host: each
 * server started and each client made a copy of the modules of its own), each copy gets a facade of its own, and
 * its sockets and servers may use only that machine's ports: a server its own port and no other, a client its
 * servers' (machineNetFacade). Three layers, each closed by construction: the code gets a
 * facade of `net` with only what the lab needs; every call's options are copied key by key from a list of the
 * allowed ones (so no descriptor, handle or path reaches node); and node's TCP handle itself, which a socket's
 * `_handle` leads to, connects, binds and opens descriptors only through the same check. All of it is installed
 * before node's prototypes are locked (grader/node-prototypes.ts).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { lockAllowingOverrides, tcpHandlePrototypes } from './node-prototypes';

/** Ports the running test gave the code (its servers' and clients' options), and ports its own servers listen on. */
const given = new Set<number>();
const own = new Set<number>();
let installed = false;

/** What one machine of the code under test may do on the network. */
interface Machine {
  /** Ports it may connect to. */
  readonly connect: ReadonlySet<number>;
  /** Ports it may listen on, besides 0 (any free port). */
  readonly listen: ReadonlySet<number>;
  /** What it is, for a refusal: "this server", "this client". */
  readonly what: string;
}

/** The machine each socket, server and TCP handle made by a machine's code belongs to. */
const machineOf = new WeakMap<object, Machine>();

/** What a socket or server made through node's `constructor` (reached from an object) belongs to: no machine. */
const ORPHAN: Machine = {
  connect: new Set(),
  listen: new Set(),
  what: 'a socket or server made through .constructor (use the net module you import)',
};

/** True once a machine's facade exists: a socket or server that belongs to no machine may then neither connect nor listen. */
let machines = false;

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** Host names of the loopback interface: the only ones code under test may reach or listen on. */
function isLoopback(host: unknown): boolean {
  if (host === undefined || host === null || host === '') return true;
  if (typeof host !== 'string') return false;
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/** What each call may be given, by the name the code calls it by: any other option is refused, naming it. */
const ALLOWED = {
  'new net.Socket': ['allowHalfOpen', 'noDelay', 'keepAlive', 'keepAliveInitialDelay', 'highWaterMark'],
  'new net.Server': [
    'allowHalfOpen',
    'pauseOnConnect',
    'noDelay',
    'keepAlive',
    'keepAliveInitialDelay',
    'highWaterMark',
  ],
  connect: ['port', 'host', 'family', 'timeout', 'allowHalfOpen', 'noDelay', 'keepAlive', 'keepAliveInitialDelay'],
  listen: ['port', 'host', 'backlog', 'exclusive', 'ipv6Only'],
} as const;
type Call = keyof typeof ALLOWED;

/** The ports allowed now, for a message ("none" when the test gave none); `machine`'s, for one of its sockets. */
function allowedList(what: 'connect to' | 'listen on' | 'open', machine?: Machine): string {
  const ports = machine
    ? [...(what === 'listen on' ? machine.listen : machine.connect)]
    : [...new Set([...given, ...own])];
  ports.sort((a, b) => a - b);
  if (machine) return `${ports.length === 0 ? 'none' : ports.join(', ')}${what === 'listen on' ? ' (and 0)' : ''}`;
  return ports.length === 0 ? 'none yet' : ports.join(', ');
}

/** The error for a refused connect, listen or descriptor (of `machine`'s socket or server, when it has one). */
export function refusal(what: 'connect to' | 'listen on' | 'open', target: string, machine?: Machine): Error {
  const may =
    what === 'listen on'
      ? 'listen only on the port its server options name (or on 0, any free port)'
      : machine
        ? 'connect only to the ports of its own servers: a client to the servers it was given, a server to none'
        : 'connect only to the ports of the servers its test gave it (a client\u2019s server list) and to its own servers';
  return new Error(
    `Refused: your code (${machine?.what ?? 'in this process'}) tried to ${what} ${target}, which its test did not ` +
      `give it. In the grader, lab code may ${may}, on 127.0.0.1 (localhost), with net.connect, ` +
      'net.createConnection, new net.Socket().connect and net.createServer().listen; allowed ports now: ' +
      `${allowedList(what, machine)}. Likely causes: a port or host written into your code instead of taken from ` +
      'the options, an address built wrongly (host and port swapped, a string where a number is expected), a Unix ' +
      'socket path or a descriptor, a server that dials out (servers only answer), or code that reaches for other ' +
      'processes on the machine or for another server.',
  );
}

/** The error for an option (or an argument) that `call` does not take from code under test. */
function refusedOption(call: Call, what: string): Error {
  return new Error(
    `Refused: your code passed ${what} to ${call}, which lab code may not use in the grader: the network is the ` +
      `test's to give, and that would reach a descriptor, a handle, a path or an address it did not give. ${call} ` +
      `takes ${ALLOWED[call].join(', ')}. Likely causes: an option copied from an example for other programs, or ` +
      'code that reaches for other processes on the machine.',
  );
}

/** A copy of `value` (options of `call`) with the allowed options only, each read once; anything else refused. */
function cleanOptions(value: unknown, call: Call): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object')
    throw refusedOption(call, `${typeof value === 'number' ? 'a descriptor' : typeof value}, ${String(value)},`);
  const allowed: readonly string[] = ALLOWED[call];
  for (const key in value)
    if (!allowed.includes(key) && (value as Record<string, unknown>)[key] !== undefined)
      throw refusedOption(call, `the option "${key}"`);
  const out: Record<string, unknown> = {};
  for (const key of allowed) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** A port as node takes it (a number or a string of digits), or the refusal. */
function portOf(value: unknown, what: 'connect to' | 'listen on'): number {
  if (value === undefined) return 0;
  const port = typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)) ? Number(value) : NaN;
  if (!Number.isInteger(port))
    throw refusal(what, `the port ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  return port;
}

/** The options and callback of `connect(...)` in every form node accepts (its own normalized array too). */
function connectCall(args: readonly unknown[]): { options: Record<string, unknown>; cb: unknown } {
  const a = Array.isArray(args[0]) ? (args[0] as unknown[]) : args; // net.connect hands Socket#connect an array
  const cb = a.find((x) => typeof x === 'function');
  const [first, second] = a;
  if (typeof first === 'string' && !/^\d+$/.test(first))
    throw refusal('connect to', `the path ${JSON.stringify(first)}`);
  if (typeof first === 'number' || typeof first === 'string')
    return { options: { port: first, host: typeof second === 'string' ? second : undefined }, cb };
  return { options: cleanOptions(first, 'connect'), cb };
}

/** The options and callback of `listen(...)` in every form node accepts for a TCP port. */
function listenCall(args: readonly unknown[]): { options: Record<string, unknown>; cb: unknown } {
  const cb = args.find((x) => typeof x === 'function');
  const [first, second, third] = args;
  if (first === undefined || typeof first === 'function') return { options: { port: 0 }, cb };
  if (typeof first === 'string' && !/^\d+$/.test(first))
    throw refusal('listen on', `the path ${JSON.stringify(first)}`);
  if (typeof first === 'number' || typeof first === 'string') {
    const backlog = [second, third].find((x) => typeof x === 'number');
    return { options: { port: first, host: typeof second === 'string' ? second : undefined, backlog }, cb };
  }
  return { options: cleanOptions(first, 'listen'), cb };
}

/** The machine whose rules `obj` (a socket, server or handle) follows; undefined: the process's rules (the kit's own). */
function ruleOf(obj: unknown): Machine | undefined {
  const m = typeof obj === 'object' && obj !== null ? machineOf.get(obj) : undefined;
  return m === ORPHAN && !machines ? undefined : m;
}

/** The refusal of connecting to `host`:`port` (undefined: allowed), by `machine`'s rules or the process's. */
function connectRefusal(host: unknown, port: number, machine?: Machine): Error | undefined {
  if (!isLoopback(host)) return refusal('connect to', `${String(host)}:${port}`, machine);
  const allowed = machine ? machine.connect.has(port) : given.has(port) || own.has(port);
  return allowed ? undefined : refusal('connect to', `port ${port}`, machine);
}

/**
 * The refusal of listening on `host`:`port` (undefined: allowed), by `machine`'s rules or the process's;
 * `anyAddress`: node's own bind without a host.
 */
function listenRefusal(host: unknown, port: number, anyAddress = false, machine?: Machine): Error | undefined {
  if (!isLoopback(host) && !(anyAddress && (host === '::' || host === '0.0.0.0')))
    return refusal('listen on', `${String(host)}:${port}`, machine);
  if (machine)
    return (port === 0 && machine !== ORPHAN) || machine.listen.has(port)
      ? undefined
      : refusal('listen on', `port ${port}`, machine);
  return port === 0 || given.has(port) ? undefined : refusal('listen on', `port ${port}`);
}

/** Replaces `proto[name]` with `make(original)` (before the prototype is locked). */
function wrapMethod(proto: object, name: string, make: (original: Fn) => Fn): void {
  const original = (proto as Record<string, Fn>)[name];
  Object.defineProperty(proto, name, { value: make(original), writable: true, configurable: true });
}

/** net.Socket#connect and net.Server#listen, checked: only a loopback port, with the allowed options copied. */
function guardSocketsAndServers(): void {
  const address = net.Server.prototype.address as (this: net.Server) => ReturnType<net.Server['address']>;
  const once = EventEmitter.prototype.once; // an instance may carry its own `address` or `once`, never these
  wrapMethod(
    net.Socket.prototype,
    'connect',
    (connect) =>
      function (this: unknown, ...args: unknown[]) {
        const { options, cb } = connectCall(args);
        const machine = ruleOf(this);
        const refused = connectRefusal(options.host, portOf(options.port, 'connect to'), machine);
        if (refused) throw refused;
        const result = connect.call(this, options, ...(typeof cb === 'function' ? [cb] : []));
        // node made the socket's handle just now: it follows the socket's machine.
        const handle = (this as { _handle?: unknown })._handle;
        if (machine && typeof handle === 'object' && handle !== null) machineOf.set(handle, machine);
        return result;
      },
  );
  wrapMethod(
    net.Server.prototype,
    'listen',
    (listen) =>
      function (this: unknown, ...args: unknown[]) {
        const { options, cb } = listenCall(args);
        const refused = listenRefusal(options.host, portOf(options.port, 'listen on'), false, ruleOf(this));
        if (refused) throw refused;
        once.call(this, 'listening', () => {
          const a = address.call(this as net.Server);
          if (a && typeof a === 'object') {
            own.add(a.port);
            once.call(this, 'close', () => own.delete(a.port));
          }
        });
        return listen.call(this, options, ...(typeof cb === 'function' ? [cb] : []));
      },
  );
}

/**
 * node's TCP handle (what a socket's or server's `_handle` is) checked at its source: `connect` to a loopback port
 * allowed, `bind` to one, never `open` of a descriptor, whoever calls them; its prototype then locked.
 */
function guardTcpHandles(): void {
  const { tcp } = tcpHandlePrototypes();
  for (const name of ['connect', 'connect6'])
    wrapMethod(
      tcp,
      name,
      (connect) =>
        function (this: unknown, req: unknown, host: unknown, port: unknown, ...rest: unknown[]) {
          const refused = connectRefusal(host, portOf(port, 'connect to'), ruleOf(this));
          if (refused) throw refused;
          return connect.call(this, req, host, port, ...rest);
        },
    );
  for (const name of ['bind', 'bind6'])
    wrapMethod(
      tcp,
      name,
      (bind) =>
        function (this: unknown, host: unknown, port: unknown, ...rest: unknown[]) {
          const refused = listenRefusal(host, portOf(port, 'listen on'), true);
          if (refused) throw refused;
          return bind.call(this, host, port, ...rest);
        },
    );
  wrapMethod(tcp, 'open', () => (fd: unknown) => {
    throw refusal('open', `the descriptor ${String(fd)} as a socket`);
  });
  // A handle's constructor would make a handle of no socket's: the code gets sockets from its net module only.
  wrapMethod(
    tcp,
    'constructor',
    () =>
      function refusedHandle(): never {
        throw refusal('open', 'a TCP handle of its own');
      },
  );
  lockAllowingOverrides(tcp); // the stream prototypes below it: node-prototypes.ts
}

/**
 * `new net.Socket(options)` or `new net.Server(options, listener)` as code under test constructs one: its options
 * copied from the allowed ones, then node's own class (so `instanceof` and subclasses work). Also the classes'
 * `constructor`, so that no object leads to node's unchecked one (a Socket's `fd` option opens a descriptor).
 */
function checkedClass(
  Real: new (...args: unknown[]) => object,
  call: 'new net.Socket' | 'new net.Server',
  machine: Machine = ORPHAN,
): Fn {
  const Checked = function (this: unknown, ...args: unknown[]): object {
    const server = call === 'new net.Server';
    const [options, listener] = server && typeof args[0] === 'function' ? [undefined, args[0]] : args;
    const rest = server && typeof listener === 'function' ? [listener] : [];
    const made = Reflect.construct(Real, [cleanOptions(options, call), ...rest], new.target ?? Real) as object;
    machineOf.set(made, machine);
    if (server) tagConnections(made, machine);
    else if (machine !== ORPHAN) ownIdleTimer(made as net.Socket);
    return made;
  };
  Object.defineProperty(Checked, 'name', { value: Real.name });
  Object.defineProperty(Checked, 'prototype', { value: Real.prototype, writable: false });
  if (machine === ORPHAN)
    Object.defineProperty(Real.prototype, 'constructor', { value: Checked, writable: true, configurable: true });
  return Object.freeze(Checked);
}

/** node's own emit, as this module found it. */
const emit = EventEmitter.prototype.emit;
/** node's timers and a socket's own idle-timer refresh, as this module found them. */
const realSetTimeout = setTimeout;
const realClearTimeout = clearTimeout;
const unrefTimer = (net.Socket.prototype as unknown as { _unrefTimer: (this: net.Socket) => void })._unrefTimer;

/**
 * Gives a machine's `socket` an idle timeout of its own: `setTimeout(ms, cb)` as node's (a 'timeout' event after
 * `ms` without reads or writes), on a timer held here. node's own would put a Timeout object on the socket, which
 * leads through node's timer lists to every other timer of that duration in the process, other machines' too.
 */
function ownIdleTimer(socket: net.Socket): void {
  let ms = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    if (timer !== undefined) realClearTimeout(timer);
    timer = ms > 0 ? realSetTimeout(() => ((timer = undefined), emit.call(socket, 'timeout')), ms) : undefined;
    timer?.unref();
  };
  const own = (name: string, value: (...args: never[]) => unknown): void =>
    void Object.defineProperty(socket, name, { value, writable: false, enumerable: false, configurable: false });
  own('setTimeout', (msecs: unknown, callback?: () => void): net.Socket => {
    const next = Number(msecs);
    if (typeof msecs !== 'number' || !Number.isFinite(next) || next < 0)
      throw new RangeError(
        `socket.setTimeout takes a number of milliseconds, 0 or more; it was given ${String(msecs)}.`,
      );
    ms = next;
    if (typeof callback === 'function') {
      if (ms === 0) socket.removeListener('timeout', callback);
      else socket.once('timeout', callback);
    }
    arm();
    return socket;
  });
  // node calls it at every read and write of the socket: the idle time starts again.
  own('_unrefTimer', () => {
    if (timer !== undefined) timer.refresh();
    unrefTimer.call(socket);
  });
  socket.once('close', () => {
    ms = 0;
    arm();
  });
}

/**
 * Makes every connection `server` accepts belong to `machine` before any listener of the code sees it: through the
 * server's own emit (node emits 'connection' with it), which the code cannot replace.
 */
function tagConnections(server: object, machine: Machine): void {
  Object.defineProperty(server, 'emit', {
    value: function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
      const socket = args[0];
      if (event === 'connection' && typeof socket === 'object' && socket !== null) {
        machineOf.set(socket, machine);
        if (machine !== ORPHAN) ownIdleTimer(socket as net.Socket);
        const handle = (socket as { _handle?: unknown })._handle;
        if (typeof handle === 'object' && handle !== null) machineOf.set(handle, machine);
      }
      return emit.call(this, event, ...args);
    },
    writable: false,
    enumerable: false,
    configurable: false,
  });
}

let facade: object | undefined;

/**
 * Puts the guard on net.Socket#connect, net.Server#listen, their constructors and node's TCP handle (once per
 * process; before node's prototypes are locked). A server that listens makes its port the code's own until it
 * closes.
 */
export function guardNetwork(): void {
  if (installed) return;
  guardTcpHandles();
  guardSocketsAndServers();
  installed = true;
  facade = facadeOf(ORPHAN);
}

/** The options net.connect passes on to the socket it makes. */
const SOCKET_OPTIONS = ['allowHalfOpen', 'noDelay', 'keepAlive', 'keepAliveInitialDelay'] as const;

/** `node:net` as the code under test imports it, its sockets and servers `machine`'s (ORPHAN: the process's rules). */
function facadeOf(machine: Machine): object {
  const Socket = checkedClass(net.Socket as unknown as new (...args: unknown[]) => object, 'new net.Socket', machine);
  const Server = checkedClass(net.Server as unknown as new (...args: unknown[]) => object, 'new net.Server', machine);
  // As node's net.connect does: a new socket (this machine's), its timeout set, then connected.
  const connect = (...args: unknown[]): unknown => {
    const { options, cb } = connectCall(args);
    const socketOptions: Record<string, unknown> = {};
    for (const key of SOCKET_OPTIONS) if (options[key] !== undefined) socketOptions[key] = options[key];
    const socket = Reflect.construct(Socket, [socketOptions]) as net.Socket;
    if (typeof options.timeout === 'number') socket.setTimeout(options.timeout);
    return socket.connect(options as unknown as net.NetConnectOpts, cb as () => void);
  };
  const functions: Record<string, unknown> = {
    Socket,
    Server,
    createServer: (...args: unknown[]): unknown => Reflect.construct(Server, args),
    connect,
    createConnection: connect,
    isIP: (s: string) => net.isIP(s),
    isIPv4: (s: string) => net.isIPv4(s),
    isIPv6: (s: string) => net.isIPv6(s),
  };
  for (const fn of Object.values(functions)) Object.freeze(fn);
  return Object.freeze(functions);
}

/** What one machine of the code under test is given of the network. */
export interface NetGrants {
  /** Ports it may connect to. */
  readonly connect: readonly number[];
  /** Ports it may listen on, besides 0. */
  readonly listen: readonly number[];
  /** What it is, for a refusal: "this server", "this client". */
  readonly what: string;
}

/**
 * `node:net` for one machine of the code under test: its sockets, its servers and the connections they accept may
 * use only `grants`' ports. From the first such facade on, a socket or server that belongs to no machine (made
 * through `.constructor`) may neither connect nor listen.
 */
export function machineNetFacade(grants: NetGrants): object {
  guardNetwork();
  machines = true;
  return facadeOf({ connect: new Set(grants.connect), listen: new Set(grants.listen), what: grants.what });
}

/** `node:net` as code under test imports it: the checked classes and calls, the IP tests, nothing else of node's. */
export function netFacade(): object {
  guardNetwork();
  return facade as object;
}

/** True once guardNetwork has run in this process. */
export function networkGuarded(): boolean {
  return installed;
}

/** Gives the code the ports named by `port` or `serverPort` fields anywhere in `value` (a request of its test). */
export function givePortsIn(value: unknown, depth = 0): void {
  if (depth > 6 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value.slice(0, 1000)) givePortsIn(v, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if ((k === 'port' || k === 'serverPort') && Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536)
      given.add(v as number);
    else givePortsIn(v, depth + 1);
  }
}
