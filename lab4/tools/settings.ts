/**
 * The original's settings, read the same way by every lab 4 tool (a node, lab4:cluster, lab4:quorum): a flag wins,
 * then the original's environment variable, then the default. Commander does the picking (each option's
 * Option.env(), added by withOriginalEnv); this module reads the value by where it came from (the variables'
 * delays are in seconds, the flags' in ms; a blank variable counts as unset) and checks it. A bad value is a
 * SettingsError naming the flag or variable it came from.
 *
 *   flag              variable       unit of the variable
 *   --role            NODE_TYPE      leader | follower
 *   --port            PORT           the leader's port
 *   --quorum          WRITE_QUORUM   followers that must confirm a write
 *   --min-delay (ms)  MIN_DELAY      seconds, as in the original (0.0001)
 *   --max-delay (ms)  MAX_DELAY      seconds (0.001)
 *   --followers       FOLLOWERS      the original's comma-separated follower URLs; the cluster tools also take a count
 *   --write-timeout   (none)         ms
 */
import { Option, type Command } from 'commander';
import { DEFAULT_CONFIG, type Role } from '../rpc';
import { SEED_DELAY_MS } from '../delayed-end';

/** A setting a person got wrong; the message says which and what would be right. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Environment variables (process.env, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Flags as commander gives them: the text typed, or undefined when the flag is absent. */
export interface SettingFlags {
  role?: string;
  port?: string;
  quorum?: string;
  minDelay?: string;
  maxDelay?: string;
  followers?: string;
  writeTimeout?: string;
}

/** The original's environment variables, by flag. */
export const SEED_ENV = {
  role: 'NODE_TYPE',
  port: 'PORT',
  quorum: 'WRITE_QUORUM',
  minDelay: 'MIN_DELAY',
  maxDelay: 'MAX_DELAY',
  followers: 'FOLLOWERS',
} as const;

/** Most followers a cluster tool starts (each is a process): a typo such as 55 for 5 should not start 55. */
export const MAX_FOLLOWERS = 20;

/** What the followers setting means to a tool. */
export type FollowersUse =
  /** a leader node: the original's URL list (a follower node ignores the setting) */
  | 'urls'
  /** lab4:cluster: a count (ports after the leader's) or a URL list on this machine (those ports) */
  | 'count or urls'
  /** lab4:quorum: a count only (it picks the ports of its clusters) */
  | 'count'
  /** a follower node: not read */
  | 'none';

/** How a tool reads the settings. */
export interface Use {
  followers: FollowersUse;
  /** Whether the tool reads WRITE_QUORUM / --quorum (lab4:quorum tries every W instead). */
  quorum: boolean;
  /** The address the cluster's nodes listen on (checks FOLLOWERS URLs of a cluster). Default 127.0.0.1. */
  host?: string;
  /** Defaults that differ from the original's (the cluster's 5 followers, lab4:quorum's free ports). */
  defaults?: Partial<Pick<Settings, 'port' | 'followerCount'>>;
}

/** The settings, in ms and whole numbers. */
export interface Settings {
  port: number;
  quorum: number;
  minDelayMs: number;
  maxDelayMs: number;
  writeTimeoutMs: number;
  followerCount: number;
  /** The followers' base URLs (a leader node; a cluster when FOLLOWERS lists URLs). */
  followerUrls: string[];
  /** A cluster's follower ports, in order (0: any free port). Empty for a node. */
  followerPorts: number[];
}

/** The replication delay options every tool takes (each reads the original's variable, which is in seconds). */
export function delayOptions(): [Option, Option] {
  return [
    withOriginalEnv(
      new Option(
        '--min-delay <ms>',
        'minimum delay before each replication message, ms (MIN_DELAY is in seconds; default 0.1 ms)',
      ),
    ),
    withOriginalEnv(
      new Option(
        '--max-delay <ms>',
        'maximum delay before each replication message, ms (MAX_DELAY is in seconds; default 1 ms)',
      ),
    ),
  ];
}

/** Where commander took each setting from: 'cli' (the flag), 'env' (the original's variable), or nowhere. */
export type Sources = Readonly<Partial<Record<keyof SettingFlags, string | undefined>>>;

/** `option` reading the original's environment variable for its setting too (commander's Option.env), where there is one. */
export function withOriginalEnv(option: Option): Option {
  const name = (SEED_ENV as Record<string, string | undefined>)[option.attributeName()];
  return name === undefined ? option : option.env(name);
}

/** Where `cmd` (after parsing) took each setting from. */
export function sourcesOf(cmd: Command): Sources {
  const keys: Array<keyof SettingFlags> = [
    'role',
    'port',
    'quorum',
    'minDelay',
    'maxDelay',
    'followers',
    'writeTimeout',
  ];
  return Object.fromEntries(keys.map((k) => [k, cmd.getOptionValueSource(k)]));
}

/** One setting's text and where it came from ("--quorum" or "WRITE_QUORUM"), or undefined if unset. */
interface Raw {
  text: string;
  from: string;
  /** The variable is in seconds where the flag is in ms. */
  fromEnv: boolean;
}

/** The value commander picked for `key` (the flag, else the variable), with its source; a blank variable is unset. */
function pick(flags: SettingFlags, sources: Sources, key: keyof SettingFlags): Raw | undefined {
  const text = flags[key];
  if (text === undefined) return undefined;
  const name = (SEED_ENV as Record<string, string | undefined>)[key];
  if (sources[key] === 'env' && name !== undefined)
    return text.trim() === '' ? undefined : { text: text.trim(), from: name, fromEnv: true };
  return { text: text.trim(), from: `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, fromEnv: false };
}

/** A whole number in [min, max]; the error names `from`. */
export function wholeNumber(
  text: string,
  from: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  what = 'a whole number',
): number {
  const n = /^[+]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new SettingsError(`${from} must be ${what}, ${range}; got "${text}".`);
  }
  return n;
}

/** A delay in ms: the flag is in ms, the original's variable in seconds. */
function delayMs(raw: Raw): number {
  const n = raw.text === '' ? NaN : Number(raw.text);
  if (!(Number.isFinite(n) && n >= 0)) {
    const example = raw.fromEnv ? `seconds, such as 0.0001 for 0.1 ms` : `milliseconds, such as 0.1`;
    throw new SettingsError(`${raw.from} must be a delay in ${example}; got "${raw.text}".`);
  }
  return raw.fromEnv ? n * 1000 : n;
}

/** A delay as its source wrote it, with the unit ("0.002 s" or "2 ms"). */
function asWritten(raw: Raw | undefined, ms: number, flag: string): string {
  return raw ? `${raw.from} (${raw.text} ${raw.fromEnv ? 's' : 'ms'})` : `${flag} (default ${ms} ms)`;
}

/** The original's follower URLs: comma-separated http://host:port, no duplicates; trailing slashes dropped. */
export function parseFollowerUrls(text: string, from: string): string[] {
  const urls = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out: string[] = [];
  for (const s of urls) {
    let u: URL | undefined;
    try {
      u = new URL(s);
    } catch {
      u = undefined;
    }
    if (
      !u ||
      u.protocol !== 'http:' ||
      u.hostname === '' ||
      (u.pathname !== '/' && u.pathname !== '') ||
      u.search ||
      u.hash
    ) {
      throw new SettingsError(
        `${from} must list follower URLs such as http://127.0.0.1:5001,http://127.0.0.1:5002; "${s}" is not one.`,
      );
    }
    const url = `http://${u.host}`;
    if (out.includes(url)) throw new SettingsError(`${from} lists ${url} twice; each follower is a different node.`);
    out.push(url);
  }
  return out;
}

/** Host names that mean this machine. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Reads the original's settings for a tool; throws SettingsError for the first bad one. */
export function resolveSettings(flags: SettingFlags, sources: Sources, use: Use): Settings {
  const port = pick(flags, sources, 'port');
  const quorum = use.quorum ? pick(flags, sources, 'quorum') : undefined;
  const s = nodeSettings(flags, sources, use, port, quorum);
  if (use.followers === 'none') return s;
  const f = pick(flags, sources, 'followers');
  const followersFrom = f?.from ?? '--followers';
  readFollowers(s, f, use);
  if (use.quorum && s.quorum > s.followerCount) {
    const q = quorum ? `${quorum.from} ${quorum.text}` : `The default quorum ${s.quorum}`;
    const fix = quorum ? quorum.from : '--quorum or WRITE_QUORUM';
    throw new SettingsError(
      `${q} is more than the ${s.followerCount} follower(s) given with ${followersFrom}: set ${fix} to ${s.followerCount} or less.`,
    );
  }
  if (use.followers === 'urls') return s;
  // A cluster tool starts the followers itself, on this machine.
  s.followerPorts =
    s.followerUrls.length > 0
      ? portsOfLocalUrls(s, use.host ?? '127.0.0.1', followersFrom, port)
      : portsAfterLeader(s, port);
  return s;
}

/** Every setting but the followers: the port, quorum, delays and write timeout (no followers yet). */
function nodeSettings(
  flags: SettingFlags,
  sources: Sources,
  use: Use,
  port: Raw | undefined,
  quorum: Raw | undefined,
): Settings {
  const s: Settings = {
    port: port ? wholeNumber(port.text, port.from, 0, 65535, 'a port number') : (use.defaults?.port ?? 5000),
    quorum: DEFAULT_CONFIG.quorum,
    minDelayMs: SEED_DELAY_MS.min,
    maxDelayMs: SEED_DELAY_MS.max,
    writeTimeoutMs: DEFAULT_CONFIG.writeTimeoutMs,
    followerCount: 0,
    followerUrls: [],
    followerPorts: [],
  };
  if (quorum)
    s.quorum = wholeNumber(quorum.text, quorum.from, 1, Number.MAX_SAFE_INTEGER, 'a whole number of followers');
  const min = pick(flags, sources, 'minDelay');
  const max = pick(flags, sources, 'maxDelay');
  if (min) s.minDelayMs = delayMs(min);
  if (max) s.maxDelayMs = delayMs(max);
  if (s.minDelayMs > s.maxDelayMs) {
    throw new SettingsError(
      `The minimum delay ${asWritten(min, s.minDelayMs, '--min-delay')} is more than the maximum ${asWritten(max, s.maxDelayMs, '--max-delay')}.`,
    );
  }
  const timeout = pick(flags, sources, 'writeTimeout');
  if (timeout)
    s.writeTimeoutMs = wholeNumber(timeout.text, timeout.from, 1, Number.MAX_SAFE_INTEGER, 'a number of milliseconds');
  return s;
}

/** Sets the follower count (and URLs, when the setting lists them) as `use` allows; a leader needs at least one. */
function readFollowers(s: Settings, f: Raw | undefined, use: Use): void {
  if (f && /^\d+$/.test(f.text)) {
    if (use.followers === 'urls') {
      throw new SettingsError(
        `${f.from} must list the followers' URLs (such as http://127.0.0.1:5001,http://127.0.0.1:5002); a count such as ${f.text} only works with npm run lab4:cluster.`,
      );
    }
    s.followerCount = wholeNumber(f.text, f.from, 1, MAX_FOLLOWERS, 'a number of followers');
  } else if (f) {
    if (use.followers === 'count')
      throw new SettingsError(
        `${f.from} must be a number of followers here (this tool picks its own ports); got "${f.text}".`,
      );
    s.followerUrls = parseFollowerUrls(f.text, f.from);
    s.followerCount = s.followerUrls.length;
  } else {
    s.followerCount = use.followers === 'urls' ? 0 : (use.defaults?.followerCount ?? 5);
  }
  if (use.followers === 'urls' && s.followerCount === 0) {
    throw new SettingsError(
      'A leader needs its followers: give their URLs with --followers or FOLLOWERS (such as http://127.0.0.1:5001,http://127.0.0.1:5002).',
    );
  }
}

/** A cluster's follower ports from the URLs it was given: on this machine (`host`), each its own, none the leader's. */
function portsOfLocalUrls(s: Settings, host: string, followersFrom: string, port: Raw | undefined): number[] {
  const ports = s.followerUrls.map((url) => {
    const u = new URL(url);
    if (!LOOPBACK.has(u.hostname) && u.hostname !== host) {
      throw new SettingsError(
        `${followersFrom} lists ${url}, but this tool runs every node on this machine (${host}); use URLs such as http://127.0.0.1:5001, or a count such as ${followersFrom === 'FOLLOWERS' ? 'FOLLOWERS=5' : '--followers 5'}.`,
      );
    }
    if (u.port === '')
      throw new SettingsError(
        `${followersFrom} lists ${url} without a port; write it as ${url}:5001 (or another port).`,
      );
    return Number(u.port);
  });
  const twice = ports.find((p, i) => ports.indexOf(p) !== i);
  if (twice !== undefined)
    throw new SettingsError(
      `${followersFrom} gives port ${twice} to two followers; each needs its own port on this machine.`,
    );
  if (s.port !== 0 && ports.includes(s.port)) {
    throw new SettingsError(
      `${followersFrom} uses port ${s.port}, which is the leader's (${port?.from ?? 'the default leader port'}); give the followers other ports.`,
    );
  }
  return ports;
}

/** A cluster's follower ports when only their count is given: the ones after the leader's (all 0 for free ports). */
function portsAfterLeader(s: Settings, port: Raw | undefined): number[] {
  const ports = Array.from({ length: s.followerCount }, (_, i) => (s.port === 0 ? 0 : s.port + i + 1));
  if (s.port + s.followerCount > 65535)
    throw new SettingsError(
      `${port?.from ?? '--port'} ${s.port} leaves no room for ${s.followerCount} follower ports after it (the highest port is 65535).`,
    );
  return ports;
}

/** A node's role, from --role or NODE_TYPE (default leader). */
export function resolveRole(flags: SettingFlags, sources: Sources): Role {
  const r = pick(flags, sources, 'role');
  if (!r) return 'leader';
  if (r.text !== 'leader' && r.text !== 'follower')
    throw new SettingsError(`${r.from} must be leader or follower; got "${r.text}".`);
  return r.text;
}

/** The environment without the original's variables: what a tool gives the nodes it starts, which get flags instead. */
export function withoutSeedEnv(env: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of Object.values(SEED_ENV)) delete out[name];
  return out;
}
