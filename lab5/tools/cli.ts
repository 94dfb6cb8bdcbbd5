/**
 * `npm run lab5:cli`: the original's interactive client, on your ShardedClient (lab5/client.ts).
 *   npm run lab5:cli -- --ports 7001,7002,7003 --ring --solution
 * At the `kv>` prompt: set, get, del, expire, ttl, keys [server], stats [server], servers, help, exit.
 */
import { Command } from 'commander';
import * as readline from 'node:readline';
import type { ServerStats } from '../info';
import type { KVClient, ServerAddress } from '../types';
import { loadImpl, parsePorts } from './load';
import { colorsFor } from '../../suite/colors';
import { NoSolutionError } from '../../suite/solution';

const pc = colorsFor();

const RULE = '='.repeat(61);

const HELP = `Commands:
  set <key> <value> [ttl-seconds]   store a value (spaces allowed in the value when no ttl is given)
  get <key>                         read a value and its time to live
  del <key>                         delete a key
  expire <key> <seconds>            give a key a time to live
  ttl <key>                         seconds left (-1: no expiry, -2: no such key)
  keys [server] [pattern]           list keys on every server, or on one (pattern: glob, default *)
  stats [server]                    request counts and key counts
  servers                           the cluster's configuration
  help                              this text
  exit                              leave`;

function ok(server: ServerAddress, lines: string[]): void {
  console.log(`${pc.green('✓ SUCCESS')} (Server ${server.id})`);
  for (const l of lines) console.log(`  ${l}`);
}

function fail(server: ServerAddress | undefined, err: unknown): void {
  const e = err as Error & { name?: string; server?: ServerAddress; attempts?: number };
  const where = e.server ?? server;
  console.log(`${pc.red('✗ ERROR')}${where ? ` (Server ${where.id})` : ''}`);
  if (e.name === 'ServerUnavailableError' && where)
    console.log(
      `  Server ${where.id} unavailable after ${(e.attempts ?? 1) - 1} retries (${where.host}:${where.port} — is it running?)`,
    );
  else console.log(`  ${e.message}`);
}

function ttlText(ttl: number): string {
  return ttl === -1 ? 'No expiration' : ttl === -2 ? 'Key does not exist' : `${ttl} seconds`;
}

function statsLines(s: ServerStats): string[] {
  const lines = [`Total Requests: ${s.totalCommands}`];
  for (const name of ['get', 'set', 'del', 'expire', 'ttl', 'keys', 'info'])
    lines.push(`${name.toUpperCase()}: ${s.commands[name] ?? 0}`);
  lines.push(`Total Keys: ${s.keys}`, `Keys with TTL: ${s.keysWithTtl}`, `Expired Keys: ${s.expiredKeys}`);
  return lines;
}

/** One command typed at the prompt: its name (lower case), its arguments, and the server of its key (the first argument). */
interface Call {
  client: KVClient;
  sharding: string;
  name: string;
  args: string[];
  key: string;
  server: ServerAddress | undefined;
}

/** Runs one line typed at the prompt; resolves false on exit. */
async function execute(client: KVClient, sharding: string, line: string): Promise<boolean> {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (words.length === 0) return true;
  const [cmd, ...args] = words;
  const key = args[0];
  const server = key !== undefined ? client.serverFor(key) : undefined;
  const command = COMMANDS.get(cmd.toLowerCase());
  if (command === undefined) {
    console.log(`${pc.red('✗')} unknown command "${cmd}" — type help`);
    return true;
  }
  try {
    return await command({ client, sharding, name: cmd.toLowerCase(), args, key, server });
  } catch (err) {
    fail(server, err);
    return true;
  }
}

/** Prints how a command is used; the prompt goes on. */
function usage(text: string): boolean {
  console.log(`${pc.yellow('usage:')} ${text}`);
  return true;
}

/** Prints that the key does not exist (on its server). */
function notFound(server: ServerAddress, key: string): void {
  console.log(`${pc.yellow('✗ NOT FOUND')} (Server ${server.id})\n  Key "${key}" does not exist`);
}

/** The server index named by an argument ("2" -> the server with id 2), or all of them. */
function pickServers(client: KVClient, arg: string | undefined): number[] | undefined {
  if (arg === undefined) return client.servers.map((_, i) => i);
  const i = client.servers.findIndex((s) => String(s.id) === arg);
  if (i < 0) {
    console.log(`${pc.red('✗')} no server ${arg}; servers are ${client.servers.map((s) => s.id).join(', ')}`);
    return undefined;
  }
  return [i];
}

/** set <key> <value> [ttl-seconds]: the value may hold spaces when no ttl is given. */
async function setCommand({ client, args, key, server }: Call): Promise<boolean> {
  if (args.length < 2) return usage('set <key> <value> [ttl-seconds]');
  const last = args[args.length - 1];
  const ttl = args.length >= 3 && /^\d+$/.test(last) ? Number(last) : undefined;
  const value = (ttl === undefined ? args.slice(1) : args.slice(1, -1)).join(' ');
  await client.set(key, value, ttl);
  ok(server!, ['Key set successfully', ...(ttl !== undefined ? [`TTL: ${ttl} seconds`] : [])]);
  return true;
}

/** get <key>: the value and its time to live. */
async function getCommand({ client, args, key, server }: Call): Promise<boolean> {
  if (args.length !== 1) return usage('get <key>');
  const value = await client.get(key);
  if (value === null) {
    notFound(server!, key);
    return true;
  }
  ok(server!, [`Key: ${key}`, `Value: ${value}`, `TTL: ${ttlText(await client.ttl(key))}`]);
  return true;
}

/** del <key> (or delete). */
async function delCommand({ client, args, key, server }: Call): Promise<boolean> {
  if (args.length !== 1) return usage('del <key>');
  if (await client.del(key)) ok(server!, ['Key deleted successfully']);
  else notFound(server!, key);
  return true;
}

/** expire <key> <seconds>. */
async function expireCommand({ client, args, key, server }: Call): Promise<boolean> {
  if (args.length !== 2 || !/^-?\d+$/.test(args[1])) return usage('expire <key> <seconds>');
  if (await client.expire(key, Number(args[1])))
    ok(server!, ['Expiration set successfully', `TTL: ${args[1]} seconds`]);
  else notFound(server!, key);
  return true;
}

/** ttl <key>. */
async function ttlCommand({ client, args, key, server }: Call): Promise<boolean> {
  if (args.length !== 1) return usage('ttl <key>');
  ok(server!, [`Key: ${key}`, `TTL: ${ttlText(await client.ttl(key))}`]);
  return true;
}

/** keys [server] [pattern] and stats [server]: on one server, or on each under a heading; a failing server is reported and skipped. */
async function keysOrStatsCommand({ client, name, args }: Call): Promise<boolean> {
  const targets = pickServers(client, args[0] === '*' ? undefined : args[0]);
  if (!targets) return true;
  for (const i of targets) {
    const s = client.servers[i];
    if (targets.length > 1) console.log(`${RULE}\nServer ${s.id} (Port ${s.port})\n${RULE}`);
    try {
      if (name === 'keys') {
        const keys = await client.keys(i, args[1] ?? '*');
        ok(s, [`Keys (${keys.length}): ${keys.sort().join(', ')}`]);
      } else {
        ok(s, statsLines(await client.stats(i)));
      }
    } catch (err) {
      fail(s, err);
    }
    if (targets.length > 1) console.log('');
  }
  return true;
}

/** servers: the cluster's configuration. */
function serversCommand({ client, sharding }: Call): Promise<boolean> {
  const rule = '='.repeat(70);
  console.log(`${rule}\nSERVER CONFIGURATION\n${rule}`);
  for (const s of client.servers) console.log(`Server ${s.id}: ${s.host}:${s.port}`);
  console.log(`Total Servers: ${client.servers.length}`);
  console.log(
    `Sharding: ${sharding === 'ring' ? 'consistent hashing ring (virtual nodes)' : 'MD5 hash modulo server count'}`,
  );
  console.log(`Retry Policy: 3 retries with 0.5s delay\n${rule}`);
  return Promise.resolve(true);
}

/** help: the commands. */
function helpCommand(): Promise<boolean> {
  console.log(HELP);
  return Promise.resolve(true);
}

/** exit (or quit): leaves the prompt. */
function leave(): Promise<boolean> {
  console.log('Goodbye!');
  return Promise.resolve(false);
}

/** The prompt's commands by name; each resolves false to leave. */
const COMMANDS = new Map<string, (call: Call) => Promise<boolean>>([
  ['set', setCommand],
  ['get', getCommand],
  ['del', delCommand],
  ['delete', delCommand],
  ['expire', expireCommand],
  ['ttl', ttlCommand],
  ['keys', keysOrStatsCommand],
  ['stats', keysOrStatsCommand],
  ['servers', serversCommand],
  ['help', helpCommand],
  ['exit', leave],
  ['quit', leave],
]);

async function main(): Promise<void> {
  const opts = new Command()
    .name('npm run lab5:cli --')
    .description('Interactive client of the lab 5 cluster.')
    .option('--ports <list>', 'comma-separated ports of servers 1, 2, 3, ...', '7001,7002,7003')
    .option('--host <address>', 'servers host', '127.0.0.1')
    .option('--ring', 'consistent hashing ring instead of md5 mod n')
    .option('--solution', 'use the reference solution client instead of lab5/client.ts')
    .parse()
    .opts<{ ports: string; host: string; ring?: boolean; solution?: boolean }>();
  const impl = loadImpl(opts.solution === true);
  const servers = parsePorts(opts.ports).map((port, i) => ({ id: i + 1, host: opts.host, port }));
  const sharding = opts.ring ? 'ring' : 'modulo';
  const client = new impl.ShardedClient(servers, {
    sharding,
    onRetry: (n) =>
      console.log(pc.yellow(`[RETRY] Server ${n.server.id} failed, retrying... (${n.attempt}/${n.retries})`)),
  });
  const rule = '='.repeat(70);
  console.log(`${rule}\n${' '.repeat(14)}DISTRIBUTED KEY-VALUE STORE CLIENT\n${rule}`);
  console.log(`Servers: ${servers.length} nodes (${servers.map((s) => s.port).join(', ')})`);
  console.log(`Sharding: ${sharding === 'ring' ? 'consistent hashing ring' : 'MD5 hash modulo'}`);
  console.log(`Fault Tolerance: 3 retries\n${rule}\nType help for the commands.\n`);
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'kv> ',
    terminal: process.stdin.isTTY === true,
  });
  rl.prompt();
  // Lines are run one at a time, in order, even when pasted or piped in faster than they complete.
  let queue = Promise.resolve(true);
  // Piped input may end (closing the interface) while earlier lines still run: prompting then throws on node 24+.
  let inputClosed = false;
  rl.on('line', (line) => {
    queue = queue.then(async (going) => {
      if (!going) return false;
      const more = await execute(client, sharding, line);
      if (inputClosed) return more;
      if (more) rl.prompt();
      else rl.close();
      return more;
    });
  });
  rl.on('close', () => {
    inputClosed = true;
    void queue.then(() => {
      client.close();
      process.exit(0);
    });
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(err instanceof NoSolutionError ? 2 : 1);
});
