/**
 * One lab 4 node as a process (the cluster tool starts these). Flags, or the original's environment variables
 * (read by ./settings.ts, like every lab 4 tool):
 *   --role leader|follower      NODE_TYPE
 *   --port 5000                 PORT
 *   --quorum 3                  WRITE_QUORUM
 *   --min-delay 0.1 (ms)        MIN_DELAY (seconds, as in the original: 0.0001)
 *   --max-delay 1 (ms)          MAX_DELAY (seconds: 0.001)
 *   --followers URL,URL,...     FOLLOWERS
 * and LAB4_TOKEN, the secret the leader and its followers share (lab4:cluster makes one per cluster; a variable,
 * not a flag, so it does not show in the process list).
 * Prints "READY <url>" once it listens; exits cleanly on SIGINT/SIGTERM.
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from '../rpc';
import { NodeClass, RealNode } from '../real/node-host';
import { serverFile } from './impl';
import { REPO_ROOT, TOKEN_ENV } from './lib';
import {
  SettingsError,
  resolveRole,
  resolveSettings,
  type SettingFlags,
  delayOptions,
  sourcesOf,
  withOriginalEnv,
} from './settings';

const [minDelayOption, maxDelayOption] = delayOptions();

const program = new Command()
  .name('lab4 node')
  .description('Run one node of the lab 4 cluster (leader or follower) as an HTTP server.')
  .option('--id <name>', 'name for logs', undefined)
  .addOption(withOriginalEnv(new Option('--role <role>', 'leader or follower (default leader)')))
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .addOption(withOriginalEnv(new Option('--port <n>', 'port, 0 for any free port (default 5000)')))
  .addOption(
    withOriginalEnv(new Option('--quorum <w>', `write quorum W, leader only (default ${DEFAULT_CONFIG.quorum})`)),
  )
  .addOption(minDelayOption)
  .addOption(maxDelayOption)
  .addOption(
    withOriginalEnv(
      new Option(
        '--write-timeout <ms>',
        `a write not on W followers after this long fails (default ${DEFAULT_CONFIG.writeTimeoutMs})`,
      ),
    ),
  )
  .addOption(withOriginalEnv(new Option('--followers <urls>', 'comma-separated follower base URLs, leader only')))
  .option('--impl <dir>', 'folder with server.ts (lab4, or the reference solution in the course kit)', 'lab4')
  .parse();

interface Opts extends SettingFlags {
  id?: string;
  host: string;
  impl: string;
}

function die(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const o = program.opts<Opts>();
  let role: ReturnType<typeof resolveRole>;
  let settings: ReturnType<typeof resolveSettings>;
  let file: string;
  try {
    role = resolveRole(o, sourcesOf(program));
    settings = resolveSettings(o, sourcesOf(program), {
      followers: role === 'leader' ? 'urls' : 'none',
      quorum: role === 'leader',
    });
    file = serverFile(o.impl);
  } catch (err) {
    if (err instanceof SettingsError) die(err.message);
    throw err;
  }
  const { port, quorum, followerUrls: followers, minDelayMs, maxDelayMs, writeTimeoutMs } = settings;
  const token = process.env[TOKEN_ENV];
  if (!token)
    die(
      `${TOKEN_ENV} is not set: give the leader and its followers the same secret in it (npm run lab4:cluster makes one for you).`,
    );
  const id = o.id ?? (role === 'leader' ? 'leader' : `follower-${port}`);
  const { KVNode } = require(file) as { KVNode: NodeClass };
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const node = new RealNode({
    KVNode,
    config: { ...DEFAULT_CONFIG, id, role, quorum, writeTimeoutMs, token },
    followers,
    minDelayMs,
    maxDelayMs,
    log,
  });
  const addr = await node.listen(port, o.host);
  log(
    `${id}: ${role} on ${node.url} (implementation ${path.relative(REPO_ROOT, path.dirname(file)) || '.'})` +
      (role === 'leader'
        ? `, quorum ${quorum} of ${followers.length} followers, delay ${minDelayMs}-${maxDelayMs} ms`
        : ''),
  );
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
  process.on('unhandledRejection', (err) =>
    log(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  );
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
