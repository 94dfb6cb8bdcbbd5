/**
 * npm run lab4:quorum -- [--writes 2000] [--out quorum_analysis.svg]
 * The seed's quorum analysis: for W = 1..5, starts a fresh cluster of 5 followers (your lab4/server.ts, or
 * with --solution the reference), runs the load, and prints a latency table; then draws latency against W to an SVG file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { startCluster, runLoad } from './lib';
import { QuorumPoint, quorumPlotSvg } from './plot';
import { colorsFor } from '../../tester/colors';

const pc = colorsFor();

const program = new Command()
  .name('npm run lab4:quorum --')
  .description('Measure write latency for W = 1..5 on real clusters and plot it.')
  .option('--followers <n>', 'followers per cluster', '5')
  .option('--writes <n>', 'writes per W', '2000')
  .option('--concurrency <n>', 'writes in flight at once', '20')
  .option('--keys <n>', 'distinct keys', '100')
  .option('--min-delay <ms>', 'minimum delay per replication message, ms', '0.1')
  .option('--max-delay <ms>', 'maximum delay per replication message, ms', '1')
  .option('--port <n>', 'leader port of each cluster (0: free ports)', '0')
  .option('--solution', 'run the reference solution (solutions/lab4) instead of your lab4/server.ts')
  .option('--out <file>', 'where to write the plot', 'quorum_analysis.svg')
  .parse();

interface Opts {
  followers: string;
  writes: string;
  concurrency: string;
  keys: string;
  minDelay: string;
  maxDelay: string;
  port: string;
  solution?: boolean;
  out: string;
}

async function main(): Promise<void> {
  const o = program.opts<Opts>();
  const followers = Number(o.followers);
  const points: QuorumPoint[] = [];
  for (let quorum = 1; quorum <= followers; quorum++) {
    process.stdout.write(`W=${quorum}: starting ${followers} followers and a leader ... `);
    const cluster = await startCluster({
      followers,
      quorum,
      port: Number(o.port),
      host: '127.0.0.1',
      minDelayMs: Number(o.minDelay),
      maxDelayMs: Number(o.maxDelay),
      writeTimeoutMs: 5000,
      implDir: o.solution ? 'solutions/lab4' : 'lab4',
    });
    try {
      process.stdout.write(`${o.writes} writes ... `);
      const r = await runLoad({ url: cluster.leader.url, writes: Number(o.writes), concurrency: Number(o.concurrency), keys: Number(o.keys) });
      console.log(`${r.throughput.toFixed(0)} writes/s${r.failed ? pc.red(`, ${r.failed} failed`) : ''}`);
      points.push({ quorum, throughput: r.throughput, latency: r.latency });
    } finally {
      await cluster.stop();
    }
  }
  const head = ['W', 'writes/s', 'mean ms', 'median ms', 'p95 ms', 'p99 ms'];
  const rows = points.map((p) => [String(p.quorum), p.throughput.toFixed(0), p.latency.mean.toFixed(2), p.latency.median.toFixed(2), p.latency.p95.toFixed(2), p.latency.p99.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log('\n' + [head, ...rows].map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n'));
  const svg = await quorumPlotSvg(points, `Write latency vs quorum (${followers} followers, ${o.writes} writes, ${o.concurrency} concurrent)`);
  const out = path.resolve(o.out);
  fs.writeFileSync(out, svg);
  console.log(`\nplot written to ${out}`);
}

main().catch((err: unknown) => {
  console.error(pc.red(err instanceof Error ? (err.stack ?? err.message) : String(err)));
  process.exit(1);
});
