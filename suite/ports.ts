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

/**
 * `n` different loopback ports nothing listens on yet: each is held until all are taken, so that the system cannot
 * hand one out twice (ports given back one by one may come round again).
 */
export async function freePorts(n: number): Promise<number[]> {
  const probes = Array.from({ length: n }, () => net.createServer());
  try {
    return await Promise.all(
      probes.map(
        (probe) =>
          new Promise<number>((resolve, reject) => {
            probe.once('error', reject);
            probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))));
  }
}
