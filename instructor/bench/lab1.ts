/** Lab 1 figures, measured on the reference solution: clerk throughput on one server and on replicated shards, suite time. */
import * as path from 'node:path';
import { Network, Server } from '../../labrpc';
import type { ClientEnd } from '../../labrpc';
import { World, realNow } from '../../world';
import { runClients } from '../../suite/clients';
import { load } from '../../lab1/load';
import { suite } from '../../lab1/test/suite';
import type { ClusterConfig, ServerConfig } from '../../lab1/rpc';
import type { BenchFigure } from './figure';
import { graderTimeFigure, suiteTimeFigure } from './suite-time';

const impl = load(path.resolve(__dirname, '../../solutions/lab1'));

/** Ops done by 5 clients in `virtualMs` of appends and gets on random keys, and the real ms it took. */
async function clientOps(
  layout: ClusterConfig,
  reliable: boolean,
  virtualMs: number,
): Promise<{ ops: number; realMs: number }> {
  const start = realNow();
  let ops = 0;
  await new World({ seed: 5, virtualLimitMs: Infinity }).run(async () => {
    const net = new Network();
    net.setReliable(reliable);
    const n = layout.nshards;
    const end = (name: string, to: number): ClientEnd => {
      const e = net.makeEnd(name);
      net.connect(name, `s${to}`);
      net.enable(name, true);
      return e;
    };
    for (let me = 0; me < n; me++) {
      const peers = Array.from({ length: n }, (_, j) => end(`p${me}-${j}`, j));
      const config: ServerConfig = { ...layout, me, peers, isRunning: () => true };
      net.addServer(`s${me}`, new Server().addService(new impl.KVServer(config), 'KVServer'));
    }
    await runClients(5, virtualMs, async (c, done) => {
      const ck = new impl.Clerk(
        Array.from({ length: n }, (_, j) => end(`c${c}-${j}`, j)),
        layout,
      );
      for (let i = 0; !done(); i++) {
        const key = String(Math.floor(Math.random() * 10));
        if (i % 2 === 0) await ck.append(key, `x ${c} ${i} y`);
        else await ck.get(key);
        ops++;
      }
    });
  });
  return { ops, realMs: realNow() - start };
}

export async function benchLab1(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const layouts: Array<[string, ClusterConfig]> = [
    ['1 server', { nshards: 1, nreplicas: 1 }],
    ['5 shards × 3 replicas', { nshards: 5, nreplicas: 3 }],
  ];
  for (const [label, layout] of layouts) {
    for (const reliable of [true, false]) {
      const virtualMs = reliable ? 2000 : 10_000;
      const { ops, realMs } = await clientOps(layout, reliable, virtualMs);
      figures.push({
        name: `lab1: 5 clients, ${label}, ${reliable ? 'reliable' : 'unreliable'}`,
        value: Math.round(ops / (realMs / 1000)),
        unit: 'ops/real s',
        note: `${ops} appends+gets in ${virtualMs / 1000} virtual s (${Math.round(ops / (virtualMs / 1000))} per virtual s)`,
      });
    }
  }
  figures.push(await suiteTimeFigure(suite, impl));
  figures.push(await graderTimeFigure('lab1'));
  return figures;
}
