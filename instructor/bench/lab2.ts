/** Lab 2 figures, measured on the reference solution: clerk throughput under drops, lock latency, suite time. */
import * as path from 'node:path';
import { Network, Server } from '../../labrpc';
import { World, realNow } from '../../world';
import { runClients } from '../../suite/clients';
import { load } from '../../lab2/load';
import { suite } from '../../lab2/test/suite';
import type { BenchFigure } from './figure';
import { graderStartFigure, graderTimeFigure, sandboxCostFigure, suiteTimeFigure } from './suite-time';

const impl = load(path.resolve(__dirname, '../../solutions/lab2'));

/** Clerk get+put pairs per real second with `drop` of requests and of replies lost. */
async function clerkOps(drop: number, ops: number): Promise<number> {
  const start = realNow();
  await new World({ seed: 3, virtualLimitMs: Infinity }).run(async () => {
    const net = new Network();
    if (drop > 0) {
      net.setReliable(false);
      net.setDropRates(drop, drop);
    }
    net.addServer('kv', new Server().addService(new impl.KVServer(), 'KVServer'));
    const end = net.makeEnd('c');
    net.connect('c', 'kv');
    net.enable('c', true);
    const ck = new impl.Clerk(end);
    for (let i = 0; i < ops / 2; i++) {
      const cur = await ck.get('k');
      await ck.put('k', String(i), cur.err === 'OK' ? cur.version : 0);
    }
  });
  return ops / ((realNow() - start) / 1000);
}

/** Mean virtual ms from calling acquire to holding the lock, with `clients` contending for 2 virtual s. */
async function lockLatency(clients: number): Promise<number> {
  const samples: number[] = [];
  await new World({ seed: 4 }).run(async () => {
    const net = new Network();
    net.addServer('kv', new Server().addService(new impl.KVServer(), 'KVServer'));
    await runClients(clients, 2000, async (c, done) => {
      const end = net.makeEnd(`e${c}`);
      net.connect(`e${c}`, 'kv');
      net.enable(`e${c}`, true);
      const lock = new impl.Lock(new impl.Clerk(end), 'l');
      while (!done()) {
        const t0 = performance.now();
        await lock.acquire();
        samples.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
        await lock.release();
      }
    });
  });
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

export async function benchLab2(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const claims: Record<number, string> = { 0: '10,000', 0.3: '2,500', 0.5: '1,000' };
  for (const drop of [0, 0.3, 0.5]) {
    const ops = await clerkOps(drop, 40_000);
    figures.push({
      name: `lab2: clerk ops per real second, ${drop * 100}% drops`,
      value: Math.round(ops),
      unit: 'ops/s',
      note: `the original claims ${claims[drop]} ops/s`,
    });
  }
  for (const clients of [1, 10]) {
    figures.push({
      name: `lab2: lock acquisition latency, ${clients} client${clients > 1 ? 's' : ''}`,
      value: +(await lockLatency(clients)).toFixed(2),
      unit: 'virtual ms',
      note: 'hold 10 ms; the original claims 1–5 ms',
    });
  }
  figures.push(await suiteTimeFigure(suite, impl, "MIT's Go suite takes about 37 s"));
  figures.push(await graderTimeFigure('lab2'));
  figures.push(await sandboxCostFigure('lab2'));
  figures.push(await sandboxCostFigure('lab2', 3, 1, 'compartment'));
  figures.push(graderStartFigure());
  return figures;
}
