/**
 * One lab 4 node as a process (the cluster tool starts these). Flags, or the seed's environment variables:
 *   --role leader|follower      NODE_TYPE
 *   --port 5000                 PORT
 *   --quorum 3                  WRITE_QUORUM
 *   --min-delay 0.1 (ms)        MIN_DELAY (seconds, as in the seed: 0.0001)
 *   --max-delay 1 (ms)          MAX_DELAY (seconds: 0.001)
 *   --followers URL,URL,...     FOLLOWERS
 * Prints "READY <url>" once it listens; exits cleanly on SIGINT/SIGTERM.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { DEFAULT_CONFIG, type Role } from '../rpc';
import { NodeClass, RealNode } from '../real/node-host';
import { REPO_ROOT } from './lib';

const env = process.env;
const secondsToMs = (s: string | undefined): string | undefined => (s === undefined ? undefined : String(Number(s) * 1000));

const program = new Command()
  .name('lab4 node')
  .description('Run one node of the lab 4 cluster (leader or follower) as an HTTP server.')
  .option('--id <name>', 'name for logs', undefined)
  .option('--role <role>', 'leader or follower', env.NODE_TYPE ?? 'leader')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--port <n>', 'port (0: any free port)', env.PORT ?? '5000')
  .option('--quorum <w>', 'write quorum W (leader)', env.WRITE_QUORUM ?? String(DEFAULT_CONFIG.quorum))
  .option('--min-delay <ms>', 'minimum delay before each replication message, ms', secondsToMs(env.MIN_DELAY) ?? '0.1')
  .option('--max-delay <ms>', 'maximum delay before each replication message, ms', secondsToMs(env.MAX_DELAY) ?? '1')
  .option('--write-timeout <ms>', 'a write not on W followers after this long fails', String(DEFAULT_CONFIG.writeTimeoutMs))
  .option('--followers <urls>', 'comma-separated follower base URLs (leader)', env.FOLLOWERS ?? '')
  .option('--impl <dir>', 'folder with server.ts (lab4 or solutions/lab4)', 'lab4')
  .parse();

interface Opts {
  id?: string;
  role: string;
  host: string;
  port: string;
  quorum: string;
  minDelay: string;
  maxDelay: string;
  writeTimeout: string;
  followers: string;
  impl: string;
}

function die(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const o = program.opts<Opts>();
  if (o.role !== 'leader' && o.role !== 'follower') die(`--role must be leader or follower, got ${o.role}`);
  const role = o.role as Role;
  const num = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) die(`${name} must be a number >= ${min}, got ${v}`);
    return n;
  };
  const port = num('--port', o.port, 0);
  const followers = o.followers.split(',').map((s) => s.trim()).filter(Boolean);
  const quorum = num('--quorum', o.quorum, 1);
  if (role === 'leader' && quorum > followers.length) die(`--quorum ${quorum} is more than the ${followers.length} followers given with --followers`);
  const id = o.id ?? (role === 'leader' ? 'leader' : `follower-${port}`);
  const implDir = path.resolve(REPO_ROOT, o.impl);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { KVNode } = require(path.join(implDir, 'server.ts')) as { KVNode: NodeClass };
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const node = new RealNode({
    KVNode,
    config: { ...DEFAULT_CONFIG, id, role, quorum, writeTimeoutMs: num('--write-timeout', o.writeTimeout, 1) },
    followers,
    minDelayMs: num('--min-delay', o.minDelay, 0),
    maxDelayMs: num('--max-delay', o.maxDelay, 0),
    log,
  });
  const addr = await node.listen(port, o.host);
  log(`${id}: ${role} on ${node.url} (implementation ${path.relative(REPO_ROOT, implDir) || '.'})` +
    (role === 'leader' ? `, quorum ${quorum} of ${followers.length} followers, delay ${o.minDelay}-${o.maxDelay} ms` : ''));
  console.log(`READY http://${addr.address}:${addr.port}`);

  // A line every 5 s while the node's state changes: enough to follow a load run without a line per request.
  let last = '';
  const progress = setInterval(() => {
    Promise.resolve()
      .then(() => node.node.Status({ noData: true }))
      .then((st) => {
        const line = `log #${st.lastSeq}, committed #${st.commitSeq}, ${st.dataCount} keys, ${node.refused} bad requests refused`;
        if (line !== last) log(line);
        last = line;
      })
      .catch((err: unknown) => log(`Status failed: ${err instanceof Error ? err.message : String(err)}`));
  }, 5000);
  progress.unref();

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    clearInterval(progress);
    void node.close().then(() => {
      log('stopped');
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 2000).unref();
  };
  // A bug in one request's handling is logged; the node keeps serving the others.
  process.on('uncaughtException', (err) => log(`uncaught exception: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
