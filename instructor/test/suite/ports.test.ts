/** Loopback ports for late and restarting servers: free, all different, and outside the range the system hands out. */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { freePort, freePorts } from '../../../suite/ports';

/** The system's own port range on Linux, or undefined elsewhere. */
function systemRange(): [number, number] | undefined {
  const file = '/proc/sys/net/ipv4/ip_local_port_range';
  if (!fs.existsSync(file)) return undefined;
  const [low, high] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return [low, high];
}

/** Listens on the loopback `port` and closes again; rejects if it cannot. */
async function listenOnce(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Dials the loopback `port` once; resolves when the connection is refused or has opened and closed. */
function dial(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.destroy());
    socket.once('error', () => undefined);
    socket.once('close', () => resolve());
  });
}

describe('suite/ports', () => {
  it('hands out different ports nothing listens on, below the range outgoing connections take their ports from', async () => {
    const ports = await freePorts(12);
    expect(new Set(ports).size).to.equal(12);
    const range = systemRange();
    for (const port of ports) {
      if (range) expect(port, `port ${port} against the system's range ${range.join('-')}`).to.be.below(range[0]);
      await listenOnce(port);
    }
  });

  it('leaves a port free for a server to start on again while clients keep dialling it', async () => {
    const port = await freePort();
    await listenOnce(port);
    // Hundreds of refused dials and other outgoing connections meanwhile: none may be given the port as its own.
    await Promise.all(Array.from({ length: 300 }, () => dial(port)));
    await listenOnce(port);
  });
});
