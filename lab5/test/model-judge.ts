/** Holds raw RESP replies (byte strings) to the command model's expectations, and feeds it packets as a server reads them. */
import { parseStats } from '../info';
import { ProtocolError, ReplyParser, RequestParser, reply, type RespReply } from '../resp';
import { CommandModel, type Expectation, type ModelConnection, type StatsExpectation } from './command-model';
import { comparable, escapeBytes, replyEnd } from './redis-corpus';

/** What one command of a packet must get: the command (undefined for a protocol error) and its expectation. */
export interface PacketStep {
  readonly args: readonly string[] | undefined;
  readonly expect: Expectation;
}

/**
 * Runs a packet of bytes through the model as a server reads it: each complete command in turn; a protocol error gets
 * the parser's error and ends the connection (nothing after it runs). `parser` is the connection's, kept across packets.
 */
export function modelPacket(
  model: CommandModel,
  conn: ModelConnection,
  parser: RequestParser,
  bytes: Buffer,
): PacketStep[] {
  const steps: PacketStep[] = [];
  if (conn.closed) return steps;
  parser.push(bytes);
  for (;;) {
    let args: string[] | undefined;
    try {
      args = parser.next();
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      conn.closed = true;
      steps.push({ args: undefined, expect: { kind: 'exact', bytes: reply.error(err.message) } });
      return steps;
    }
    if (args === undefined) return steps;
    steps.push({ args, expect: model.execute(conn, args) });
    if (conn.closed) return steps;
  }
}

/** The expectation's exact bytes, if it has them (what the corpus compares). */
export function exactBytes(e: Expectation): string | undefined {
  if (e.kind === 'exact' || e.kind === 'ttl') return e.bytes;
  if (e.kind !== 'array') return undefined;
  const items = e.items.map(exactBytes);
  return items.every((b) => b !== undefined) ? reply.array(items as string[]) : undefined;
}

/** An expectation as a reader would say it. */
export function showExpectation(e: Expectation): string {
  switch (e.kind) {
    case 'exact':
      return `"${escapeBytes(e.bytes)}"`;
    case 'ttl':
      return `${e.unit === 1 ? 'PTTL' : 'TTL'} about "${escapeBytes(e.bytes)}" (${e.ms} ms left on the model's clock)`;
    case 'info':
      return `INFO with ${showStats(e.stats)}`;
    case 'scan':
      return `a SCAN step: a cursor and some of [${e.candidates.map((k) => `"${escapeBytes(k)}"`).join(', ')}]`;
    case 'array':
      return `[${e.items.map(showExpectation).join(', ')}]`;
    case 'error':
      return `an error reply, e.g. "-${escapeBytes(e.example)}"`;
    case 'any':
      return 'any reply';
    case 'none':
      return 'no reply (the connection had ended)';
  }
}

function showStats(s: StatsExpectation): string {
  const range = (lo: number, hi: number): string => (lo === hi ? `${lo}` : `${lo} to ${hi}`);
  const calls = Object.entries(s.calls)
    .map(([n, c]) => `cmdstat_${n}:calls=${c}`)
    .join(', ');
  return (
    `total_commands_processed ${range(s.totalLo, s.totalHi)}, expired_keys ${range(s.expiredLo, s.expiredHi)}, ` +
    `db0 keys=${s.keys},expires=${s.keysWithTtl}${calls ? `, ${calls}` : ''}`
  );
}

/** The elements of a raw array reply, each as its raw bytes, or undefined if `raw` is not a whole array. */
function arrayItems(raw: string): string[] | undefined {
  const m = /^\*(\d+)\r\n/.exec(raw);
  if (!m) return undefined;
  const buf = Buffer.from(raw, 'latin1');
  const items: string[] = [];
  let at: number | undefined = m[0].length;
  for (let i = 0; i < Number(m[1]); i++) {
    const end: number | undefined = at === undefined ? undefined : replyEnd(buf, at);
    if (end === undefined || at === undefined) return undefined;
    items.push(buf.toString('latin1', at, end));
    at = end;
  }
  return at === buf.length ? items : undefined;
}

/** A raw reply decoded (bulk strings as byte strings). */
function decode(raw: string): RespReply | undefined {
  const p = new ReplyParser('latin1');
  p.push(Buffer.from(raw, 'latin1'));
  try {
    return p.next();
  } catch {
    return undefined;
  }
}

/**
 * Why `raw` (a whole reply) does not meet `e`, or undefined if it does. `args` is the command (KEYS and SCAN replies
 * are compared as sorted lists); `slackMs` is how far a TTL read over the network may stray from the model's clock.
 */
export function judgeReply(
  e: Expectation,
  raw: string,
  args: readonly string[] | undefined,
  slackMs: number,
): string | undefined {
  const step = args === undefined ? { inline: '' } : [...args];
  switch (e.kind) {
    case 'exact':
      return comparable(step, raw) === comparable(step, e.bytes) ? undefined : 'a different reply';
    case 'ttl':
      return judgeTtl(e, raw, slackMs);
    case 'info':
      return judgeInfo(e.stats, raw);
    case 'scan':
      return judgeScan(e.candidates, raw);
    case 'array': {
      const items = arrayItems(raw);
      if (items === undefined || items.length !== e.items.length)
        return `an array of ${e.items.length} replies was expected`;
      for (let i = 0; i < items.length; i++) {
        const why = judgeReply(e.items[i], items[i], undefined, slackMs);
        if (why !== undefined) return `element ${i + 1}: "${escapeBytes(items[i])}" (${why})`;
      }
      return undefined;
    }
    case 'error':
      return raw.startsWith('-') ? undefined : 'an error reply was expected';
    case 'any':
      return undefined;
    case 'none':
      return 'no reply was expected: the connection had ended';
  }
}

function judgeTtl(e: Expectation & { kind: 'ttl' }, raw: string, slackMs: number): string | undefined {
  if (slackMs === 0) return raw === e.bytes ? undefined : 'a different time left';
  const m = /^:(-?\d+)\r\n$/.exec(raw);
  if (!m) return 'an integer reply was expected';
  const got = BigInt(m[1]);
  // Past 2^53 ms a deadline held as a double is a multiple of up to 2048 ms: that rounding is allowed too.
  const slack = BigInt(slackMs) + (e.ms > 2n ** 52n ? 4096n : 0n);
  const lo = e.ms - slack < 0n ? 0n : e.ms - slack;
  const hi = e.ms + slack;
  // TTL's seconds are rounded, as Redis's (ms + 500) / 1000: rounded down or up is a second off for half the keys.
  const [glo, ghi] = e.unit === 1 ? [lo, hi] : [(lo + 500n) / 1000n, (hi + 500n) / 1000n];
  return got >= glo && got <= ghi
    ? undefined
    : `the time left should be between ${glo} and ${ghi}${e.unit === 1 ? '' : ' (seconds rounded to the nearest, not down)'}`;
}

function judgeInfo(s: StatsExpectation, raw: string): string | undefined {
  const text = decode(raw);
  if (typeof text !== 'string' || !raw.startsWith('$')) return 'INFO must reply with a bulk string';
  let got;
  try {
    got = parseStats(text);
  } catch (err) {
    return (err as Error).message;
  }
  const wrong: string[] = [];
  if (got.totalCommands < s.totalLo || got.totalCommands > s.totalHi)
    wrong.push(`total_commands_processed is ${got.totalCommands}`);
  if (got.expiredKeys < s.expiredLo || got.expiredKeys > s.expiredHi) wrong.push(`expired_keys is ${got.expiredKeys}`);
  if (got.keys !== s.keys || got.keysWithTtl !== s.keysWithTtl)
    wrong.push(`db0 is keys=${got.keys},expires=${got.keysWithTtl}`);
  for (const [name, n] of Object.entries(s.calls))
    if ((got.commands[name] ?? 0) !== n) wrong.push(`cmdstat_${name} has calls=${got.commands[name] ?? 0}`);
  return wrong.length === 0 ? undefined : wrong.join('; ');
}

function judgeScan(candidates: readonly string[], raw: string): string | undefined {
  const r = decode(raw);
  if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'string' || !Array.isArray(r[1]))
    return 'SCAN must reply [cursor, [keys...]]';
  const allowed = new Set(candidates);
  const stray = r[1].find((k) => typeof k !== 'string' || !allowed.has(k));
  return stray === undefined ? undefined : `it returned a key that is not live or does not match: ${String(stray)}`;
}
