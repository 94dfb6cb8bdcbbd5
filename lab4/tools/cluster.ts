/**
 * npm run lab4:cluster -- --followers 5 --quorum 3
 * Starts the leader (port 5000) and followers (5001, 5002, ...) as separate processes on loopback, with a log
 * file per node, and stops them all on Ctrl-C. A follower that exits is reported and restarted empty on its port
 * (the others keep running); the cluster stops only when the leader exits. Settings as flags, or the original's environment variables
 * (WRITE_QUORUM, FOLLOWERS, MIN_DELAY and MAX_DELAY in seconds, PORT for the leader), read by ./settings.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from '../rpc';
import { implDirFor } from './impl';
import { Cluster, NodeProcess, startCluster } from './lib';
import {
  SettingsError,
  delayOptions,
  resolveSettings,
  type SettingFlags,
  type Settings,
  sourcesOf,
  withOriginalEnv,
} from './settings';
import { colorsFor } from '../../suite/colors';

const pc = colorsFor();

/** A follower that exits is restarted, unless it exited more than MAX_RESTARTS_IN_WINDOW times in the window (a crash loop). */
const MAX_RESTARTS_IN_WINDOW = 3;
const CRASH_LOOP_WINDOW_MS = 60_000;

const [minDelayOption, maxDelayOption] = delayOptions();

const program = new Command()
  .name('npm run lab4:cluster --')
  .description('Run a lab 4 cluster: one leader and N followers as HTTP servers on loopback.')
  .addOption(
    withOriginalEnv(
      new Option(
        '--followers <n|urls>',
        "how many followers (ports after the leader's), or their URLs on this machine (default 5)",
      ),
    ),
  )
  .addOption(withOriginalEnv(new Option('--quorum <w>', `write quorum W (default ${DEFAULT_CONFIG.quorum})`)))
  .addOption(
    withOriginalEnv(
      new Option('--port <n>', 'leader port; followers use the next ones, 0 for any free ports (default 5000)'),
    ),
  )
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .addOption(minDelayOption)
  .addOption(maxDelayOption)
  .addOption(
    withOriginalEnv(
      new Option(
        '--write-timeout <ms>',
        `a write not on W followers after this long fails with 503 (default ${DEFAULT_CONFIG.writeTimeoutMs})`,
      ),
    ),
  )
  .option('--log-dir <dir>', 'folder for one log file per node', path.join(os.tmpdir(), 'kvlabs-lab4-logs'))
  .option(
    '--solution',
    'run the reference solution instead of lab4/server.ts (course kit only; the student template has none)',
  )
  .option('--quiet', 'do not echo node logs to the console')
  .parse();

interface Opts extends SettingFlags {
  host: string;
  logDir: string;
  solution?: boolean;
  quiet?: boolean;
}

/** Reads and checks the command line; on a bad setting prints it and exits with 2. */
function readSettings(o: Opts): { s: Settings; implDir: string } {
  try {
    const s = resolveSettings(o, sourcesOf(program), { followers: 'count or urls', quorum: true, host: o.host });
    return { s, implDir: implDirFor(o.solution === true) };
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    console.error(pc.red(err.message));
    process.exit(2);
  }
}

/** Stops the cluster once, whoever asks first (Ctrl-C, SIGTERM, the leader's exit), and exits. */
interface Stopper {
  /** Whether the cluster is being stopped. */
  stopping(): boolean;
  stop(why: string): Promise<void>;
}

/** A Stopper for the cluster `current` returns (undefined while it is starting). */
function makeStopper(current: () => Cluster | undefined, logDir: string): Stopper {
  let stopping = false;
  return {
    stopping: () => stopping,
    async stop(why: string): Promise<void> {
      if (stopping) return;
      stopping = true;
      console.log(pc.yellow(`\n${why}: stopping the cluster ...`));
      const cluster = current();
      if (cluster) await cluster.stop();
      console.log(`stopped; logs are in ${logDir}`);
      process.exit(0);
    },
  };
}

/** Stops the whole cluster when its leader exits: nothing works without it. */
function stopWhenLeaderExits(running: Cluster, stopper: Stopper): void {
  running.leader.child.on('exit', (code, signal) => {
    // On Ctrl-C the terminal signals the nodes too; give our own SIGINT handler the first word.
    setTimeout(() => {
      if (!stopper.stopping())
        void stopper.stop(
          `the leader exited (code ${code}, signal ${signal}); nothing works without it (see ${running.leader.logFile ?? 'its output'})`,
        );
    }, 100);
  });
}

/** Restarts each follower that exits, empty on its port, unless it crashed more than MAX_RESTARTS_IN_WINDOW times in the window. */
function restartFollowersThatExit(running: Cluster, stopper: Stopper): void {
  const recentExits = new Map<string, number[]>();
  const watchFollower = (f: NodeProcess): void => {
    f.child.once('exit', (code, signal) => {
      setTimeout(() => {
        if (stopper.stopping()) return;
        const now = Date.now();
        const exits = [...(recentExits.get(f.id) ?? []).filter((t) => now - t < CRASH_LOOP_WINDOW_MS), now];
        recentExits.set(f.id, exits);
        const log = f.logFile ? ` (its log: ${f.logFile})` : '';
        if (exits.length > MAX_RESTARTS_IN_WINDOW) {
          console.log(
            pc.red(
              `${f.id} exited again (code ${code}, signal ${signal}) and is not restarted: it crashed ${exits.length} times in ${CRASH_LOOP_WINDOW_MS / 1000} s${log}. The others keep running.`,
            ),
          );
          return;
        }
        console.log(
          pc.yellow(
            `${f.id} exited (code ${code}, signal ${signal})${log}; the leader and the other followers keep running. Restarting it empty on ${f.url}, as a crashed follower would come back ...`,
          ),
        );
        running.restartFollower(f).then(
          (again) => {
            console.log(pc.green(`${again.id} is back on ${again.url} (empty: the leader must send it the log)`));
            watchFollower(again);
          },
          (err: unknown) =>
            console.log(
              pc.red(
                `${f.id} could not be restarted: ${err instanceof Error ? err.message : String(err)}. The others keep running.`,
              ),
            ),
        );
      }, 100);
    });
  };
  running.followers.forEach(watchFollower);
}

/** Prints where the cluster is and what to try with it. */
function printReady(cluster: Cluster, logDir: string): void {
  console.log(
    pc.green(
      `\ncluster ready: leader ${cluster.leader.url}, followers ${cluster.followers.map((f) => f.url).join(' ')}`,
    ),
  );
  console.log(`logs: ${logDir}/<node>.log`);
  console.log(
    `try: curl -X POST ${cluster.leader.url}/set -H 'content-type: application/json' -d '{"key":"k","value":"v"}'`,
  );
  console.log(`     npm run lab4:load    npm run lab4:check    (Ctrl-C to stop)`);
}

/** Starts the cluster, keeps its followers running, and stops it on Ctrl-C, SIGTERM or the leader's exit. */
async function main(): Promise<void> {
  const o = program.opts<Opts>();
  const { s, implDir } = readSettings(o);
  const followers = s.followerCount;
  const quorum = s.quorum;
  const logDir = path.resolve(o.logDir);
  let cluster: Cluster | undefined;
  const stopper = makeStopper(() => cluster, logDir);
  process.on('SIGINT', () => void stopper.stop('Ctrl-C'));
  process.on('SIGTERM', () => void stopper.stop('SIGTERM'));
  console.log(
    `starting ${followers} followers and a leader (quorum ${quorum}, delay ${s.minDelayMs}-${s.maxDelayMs} ms, implementation ${implDir}) ...`,
  );
  cluster = await startCluster({
    followers,
    quorum,
    port: s.port,
    followerPorts: s.followerPorts,
    host: o.host,
    minDelayMs: s.minDelayMs,
    maxDelayMs: s.maxDelayMs,
    writeTimeoutMs: s.writeTimeoutMs,
    implDir,
    logDir,
    echo: o.quiet ? undefined : (line) => console.log(pc.dim(line)),
  });
  stopWhenLeaderExits(cluster, stopper);
  restartFollowersThatExit(cluster, stopper);
  printReady(cluster, logDir);
}

main().catch((err: unknown) => {
  console.error(pc.red(err instanceof Error ? err.message : String(err)));
  process.exit(1);
});
