/** Loopback ports for real-time tests whose servers start later than the ends that will call them. */
import * as net from 'node:net';

/** A loopback port nothing listens on yet (taken from the system, then given back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
