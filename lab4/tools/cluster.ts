/**
 * npm run lab4:cluster -- --followers 5 --quorum 3
 * Starts the leader (port 5000) and followers (5001, 5002, ...) as separate processes on loopback, with a log
 * file per node, and stops them all on Ctrl-C. Settings as flags, or the seed's environment variables
 * (WRITE_QUORUM, MIN_DELAY and MAX_DELAY in seconds, PORT for the leader).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { DEFAULT_CONFIG } from '../rpc';
import { Cluster, startCluster } from './lib';
import { colorsFor } from '../../tester/colors';

const pc = colorsFor();

const env = process.env;
const secondsToMs = (s: string | undefined): string | undefined => (s === undefined ? undefined : String(Number(s) * 1000));

const program = new Command()
  .name('npm run lab4:cluster --')
  .description('Run a lab 4 cluster: one leader and N followers as HTTP servers on loopback.')
  .option('--followers <n>', 'number of followers', env.FOLLOWER_COUNT ?? '5')
  .option('--quorum <w>', 'write quorum W', env.WRITE_QUORUM ?? String(DEFAULT_CONFIG.quorum))
  .option('--port <n>', 'leader port; followers use the next ones (0: any free ports)', env.PORT ?? '5000')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--min-delay <ms>', 'minimum delay before each replication message, ms', secondsToMs(env.MIN_DELAY) ?? '0.1')
  .option('--max-delay <ms>', 'maximum delay before each replication message, ms', secondsToMs(env.MAX_DELAY) ?? '1')
  .option('--write-timeout <ms>', 'a write not on W followers after this long fails with 503', String(DEFAULT_CONFIG.writeTimeoutMs))
  .option('--log-dir <dir>', 'folder for one log file per node', path.join(os.tmpdir(), 'kvlabs-lab4-logs'))
  .option('--solution', 'run the reference solution instead of lab4/server.ts')
  .option('--quiet', 'do not echo node logs to the console')
  .parse();

interface Opts {
  followers: string;
  quorum: string;
  port: string;
  host: string;
  minDelay: string;
  maxDelay: string;
  writeTimeout: string;
  logDir: string;
  solution?: boolean;
  quiet?: boolean;
}

async function main(): Promise<void> {
  const o = program.opts<Opts>();
  const followers = Number(o.followers);
  const quorum = Number(o.quorum);
  if (!(Number.isInteger(followers) && followers >= 1)) throw new Error(`--followers must be a whole number >= 1, got ${o.followers}`);
  if (!(Number.isInteger(quorum) && quorum >= 1 && quorum <= followers)) throw new Error(`--quorum must be between 1 and ${followers}, got ${o.quorum}`);
  const logDir = path.resolve(o.logDir);
  let cluster: Cluster | undefined;
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(pc.yellow(`\n${why}: stopping the cluster ...`));
    if (cluster) await cluster.stop();
    console.log(`stopped; logs are in ${logDir}`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  console.log(`starting ${followers} followers and a leader (quorum ${quorum}, delay ${o.minDelay}-${o.maxDelay} ms, implementation ${o.solution ? 'solutions/lab4' : 'lab4'}) ...`);
  cluster = await startCluster({
    followers,
    quorum,
    port: Number(o.port),
    host: o.host,
    minDelayMs: Number(o.minDelay),
    maxDelayMs: Number(o.maxDelay),
    writeTimeoutMs: Number(o.writeTimeout),
    implDir: o.solution ? 'solutions/lab4' : 'lab4',
    logDir,
    echo: o.quiet ? undefined : (line) => console.log(pc.dim(line)),
  });
  for (const n of [cluster.leader, ...cluster.followers]) {
    n.child.on('exit', (code, signal) => {
      // On Ctrl-C the terminal signals the nodes too; give our own SIGINT handler the first word.
      setTimeout(() => {
        if (!stopping) void stop(`${n.id} exited (code ${code}, signal ${signal})`);
      }, 100);
    });
  }
  console.log(pc.green(`\ncluster ready: leader ${cluster.leader.url}, followers ${cluster.followers.map((f) => f.url).join(' ')}`));
  console.log(`logs: ${logDir}/<node>.log`);
  console.log(`try: curl -X POST ${cluster.leader.url}/set -H 'content-type: application/json' -d '{"key":"k","value":"v"}'`);
  console.log(`     npm run lab4:load    npm run lab4:check    (Ctrl-C to stop)`);
}

main().catch((err: unknown) => {
  console.error(pc.red(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
