/** labrpc figures: simulated RPC throughput and how much virtual time a real second simulates. */
import { Network, Server } from '../../labrpc';
import { World, realNow } from '../../world';
import type { BenchFigure } from './figure';

class Echo {
  Echo(args: { n: number; s: string }): { n: number } {
    return { n: args.n + 1 };
  }
}

/** Runs `calls` RPCs split over `clients` concurrent ends; returns RPCs per real second and virtual s per real s. */
async function throughput(
  reliable: boolean,
  clients: number,
  calls: number,
): Promise<{ rps: number; virtualPerReal: number }> {
  const world = new World({ seed: 1, virtualLimitMs: Infinity });
  const start = realNow();
  await world.run(async () => {
    const net = new Network();
    net.setReliable(reliable);
    net.addServer('s', new Server().addService(new Echo()));
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const end = net.makeEnd(`c${c}`);
        net.connect(`c${c}`, 's');
        net.enable(`c${c}`, true);
        for (let i = 0; i < calls / clients; i++)
          await end.call('Echo.Echo', { n: i, s: 'payload' }).catch(() => undefined);
      }),
    );
  });
  const seconds = (realNow() - start) / 1000;
  return { rps: calls / seconds, virtualPerReal: world.now() / 1000 / seconds };
}

/** Real time of 10 clients doing back-to-back calls for one virtual second. */
async function oneVirtualSecond(): Promise<{ realMs: number; rpcs: number }> {
  const world = new World({ seed: 2 });
  const start = realNow();
  const rpcs = await world.run(async () => {
    const net = new Network();
    net.addServer('s', new Server().addService(new Echo()));
    let done = false;
    setTimeout(() => (done = true), 1000);
    await Promise.all(
      Array.from({ length: 10 }, async (_, c) => {
        const end = net.makeEnd(`c${c}`);
        net.connect(`c${c}`, 's');
        net.enable(`c${c}`, true);
        while (!done) await end.call('Echo.Echo', { n: c, s: 'x' });
      }),
    );
    return net.getTotalCount();
  });
  return { realMs: realNow() - start, rpcs };
}

export async function benchLabrpc(): Promise<BenchFigure[]> {
  await throughput(true, 1, 20_000); // warm up the JIT
  const figures: BenchFigure[] = [];
  for (const reliable of [true, false]) {
    for (const clients of [1, 10]) {
      const r = await throughput(reliable, clients, 200_000);
      const label = `${clients === 1 ? 'sequential' : '10-way concurrent'}, ${reliable ? 'reliable' : 'unreliable'}`;
      figures.push({
        name: `labrpc: RPCs per real second, ${label}`,
        value: Math.round(r.rps),
        unit: 'RPC/s',
        note: reliable && clients === 1 ? 'target ≥ 200,000; MIT Go labrpc ≈ 45,000' : undefined,
      });
      figures.push({
        name: `labrpc: virtual seconds per real second, ${label}`,
        value: +r.virtualPerReal.toFixed(1),
        unit: 'x',
      });
    }
  }
  const w = await oneVirtualSecond();
  figures.push({
    name: 'labrpc: 10 clients for 1 virtual second',
    value: Math.round(w.realMs),
    unit: 'real ms',
    note: `target < 1000 ms; ${w.rpcs} RPCs`,
  });
  return figures;
}
