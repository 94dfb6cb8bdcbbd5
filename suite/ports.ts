/** Loopback ports for real-time tests whose servers start after the ends that call them, or start again on their port. */
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';

/** IANA's dynamic ports start here; macOS and Windows hand out ports from it by default. */
const IANA_DYNAMIC_LOW = 49152;

/** The lowest ports a chosen one may have (below them are the well-known and many registered services). */
const QUIET_FLOOR = 10000;

/** How many quiet ports to try before giving up (each a listen on the loopback address). */
const TRIES = 64;

/**
 * The lowest port the system hands out by itself, to `listen(0)` and as the local port of every outgoing connection.
 * A server on a port at or above it can lose that port while it is closed: a client's connection, even one dialling
 * that very port, may be given it as its own local end, and the server cannot listen there again.
 */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 0) return low;
  } catch {
    // Not Linux: the dynamic range below holds.
  }
  return IANA_DYNAMIC_LOW;
}

/** Listens on the loopback `port` (0: one the system picks); resolves with the listener, or undefined if it is taken. */
function hold(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EADDRINUSE' || e.code === 'EACCES' ? resolve(undefined) : reject(e),
    );
    probe.listen(port, '127.0.0.1', () => resolve(probe));
  });
}

/** A loopback port below the system's own range that nothing listens on, held by the returned listener. */
async function holdQuiet(): Promise<net.Server> {
  const top = ephemeralLow();
  for (let i = 0; i < TRIES && top > QUIET_FLOOR; i++) {
    const port = randomInt(QUIET_FLOOR, top);
    const held = await hold(port);
    if (held) return held;
  }
  // No quiet range on this system (its own range starts low), or every try taken: one the system picks.
  const held = await hold(0);
  if (!held) throw new Error('no free loopback port: listen(0) on 127.0.0.1 failed');
  return held;
}

/** The port a listener holds. */
function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** Closes a listener. */
function release(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A loopback port nothing listens on yet, below the range the system hands out by itself: no connection is given it
 * as its local end, so a server may start on it late, or close and start on it again, while clients dial it.
 */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** `n` different such ports: each is held until all are taken, so that none is handed out twice. */
export async function freePorts(n: number): Promise<number[]> {
  const held: net.Server[] = [];
  try {
    while (held.length < n) held.push(await holdQuiet());
    return held.map(portOf);
  } finally {
    await Promise.all(held.map(release));
  }
}
