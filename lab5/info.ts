/**
 * Reading an INFO reply — GIVEN, do not change. The server writes INFO (see lab5/README.md, "INFO");
 * the client and the tests read it with these functions.
 */

/** A server's statistics, as read from its INFO reply. */
export interface ServerStats {
  /** The server's id (1, 2, 3 in the cluster). */
  serverId: number;
  /** Commands executed since the server started (every known command, INFO included). */
  totalCommands: number;
  /** Calls per command, by lower-case name, e.g. { get: 2, set: 2, del: 1 }. */
  commands: Record<string, number>;
  /** Keys stored now (expired keys excluded). */
  keys: number;
  /** Of those, keys with a time to live. */
  keysWithTtl: number;
  /** Keys removed because they expired (on access or by the background sweep), since start. */
  expiredKeys: number;
}

/** The `field:value` lines of an INFO reply (section headers and blank lines skipped). */
export function parseInfoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Reads the statistics from an INFO reply; throws an Error naming the first missing or malformed field. */
export function parseStats(text: string): ServerStats {
  const fields = parseInfoFields(text);
  const int = (name: string): number => {
    const v = fields.get(name);
    if (v === undefined || !/^-?\d+$/.test(v))
      throw new Error(`INFO has no integer field "${name}" (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
    return Number(v);
  };
  const commands: Record<string, number> = {};
  for (const [name, value] of fields) {
    if (!name.startsWith('cmdstat_')) continue;
    const m = /(?:^|,)calls=(\d+)/.exec(value);
    if (!m) throw new Error(`INFO field "${name}" should look like "calls=3", got ${JSON.stringify(value)}`);
    commands[name.slice('cmdstat_'.length).toLowerCase()] = Number(m[1]);
  }
  let keys = 0;
  let keysWithTtl = 0;
  const db0 = fields.get('db0');
  if (db0 !== undefined) {
    const k = /(?:^|,)keys=(\d+)/.exec(db0);
    const e = /(?:^|,)expires=(\d+)/.exec(db0);
    if (!k || !e) throw new Error(`INFO field "db0" should look like "keys=3,expires=1", got ${JSON.stringify(db0)}`);
    keys = Number(k[1]);
    keysWithTtl = Number(e[1]);
  }
  return {
    serverId: int('server_id'),
    totalCommands: int('total_commands_processed'),
    commands,
    keys,
    keysWithTtl,
    expiredKeys: int('expired_keys'),
  };
}
