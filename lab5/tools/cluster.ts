/**
 * `npm run lab5:cluster`: starts the three servers of the original (ports 7001-7003, ids 1-3) in this process.
 *   npm run lab5:cluster -- --ports 7001,7002,7003 --data ./lab5-data --fsync always
 *   npm run lab5:cluster -- --only 2        just server 2 (run the others in other terminals, stop it with Ctrl+C)
 *   npm run lab5:cluster -- --solution      the reference solution instead of your lab5/ files
 * Ctrl+C stops the servers cleanly (each writes a final snapshot).
 */
import { Command } from 'commander';
import * as path from 'node:path';
import type { FsyncPolicy, RunningServer } from '../types';
import { loadImpl, parsePorts } from './load';
import { colorsFor } from '../../suite/colors';
import { NoSolutionError } from '../../suite/solution';

const pc = colorsFor();

interface Options {
  ports: string;
  host: string;
  data: string;
  memory?: boolean;
  fsync: string;
  snapshotMs: string;
  only?: string;
  solution?: boolean;
}

async function main(): Promise<void> {
  const opts = new Command()
    .name('npm run lab5:cluster --')
    .description('Start the lab 5 servers (ids 1, 2, 3 on the given ports).')
    .option('--ports <list>', 'comma-separated ports, one server each', '7001,7002,7003')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <folder>', 'data folder; server N uses <folder>/server-N', 'lab5-data')
    .option('--memory', 'no persistence at all')
    .option('--fsync <policy>', 'always, everysec or no', 'everysec')
    .option('--snapshot-ms <ms>', 'snapshot interval', '10000')
    .option('--only <id>', 'start only the server with this id')
    .option('--solution', 'run the reference solution instead of lab5/')
    .parse()
    .opts<Options>();
  if (!['always', 'everysec', 'no'].includes(opts.fsync))
    throw new Error(`--fsync must be always, everysec or no (got "${opts.fsync}")`);
  const impl = loadImpl(opts.solution === true);
  const ports = parsePorts(opts.ports);
  const running: RunningServer[] = [];
  for (const [i, port] of ports.entries()) {
    const id = i + 1;
    if (opts.only !== undefined && Number(opts.only) !== id) continue;
    const dataDir = opts.memory ? undefined : path.resolve(opts.data, `server-${id}`);
    try {
      const s = await impl.startServer({
        port,
        host: opts.host,
        serverId: id,
        dataDir,
        fsync: opts.fsync as FsyncPolicy,
        snapshotIntervalMs: Number(opts.snapshotMs),
      });
      running.push(s);
      console.log(
        `${pc.green('✓')} Server ${id} listening on ${opts.host}:${s.port}${dataDir ? `  data: ${dataDir} (fsync ${opts.fsync})` : '  (no persistence)'}`,
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const hint =
        e.code === 'EADDRINUSE' ? ` — port ${port} is taken: is a cluster already running? (lsof -i :${port})` : '';
      console.error(`${pc.red('✗')} Server ${id} did not start: ${e.message}${hint}`);
    }
  }
  if (running.length === 0) process.exit(1);
  console.log(pc.dim('Ctrl+C to stop. Connect with: npm run lab5:cli   (or redis-cli -p 7001)'));
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('\nstopping ...');
    await Promise.all(running.map((s) => s.close().catch((e: Error) => console.error(`close failed: ${e.message}`))));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(err instanceof NoSolutionError ? 2 : 1);
});
