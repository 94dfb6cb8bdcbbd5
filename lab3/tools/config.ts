/**
 * The original's cluster configuration format (a JSON file), read and checked. A malformed file is refused with a
 * ConfigError naming the file and the field:
 *
 *   { "num_servers": 3, "consistency_level": "sequential",
 *     "port_number": { "0": [3000, 3001, 3002], ... },
 *     "clients": [ { "client_number": 0, "server_number": 0,
 *                    "requests": [ { "request_type": "write", "key": "a", "value": 1 },
 *                                  { "request_type": "sleep" },
 *                                  { "request_type": "read", "key": "a" } ] } ] }
 */
import * as fs from 'node:fs';
import type { ConsistencyLevel } from '../rpc';

/** One request of a client script. `sleep` pauses the client for a random 0–1 s. */
export type Request = { type: 'write'; key: string; value: string } | { type: 'read'; key: string } | { type: 'sleep' };

/** One client: its number, the server it talks to, and its requests in order. */
export interface ClientScript {
  client: number;
  server: number;
  requests: Request[];
}

/** A checked configuration. */
export interface Lab3Config {
  /** Where it came from (for messages). */
  file: string;
  servers: number;
  level: ConsistencyLevel;
  /** Ports per server id (the first one is where `--real` listens). */
  ports: number[][];
  clients: ClientScript[];
}

/** A configuration that cannot be used, with the file and the field at fault in the message. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The names the original's files use for each level (both spellings of the strongest are accepted). */
const LEVEL_NAMES: Record<string, ConsistencyLevel> = {
  linearizable: 'linearizable',
  linearizability: 'linearizable',
  sequential: 'sequential',
  eventual: 'eventual',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throws the ConfigError for a field of the file being read. */
type Fail = (field: string, problem: string) => never;

/** Parses and checks the text of a configuration file. */
export function parseConfig(text: string, file: string): Lab3Config {
  const fail: Fail = (field, problem) => {
    throw new ConfigError(`${file}: ${field} ${problem}`);
  };
  const raw = parseObject(text, fail);
  const servers = readServerCount(raw.num_servers, fail);
  const level = readLevel(raw.consistency_level, fail);
  const ports = readPorts(raw.port_number, servers, fail);
  if (!Array.isArray(raw.clients)) return fail('clients', 'must be a list of client objects');
  const seen = new Set<number>();
  const clients = raw.clients.map((c: unknown, ci: number) => readClient(c, `clients[${ci}]`, servers, seen, fail));
  return { file, servers, level, ports, clients };
}

/** The file's JSON, which must be an object. */
function parseObject(text: string, fail: Fail): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail('(the whole file)', `is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw))
    return fail(
      '(the whole file)',
      'must be a JSON object with num_servers, consistency_level, port_number and clients',
    );
  return raw;
}

/** num_servers: a whole number of at least 1. */
function readServerCount(count: unknown, fail: Fail): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    fail('num_servers', `must be a whole number of at least 1, got ${JSON.stringify(count)}`);
  }
  return count as number;
}

/** consistency_level: one of the level names (LEVEL_NAMES). */
function readLevel(levelName: unknown, fail: Fail): ConsistencyLevel {
  const level = typeof levelName === 'string' ? LEVEL_NAMES[levelName] : undefined;
  if (!level) {
    fail(
      'consistency_level',
      `must be "linearizable" (or "linearizability"), "sequential" or "eventual", got ${JSON.stringify(levelName)}`,
    );
  }
  return level as ConsistencyLevel;
}

/** port_number: a non-empty list of ports for each server id 0 … servers-1, and no other key. */
function readPorts(portsRaw: unknown, servers: number, fail: Fail): number[][] {
  if (!isObject(portsRaw))
    return fail('port_number', 'must be an object mapping each server id ("0", "1", …) to a list of port numbers');
  const ports: number[][] = [];
  for (let i = 0; i < servers; i++) {
    const list = portsRaw[String(i)];
    if (!Array.isArray(list) || list.length === 0)
      fail(`port_number["${i}"]`, `must be a non-empty list of ports (server ${i} of ${servers} has none)`);
    (list as unknown[]).forEach((p, k) => {
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)
        fail(`port_number["${i}"][${k}]`, `must be a port number 1–65535, got ${JSON.stringify(p)}`);
    });
    ports.push(list as number[]);
  }
  for (const key of Object.keys(portsRaw)) {
    if (!/^\d+$/.test(key) || Number(key) >= servers)
      fail(`port_number["${key}"]`, `names no server: server ids are 0 … ${servers - 1}`);
  }
  return ports;
}

/** One client (`at` names it, e.g. clients[2]): a number not `seen` before, its server's id, and its requests. */
function readClient(c: unknown, at: string, servers: number, seen: Set<number>, fail: Fail): ClientScript {
  if (!isObject(c)) return fail(at, 'must be an object with client_number, server_number and requests');
  const client = c.client_number;
  if (typeof client !== 'number' || !Number.isInteger(client) || client < 0)
    fail(`${at}.client_number`, `must be a whole number ≥ 0, got ${JSON.stringify(client)}`);
  if (seen.has(client as number)) fail(`${at}.client_number`, `repeats client number ${client as number}`);
  seen.add(client as number);
  const server = c.server_number;
  if (typeof server !== 'number' || !Number.isInteger(server) || server < 0 || server >= servers) {
    fail(`${at}.server_number`, `must be a server id 0 … ${servers - 1}, got ${JSON.stringify(server)}`);
  }
  if (!Array.isArray(c.requests)) return fail(`${at}.requests`, 'must be a list of requests');
  const requests = c.requests.map((r: unknown, ri: number) => readRequest(r, `${at}.requests[${ri}]`, fail));
  return { client: client as number, server: server as number, requests };
}

/** One request (`at` names it): a sleep, a read of a key, or a write of a value to a key (numbers become text). */
function readRequest(r: unknown, at: string, fail: Fail): Request {
  if (!isObject(r)) return fail(at, 'must be an object with a request_type');
  const type = r.request_type;
  if (type === 'sleep') return { type: 'sleep' };
  if (type !== 'write' && type !== 'read')
    return fail(`${at}.request_type`, `must be "write", "read" or "sleep", got ${JSON.stringify(type)}`);
  const key = r.key;
  if (typeof key !== 'string' && typeof key !== 'number')
    return fail(`${at}.key`, `must be a string, got ${JSON.stringify(key)}`);
  if (type === 'read') return { type: 'read', key: String(key) };
  const value = r.value;
  if (typeof value !== 'string' && typeof value !== 'number')
    return fail(`${at}.value`, `must be a string or a number, got ${JSON.stringify(value)}`);
  return { type: 'write', key: String(key), value: String(value) };
}

/** Reads and checks a configuration file. */
export function loadConfig(file: string): Lab3Config {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseConfig(text, file);
}
