/**
 * Networking as a capability for code under test (lab 5's `net`): a socket may connect, and a server listen, only
 * on a loopback port its test gave it (or a port its own servers listen on); anything else is refused with an
 * error naming the port and what is allowed. Installed on node's socket and server prototypes before they are
 * locked (grader/node-prototypes.ts), so no route around it is left to the code.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';

/** Ports the running test gave the code (its servers' and clients' options), and ports its own servers listen on. */
const given = new Set<number>();
const own = new Set<number>();
let installed = false;

/** Host names of the loopback interface: the only ones code under test may reach or listen on. */
function isLoopback(host: unknown): boolean {
  if (host === undefined || host === null || host === '') return true;
  if (typeof host !== 'string') return false;
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/** Where a connect or listen call points: a TCP port and host, or something else (a path, a handle, a descriptor). */
type Target = { readonly port: number; readonly host: unknown } | { readonly other: string };

/** Reads the target of `connect(...)`/`listen(...)` arguments in every form node accepts (its own normalized array too). */
function targetOf(args: readonly unknown[]): Target {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // net.connect hands Socket#connect its normalized arguments
  if (first === undefined || typeof first === 'function') return { port: 0, host: undefined };
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
    return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : undefined };
  if (typeof first === 'string') return { other: `the path ${JSON.stringify(first)}` };
  if (first !== null && typeof first === 'object') {
    const o = first as Record<string, unknown>;
    if (o.path !== undefined) return { other: `the path ${JSON.stringify(o.path)}` };
    if (o.fd !== undefined || o.handle !== undefined || o._handle !== undefined)
      return { other: 'an existing handle or file descriptor' };
    const port = o.port === undefined ? 0 : Number(o.port);
    return Number.isInteger(port) ? { port, host: o.host } : { other: `the port ${JSON.stringify(o.port)}` };
  }
  return { other: `${typeof first} ${String(first)}` };
}

/** The ports allowed now, for a message ("none" when the test gave none). */
function allowedList(): string {
  const ports = [...new Set([...given, ...own])].sort((a, b) => a - b);
  return ports.length === 0 ? 'none yet' : ports.join(', ');
}

/** The error for a refused connect or listen. */
export function refusal(what: 'connect to' | 'listen on', target: string): Error {
  return new Error(
    `Refused: your code tried to ${what} ${target}, which its test did not give it. In the grader, lab code may ` +
      `${what === 'listen on' ? 'listen only on the port its server options name (or on 0, any free port)' : 'connect only to the ports of the servers its test gave it (a client\u2019s server list) and to its own servers'}` +
      `, on 127.0.0.1 (localhost); allowed ports now: ${allowedList()}. Likely causes: a port or host written into ` +
      'your code instead of taken from the options, an address built wrongly (host and port swapped, a string ' +
      'where a number is expected), a Unix socket path, or code that reaches for other processes on the machine.',
  );
}

/** The reason `t` may not be connected to (undefined: allowed). */
function connectRefusal(t: Target): Error | undefined {
  if ('other' in t) return refusal('connect to', t.other);
  if (!isLoopback(t.host)) return refusal('connect to', `${String(t.host)}:${t.port}`);
  return given.has(t.port) || own.has(t.port) ? undefined : refusal('connect to', `port ${t.port}`);
}

/** The reason `t` may not be listened on (undefined: allowed). */
function listenRefusal(t: Target): Error | undefined {
  if ('other' in t) return refusal('listen on', t.other);
  if (!isLoopback(t.host)) return refusal('listen on', `${String(t.host)}:${t.port}`);
  return t.port === 0 || given.has(t.port) ? undefined : refusal('listen on', `port ${t.port}`);
}

/**
 * Puts the guard on net.Socket#connect and net.Server#listen (once per process; before node's prototypes are
 * locked). A server that listens makes its port the code's own until it closes.
 */
export function guardNetwork(): void {
  if (installed) return;
  const sock = net.Socket.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const server = net.Server.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const connect = sock.connect;
  const listen = server.listen;
  // The originals: an instance may carry its own `address` or `once` (node's prototypes allow that), never these.
  const address = server.address as (this: net.Server) => ReturnType<net.Server['address']>;
  const once = EventEmitter.prototype.once;
  const guardedConnect = function (this: net.Socket, ...args: unknown[]): unknown {
    const refused = connectRefusal(targetOf(args));
    if (refused) throw refused;
    return connect.apply(this, args);
  };
  const guardedListen = function (this: net.Server, ...args: unknown[]): unknown {
    const refused = listenRefusal(targetOf(args));
    if (refused) throw refused;
    once.call(this, 'listening', () => {
      const a = address.call(this);
      if (a && typeof a === 'object') {
        own.add(a.port);
        once.call(this, 'close', () => own.delete(a.port));
      }
    });
    return listen.apply(this, args);
  };
  Object.defineProperty(sock, 'connect', { value: guardedConnect, writable: true, configurable: true });
  Object.defineProperty(server, 'listen', { value: guardedListen, writable: true, configurable: true });
  installed = true;
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
