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

/** Runs one line typed at the prompt; resolves false on exit. */
async function execute(client: KVClient, sharding: string, line: string): Promise<boolean> {
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (words.length === 0) return true;
  const [cmd, ...args] = words;
  const usage = (text: string): boolean => {
    console.log(`${pc.yellow('usage:')} ${text}`);
    return true;
  };
  /** The server index named by an argument ("2" -> the server with id 2), or all of them. */
  const pickServers = (arg: string | undefined): number[] | undefined => {
    if (arg === undefined) return client.servers.map((_, i) => i);
    const i = client.servers.findIndex((s) => String(s.id) === arg);
    if (i < 0) {
      console.log(`${pc.red('✗')} no server ${arg}; servers are ${client.servers.map((s) => s.id).join(', ')}`);
      return undefined;
    }
    return [i];
  };
  const key = args[0];
  const server = key !== undefined ? client.serverFor(key) : undefined;
  try {
    switch (cmd.toLowerCase()) {
      case 'set': {
        if (args.length < 2) return usage('set <key> <value> [ttl-seconds]');
        const last = args[args.length - 1];
        const ttl = args.length >= 3 && /^\d+$/.test(last) ? Number(last) : undefined;
        const value = (ttl === undefined ? args.slice(1) : args.slice(1, -1)).join(' ');
        await client.set(key, value, ttl);
        ok(server!, ['Key set successfully', ...(ttl !== undefined ? [`TTL: ${ttl} seconds`] : [])]);
        return true;
      }
      case 'get': {
        if (args.length !== 1) return usage('get <key>');
        const value = await client.get(key);
        if (value === null) {
          console.log(`${pc.yellow('✗ NOT FOUND')} (Server ${server!.id})\n  Key "${key}" does not exist`);
          return true;
        }
        ok(server!, [`Key: ${key}`, `Value: ${value}`, `TTL: ${ttlText(await client.ttl(key))}`]);
        return true;
      }
      case 'del':
      case 'delete': {
        if (args.length !== 1) return usage('del <key>');
        if (await client.del(key)) ok(server!, ['Key deleted successfully']);
        else console.log(`${pc.yellow('✗ NOT FOUND')} (Server ${server!.id})\n  Key "${key}" does not exist`);
        return true;
      }
      case 'expire': {
        if (args.length !== 2 || !/^-?\d+$/.test(args[1])) return usage('expire <key> <seconds>');
        if (await client.expire(key, Number(args[1])))
          ok(server!, ['Expiration set successfully', `TTL: ${args[1]} seconds`]);
        else console.log(`${pc.yellow('✗ NOT FOUND')} (Server ${server!.id})\n  Key "${key}" does not exist`);
        return true;
      }
      case 'ttl': {
        if (args.length !== 1) return usage('ttl <key>');
        ok(server!, [`Key: ${key}`, `TTL: ${ttlText(await client.ttl(key))}`]);
        return true;
      }
      case 'keys':
      case 'stats': {
        const targets = pickServers(args[0] === '*' ? undefined : args[0]);
        if (!targets) return true;
        for (const i of targets) {
          const s = client.servers[i];
          if (targets.length > 1) console.log(`${RULE}\nServer ${s.id} (Port ${s.port})\n${RULE}`);
          try {
            if (cmd.toLowerCase() === 'keys') {
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
      case 'servers': {
        const rule = '='.repeat(70);
        console.log(`${rule}\nSERVER CONFIGURATION\n${rule}`);
        for (const s of client.servers) console.log(`Server ${s.id}: ${s.host}:${s.port}`);
        console.log(`Total Servers: ${client.servers.length}`);
        console.log(
          `Sharding: ${sharding === 'ring' ? 'consistent hashing ring (virtual nodes)' : 'MD5 hash modulo server count'}`,
        );
        console.log(`Retry Policy: 3 retries with 0.5s delay\n${rule}`);
        return true;
      }
      case 'help':
        console.log(HELP);
        return true;
      case 'exit':
      case 'quit':
        console.log('Goodbye!');
        return false;
      default:
        console.log(`${pc.red('✗')} unknown command "${cmd}" — type help`);
        return true;
    }
  } catch (err) {
    fail(server, err);
    return true;
  }
}

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
