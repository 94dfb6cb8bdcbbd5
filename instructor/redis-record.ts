/**
 * Records lab 5's Redis corpus (lab5/test/redis-replies.json): starts a throwaway redis-server (a free port, no
 * persistence), runs hand-picked edge cases and sequences generated from a fixed seed, and keeps every reply's
 * raw bytes. Course kit only (students replay the file, they need no Redis):
 *   node -r ts-node/register/transpile-only instructor/redis-record.ts [--check]
 * With --check it records into memory and exits 1 if the file differs (stale).
 */
import { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../world/rng';
import { GraderUsageError } from '../grader/errors';
import { runAsScript, runCommand } from './cli';
import { comparable, Corpus, CORPUS_FILE, RecordedSequence, runSequence, Step } from '../lab5/test/redis-corpus';
import { freePort } from '../suite/ports';

/** The generator's seed and size: change either and the recording must be made again. */
export const SEED = 20240505;
export const GENERATED = 2000;

/** UTF-8 text as a byte string. */
const u8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** Every sequence starts from an empty database. */
const FLUSH: Step = ['FLUSHDB'];

/** Hand-picked edge cases: each shape where a server that looks right still differs from Redis. */
function handPicked(): Array<{ name: string; steps: Step[] }> {
  const cases: Array<{ name: string; steps: Step[] }> = [];
  const add = (name: string, ...steps: Step[]): void => void cases.push({ name, steps: [FLUSH, ...steps] });
  // Integers: Redis's string2ll accepts exactly the canonical decimal form of an int64.
  for (const t of [
    '01',
    '-0',
    '+1',
    ' 1',
    '1 ',
    '1.0',
    '1e3',
    '0x10',
    '',
    '٣',
    '9223372036854775808',
    '-9223372036854775809',
    '99999999999999999999',
  ]) {
    add(`integer "${t}" as EX`, ['SET', 'k', 'v', 'EX', u8(t)], ['GET', 'k'], ['TTL', 'k']);
    add(`integer "${t}" as a value`, ['SET', 'k', u8(t)], ['INCR', 'k'], ['GET', 'k']);
    add(`integer "${t}" as INCRBY's step`, ['INCRBY', 'k', u8(t)], ['EXISTS', 'k']);
  }
  add(
    '16+ digit values',
    ['SET', 'k', '9007199254740992'],
    ['INCR', 'k'],
    ['INCRBY', 'k', '9007199254740993'],
    ['GET', 'k'],
    ['SET', 'n', '-12345678901234567'],
    ['DECR', 'n'],
    ['DECRBY', 'n', '-1000000000000000000'],
  );
  add(
    'int64 limits',
    ['SET', 'k', '9223372036854775806'],
    ['INCR', 'k'],
    ['INCR', 'k'],
    ['GET', 'k'],
    ['SET', 'n', '-9223372036854775807'],
    ['DECR', 'n'],
    ['DECR', 'n'],
    ['GET', 'n'],
  );
  add(
    'overflow by INCRBY and DECRBY',
    ['SET', 'k', '10'],
    ['INCRBY', 'k', '9223372036854775807'],
    ['DECRBY', 'k', '-9223372036854775807'],
    ['DECRBY', 'k', '-9223372036854775808'],
    ['DECRBY', 'k', '9223372036854775807'],
    ['GET', 'k'],
  );
  add(
    'DECRBY of the smallest int64',
    ['DECRBY', 'k', '-9223372036854775808'],
    ['DECRBY', 'z', '9223372036854775807'],
    ['GET', 'z'],
  );
  add(
    'INCR of a value that is not an integer',
    ['SET', 'k', 'abc'],
    ['INCR', 'k'],
    ['DECR', 'k'],
    ['INCRBY', 'k', '1'],
    ['SET', 'b', u8('\u0000')],
    ['INCR', 'b'],
  );
  add(
    'INCR keeps the TTL',
    ['SET', 'k', '1', 'EX', '100'],
    ['INCR', 'k'],
    ['TTL', 'k'],
    ['INCRBY', 'k', '5'],
    ['TTL', 'k'],
    ['DECR', 'k'],
    ['DECRBY', 'k', '2'],
    ['GET', 'k'],
    ['TTL', 'k'],
  );
  // Expire times: Redis's own limits and messages.
  for (const [cmd, t] of [
    ['EXPIRE', '9223372036854775807'],
    ['EXPIRE', '9223372036854775'],
    ['EXPIRE', '9223372036854776'],
    ['EXPIRE', '-9223372036854775808'],
    ['EXPIRE', '-9223372036854776'],
    ['EXPIRE', '999999999999999'],
    ['PEXPIRE', '1000000000000000'],
    ['PEXPIRE', '9223372036854775807'],
    ['PEXPIRE', '9223372036854775000'],
    ['PEXPIRE', '-9223372036854775808'],
    ['EXPIRE', '0'],
    ['EXPIRE', '-1'],
    ['PEXPIRE', '0'],
    ['EXPIRE', '100'],
  ]) {
    add(`${cmd} ${t}`, ['SET', 'k', 'v'], [cmd, 'k', t], ['EXISTS', 'k'], ['TTL', 'k'], [cmd, 'missing', t]);
  }
  for (const [opt, t] of [
    ['EX', '999999999999999'],
    ['EX', '9223372036854775'],
    ['EX', '9223372036854776'],
    ['EX', '9223372036854775807'],
    ['PX', '9223372036854775807'],
    ['PX', '9223372036854000000'],
    ['PX', '1000000000000000'],
    ['EX', '0'],
    ['PX', '-1'],
    ['EXAT', '0'],
    ['PXAT', '-5'],
    ['EXAT', '9223372036854776'],
  ]) {
    add(`SET ${opt} ${t}`, ['SET', 'k', 'v', opt, t], ['EXISTS', 'k'], ['TTL', 'k']);
  }
  // An absolute time: far ahead, the key lives (its TTL depends on today's date, so it is not read); past, it is gone.
  add(
    'SET EXAT PXAT',
    ['SET', 'k', 'v', 'EXAT', '99999999999'],
    ['EXISTS', 'k'],
    ['SET', 'p', 'v', 'PXAT', '99999999999999'],
    ['EXISTS', 'p'],
    ['SET', 'o', 'v', 'PXAT', '1'],
    ['GET', 'o'],
    ['EXISTS', 'o'],
  );
  // Repeated and combined SET options: the last time wins; conflicting kinds are a syntax error.
  add('SET EX EX', ['SET', 'k', 'v', 'EX', '10', 'EX', '20'], ['TTL', 'k']);
  add('SET EX junk EX', ['SET', 'k', 'v', 'EX', 'abc', 'EX', '30'], ['TTL', 'k']);
  add('SET PX PX', ['SET', 'k', 'v', 'px', '10000', 'PX', '50000'], ['TTL', 'k']);
  add('SET EX PX', ['SET', 'k', 'v', 'EX', '10', 'PX', '20000'], ['EXISTS', 'k']);
  add(
    'SET NX XX',
    ['SET', 'k', 'v', 'NX', 'XX'],
    ['SET', 'k', 'v', 'XX', 'NX'],
    ['SET', 'k', 'v', 'NX', 'NX'],
    ['EXISTS', 'k'],
  );
  add(
    'SET NX and XX',
    ['SET', 'k', 'a', 'XX'],
    ['SET', 'k', 'b', 'NX'],
    ['SET', 'k', 'c', 'NX'],
    ['SET', 'k', 'd', 'XX'],
    ['GET', 'k'],
  );
  add(
    'SET GET',
    ['SET', 'k', 'a', 'GET'],
    ['SET', 'k', 'b', 'GET'],
    ['SET', 'k', 'c', 'NX', 'GET'],
    ['SET', 'm', 'c', 'XX', 'GET'],
    ['GET', 'k'],
    ['EXISTS', 'm'],
  );
  add(
    'SET KEEPTTL',
    ['SET', 'k', 'a', 'EX', '100'],
    ['SET', 'k', 'b', 'KEEPTTL'],
    ['TTL', 'k'],
    ['SET', 'k', 'c', 'KEEPTTL', 'EX', '5'],
    ['SET', 'k', 'c', 'EX', '5', 'KEEPTTL'],
    ['SET', 'k', 'd'],
    ['TTL', 'k'],
  );
  add(
    'SET with a missing time',
    ['SET', 'k', 'v', 'EX'],
    ['SET', 'k', 'v', 'PX'],
    ['SET', 'k', 'v', 'GET', 'EX'],
    ['EXISTS', 'k'],
  );
  add(
    'SET with junk options',
    ['SET', 'k', 'v', 'FOREVER'],
    ['SET', 'k', 'v', 'EX', '10', 'junk'],
    ['SET', 'k', 'v', 'E'],
    ['SET', 'k', 'v', 'EXX', '1'],
    ['EXISTS', 'k'],
  );
  add(
    'EXPIRE options',
    ['SET', 'k', 'v'],
    ['EXPIRE', 'k', '100', 'XX'],
    ['EXPIRE', 'k', '100', 'NX'],
    ['EXPIRE', 'k', '200', 'NX'],
    ['TTL', 'k'],
    ['EXPIRE', 'k', '50', 'GT'],
    ['EXPIRE', 'k', '300', 'gt'],
    ['TTL', 'k'],
    ['EXPIRE', 'k', '400', 'LT'],
    ['EXPIRE', 'k', '30', 'LT'],
    ['TTL', 'k'],
  );
  add(
    'EXPIRE options without a TTL',
    ['SET', 'k', 'v'],
    ['EXPIRE', 'k', '100', 'GT'],
    ['TTL', 'k'],
    ['EXPIRE', 'k', '100', 'LT'],
    ['TTL', 'k'],
    ['PEXPIRE', 'k', '500000', 'XX'],
    ['TTL', 'k'],
  );
  add(
    'EXPIRE bad options',
    ['SET', 'k', 'v'],
    ['EXPIRE', 'k', '10', 'NX', 'XX'],
    ['EXPIRE', 'k', '10', 'GT', 'LT'],
    ['EXPIRE', 'k', '10', 'nx', 'gt'],
    ['EXPIRE', 'k', '10', 'FOO'],
    ['EXPIRE', 'k', 'abc', 'FOO'],
    ['EXPIRE', 'k', 'abc', 'NX'],
    ['TTL', 'k'],
  );
  add('PTTL without a TTL', ['PTTL', 'k'], ['SET', 'k', 'v'], ['PTTL', 'k'], ['TTL', 'k']);
  // KEYS: Redis's stringmatchlen.
  const names = ['a', 'b', '[', ']', '-', '^', '\\', 'ab', 'a]', '[a', 'a-', 'x*', 'a\\b', '!', 'B'];
  const patterns = [
    '[a',
    '[]]',
    '[a-]',
    '[-a]',
    '[^]]',
    '[]a]',
    '[\\]]',
    '[\\',
    '\\',
    'a\\',
    '[z-a]',
    '[a-\\]',
    '[!a]',
    '[^a]',
    '*[',
    '\\*',
    'x\\*',
    '[[]',
    '[]',
    '[^]',
    '?',
    '??',
    '*]',
    'a*b',
    '*\\\\*',
    '[a-b-c]',
    '[^a-b]*',
    '[A-a]',
  ];
  for (const pattern of patterns) add(`KEYS ${pattern}`, ...names.map((n): Step => ['SET', n, '1']), ['KEYS', pattern]);
  // The unknown-command error text: up to 128 characters, each argument quoted and followed by a space.
  add(
    'unknown command',
    ['FLY', 'me', 'to', 'the', 'moon'],
    ['fly'],
    ['NOPE', 'x'.repeat(200)],
    ['NOPE', 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60)],
    ['N'.repeat(200), 'x'],
    ['NOPE', 'two\r\nlines'],
    ['NOPE', u8('ключ'), '\u00ff'],
  );
  add(
    'wrong arity',
    ['GET'],
    ['GET', 'a', 'b'],
    ['SET', 'a'],
    ['DEL'],
    ['EXPIRE', 'a'],
    ['TTL'],
    ['KEYS'],
    ['INCR', 'a', 'b'],
    ['DBSIZE', 'x'],
    ['ECHO'],
    ['INCRBY', 'a'],
    ['DECR'],
    ['SCAN'],
    ['MULTI', 'x'],
    ['EXEC', 'x'],
    ['EXISTS'],
    ['PTTL', 'a', 'b'],
  );
  add(
    'FLUSHDB with arguments',
    ['SET', 'k', 'v'],
    ['FLUSHDB', 'junk'],
    ['DBSIZE'],
    ['FLUSHDB', 'ASYNC'],
    ['DBSIZE'],
    ['SET', 'k', 'v'],
    ['FLUSHDB', 'sync'],
    ['DBSIZE'],
    ['FLUSHDB', 'SYNC', 'ASYNC'],
  );
  // Inline commands, as typed at nc: quotes, escapes, empty lines.
  add(
    'inline',
    { inline: 'SET q "hello world"\r\n' },
    { inline: 'GET q\r\n' },
    { inline: "SET r 'single \\' quoted'\r\n" },
    { inline: 'GET r\n' },
    { inline: 'SET h "\\x41\\x00\\n\\t\\\\"\r\n' },
    ['GET', 'h'],
    { inline: '   PING   \r\n' },
    { inline: 'ECHO ""\r\n' },
    { inline: 'EXISTS q r h\r\n' },
  );
  add('inline unbalanced quotes', { inline: 'SET q "open\r\n' });
  add('inline quote then text', { inline: 'SET q "a"b\r\n' });
  // SCAN on a small database, and its argument errors.
  add(
    'SCAN small',
    ['SET', 'a', '1'],
    ['SET', 'b', '2'],
    ['SET', 'ab', '3'],
    ['SCAN', '0'],
    ['SCAN', '0', 'MATCH', 'a*'],
    ['SCAN', '0', 'COUNT', '100'],
    ['SCAN', '0', 'match', '?', 'count', '5'],
  );
  add(
    'SCAN errors',
    ['SCAN', 'abc'],
    ['SCAN', '-1x'],
    ['SCAN', '0', 'COUNT', '0'],
    ['SCAN', '0', 'COUNT', 'x'],
    ['SCAN', '0', 'MATCH'],
    ['SCAN', '0', 'FOO', 'bar'],
    ['SCAN', '0', 'COUNT', '-1'],
    ['SCAN', '18446744073709551616'],
  );
  add(
    'SCAN empty',
    ['SCAN', '0'],
    ['SCAN', '5'],
    ['SCAN', '18446744073709551615'],
    ['SCAN', '-1'],
    ['SCAN', '+3'],
    ['SCAN', ''],
  );
  // Transactions.
  add(
    'MULTI EXEC',
    ['MULTI'],
    ['SET', 'k', '1'],
    ['INCR', 'k'],
    ['INCRBY', 'k', '10'],
    ['GET', 'k'],
    ['EXEC'],
    ['GET', 'k'],
  );
  add(
    'MULTI with a run-time error',
    ['SET', 'w', 'word'],
    ['MULTI'],
    ['INCR', 'w'],
    ['SET', 'k', 'v'],
    ['EXEC'],
    ['GET', 'k'],
  );
  add('MULTI refused command', ['MULTI'], ['SET', 'k', 'v'], ['NOPE'], ['GET', 'k'], ['EXEC'], ['EXISTS', 'k']);
  add('MULTI wrong arity', ['MULTI'], ['SET', 'k', 'v'], ['GET'], ['EXEC'], ['EXISTS', 'k'], ['EXEC']);
  add('MULTI nested', ['MULTI'], ['SET', 'k', 'v'], ['MULTI'], ['EXEC'], ['EXISTS', 'k']);
  add('MULTI DISCARD', ['MULTI'], ['SET', 'k', 'v'], ['DISCARD'], ['EXISTS', 'k'], ['DISCARD'], ['EXEC']);
  add('EXEC without MULTI', ['EXEC'], ['DISCARD'], ['PING']);
  add('MULTI empty', ['MULTI'], ['EXEC'], ['MULTI'], ['DISCARD']);
  add('MULTI bad options', ['MULTI'], ['SET', 'k', 'v', 'EX', '0'], ['SET', 'j', 'v'], ['EXEC'], ['EXISTS', 'k', 'j']);
  add('MULTI PING ECHO', ['MULTI'], ['PING'], ['ECHO', 'x'], ['DBSIZE'], ['EXEC']);
  // Binary and non-ASCII data.
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  add(
    'binary',
    ['SET', all, all],
    ['GET', all],
    ['EXISTS', all],
    ['KEYS', '*'],
    ['DEL', all],
    ['SET', u8('ключ'), u8('значение 🔑')],
    ['GET', u8('ключ')],
    ['KEYS', u8('к*')],
    ['KEYS', u8('?')],
    ['ECHO', '\u0000\r\n'],
    ['PING', '\u00ff'],
  );
  add(
    'empty key and value',
    ['SET', '', ''],
    ['GET', ''],
    ['EXISTS', ''],
    ['KEYS', '*'],
    ['DBSIZE'],
    ['INCR', ''],
    ['DEL', ''],
  );
  add('DEL EXISTS repeats', ['SET', 'a', '1'], ['EXISTS', 'a', 'a', 'b'], ['DEL', 'a', 'a', 'b'], ['EXISTS', 'a']);
  add(
    'SELECT PING ECHO',
    ['SELECT', '0'],
    ['SELECT', 'x'],
    ['SELECT', '00'],
    ['SELECT', '-1'],
    ['SELECT', '16'],
    ['PING'],
    ['PING', 'hi'],
    ['PING', 'a', 'b'],
    ['ECHO', 'x'],
  );
  return cases;
}

/** Random sequences over a small key space (at most 8 keys, so that one SCAN call returns them all in Redis too). */
function generated(seed: number, count: number): Array<{ name: string; steps: Step[] }> {
  const rng = new Rng(seed);
  const keys = ['a', 'b', 'k', 'n', '__proto__', '\u00ff\u0000\r\n', u8('ключ'), ''];
  const ints = [
    '0',
    '1',
    '-1',
    '7',
    '10',
    '-42',
    '007',
    '-0',
    '+1',
    ' 1',
    '1.0',
    '1e3',
    '',
    'abc',
    '9223372036854775807',
    '-9223372036854775808',
    '9223372036854775806',
    '-9223372036854775807',
    '9223372036854775808',
    '9007199254740992',
    '9007199254740993',
    '12345678901234567',
    '99999999999999999999',
  ];
  const randomInt = (): string => {
    const digits = rng.between(1, 19);
    let s = String(rng.between(1, 9));
    for (let i = 1; i < digits; i++) s += String(rng.int(10));
    return (rng.chance(0.3) ? '-' : '') + s;
  };
  const int = (): string => (rng.chance(0.7) ? rng.pick(ints) : randomInt());
  // At least 5 s: a key given 1 s could expire while a loaded machine runs its sequence.
  const seconds = (): string =>
    rng.pick([
      '5',
      '10',
      '100',
      '3600',
      '0',
      '-1',
      '-100',
      '01',
      '+5',
      '1.5',
      'x',
      '999999999999999',
      '9223372036854775',
      '9223372036854776',
      '9223372036854775807',
      '-9223372036854775808',
      '2147483648',
    ]);
  const millis = (): string =>
    rng.pick([
      '10000',
      '60000',
      '100000000',
      '0',
      '-1',
      '010000',
      'x',
      '1000000000000000',
      '9223372036854775807',
      '-9223372036854775808',
      '9223372036854775000',
    ]);
  const bytes = (): string => {
    let s = '';
    for (let i = rng.int(12); i > 0; i--) s += String.fromCharCode(rng.int(256));
    return s;
  };
  const value = (): string => (rng.chance(0.5) ? int() : rng.chance(0.5) ? bytes() : rng.string(rng.int(8)));
  const key = (): string => rng.pick(keys);
  const pattern = (): string => {
    let s = '';
    for (let i = rng.int(6); i > 0; i--)
      s += rng.pick(['*', '?', '[', ']', '^', '-', '\\', 'a', 'b', 'k', 'n', '_', '\u00ff', '\u00d0']);
    return s;
  };
  const setOptions = (): string[] => {
    const out: string[] = [];
    for (let i = rng.int(4); i > 0; i--) {
      const kind = rng.int(9);
      if (kind < 3) out.push(rng.pick(['EX', 'ex', 'Ex']), seconds());
      else if (kind < 5) out.push(rng.pick(['PX', 'px']), millis());
      else if (kind === 5) out.push(rng.pick(['NX', 'XX', 'nx', 'xx']));
      else if (kind === 6) out.push(rng.pick(['GET', 'KEEPTTL', 'get', 'keepttl']));
      else if (kind === 7)
        out.push(rng.pick(['EXAT', 'PXAT']), rng.pick(['0', '-1', 'x', '01'])); // valid ones make TTL depend on the date
      else out.push(rng.pick(['FOREVER', 'E', 'EXX', 'PERSIST', '']));
    }
    return out;
  };
  const command = (): Step => {
    switch (rng.int(24)) {
      case 0:
      case 1:
      case 2:
        return ['SET', key(), value(), ...setOptions()];
      case 3:
      case 4:
        return ['GET', key()];
      case 5:
        return ['DEL', ...Array.from({ length: rng.between(1, 3) }, key)];
      case 6:
        return ['EXISTS', ...Array.from({ length: rng.between(1, 3) }, key)];
      case 7:
        return ['INCR', key()];
      case 8:
        return [rng.pick(['INCRBY', 'DECRBY']), key(), int()];
      case 9:
        return ['DECR', key()];
      case 10:
        return [
          'EXPIRE',
          key(),
          seconds(),
          ...(rng.chance(0.3) ? [rng.pick(['NX', 'XX', 'GT', 'LT', 'nx', 'FOO'])] : []),
        ];
      case 11:
        return ['PEXPIRE', key(), millis(), ...(rng.chance(0.3) ? [rng.pick(['NX', 'XX', 'GT', 'LT'])] : [])];
      case 12:
      case 13:
        return ['TTL', key()];
      case 14:
        return ['KEYS', pattern()];
      case 15:
        return ['DBSIZE'];
      case 16:
        return rng.chance(0.5)
          ? ['SCAN', '0']
          : [
              'SCAN',
              '0',
              ...(rng.chance(0.5) ? ['MATCH', pattern()] : []),
              ...(rng.chance(0.5) ? ['COUNT', rng.pick(['10', '100', '0', 'x', '-1'])] : []),
            ];
      case 17:
        return rng.chance(0.5) ? ['FLUSHDB'] : ['FLUSHDB', rng.pick(['junk', 'ASYNC', 'sync', ''])];
      case 18:
        return rng.chance(0.5) ? ['ECHO', value()] : ['PING', ...(rng.chance(0.5) ? [value()] : [])];
      case 19:
        // Names Redis does not know either (for one it knows, Redis checks its arity first; lab5 only knows its own).
        return [rng.pick(['FLY', 'NOPE', 'fly', 'GETX', 'lpushx2']), ...Array.from({ length: rng.int(4) }, value)];
      case 20:
        return [
          rng.pick(['GET', 'SET', 'INCR', 'TTL', 'DECRBY', 'EXPIRE', 'INCRBY']),
          ...Array.from({ length: rng.pick([0, 3]) }, key),
        ];
      case 21:
        return [rng.pick(['MULTI', 'EXEC', 'DISCARD'])];
      default:
        return ['GET', key()];
    }
  };
  const out: Array<{ name: string; steps: Step[] }> = [];
  for (let i = 0; i < count; i++) {
    const steps: Step[] = [FLUSH];
    for (let n = rng.between(3, 12); n > 0; n--) steps.push(command());
    out.push({ name: `generated #${i} (seed ${seed})`, steps });
  }
  return out;
}

/** Every sequence of the corpus, without replies. */
export function corpusSequences(): Array<{ name: string; steps: Step[] }> {
  return [...handPicked(), ...generated(SEED, GENERATED)];
}

/** The path of redis-server, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  const which = spawnSync('which', ['redis-server'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim() : undefined;
}

/** Starts a throwaway redis-server; resolves with its port, its version line and a stop function. */
export async function startRedis(
  binary: string,
): Promise<{ port: number; version: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-redis-record-'));
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited (code ${code}) before it was ready:\n${out}`)));
  });
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' })
    .stdout.trim()
    .replace(/ sha=.*$/, '');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    version,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs every sequence against the server on `port` and records its replies. */
export async function record(port: number, version: string): Promise<Corpus> {
  const sequences: RecordedSequence[] = [];
  for (const seq of corpusSequences()) {
    const run = await runSequence(port, seq.steps, seq.steps.length, 5000);
    if (run.end !== 'ok') throw new Error(`redis-server did not answer every step of "${seq.name}" (${run.end})`);
    // KEYS and SCAN come in hash-table order, which changes from run to run: kept sorted, as they are compared.
    sequences.push({ ...seq, replies: run.replies.map((r, i) => comparable(seq.steps[i], r)) });
  }
  return {
    redis: version,
    generator: `instructor/redis-record.ts: hand-picked cases, then ${GENERATED} sequences from seed ${SEED}`,
    sequences,
  };
}

/** The corpus as the data file holds it: one sequence per line, so that a diff shows which changed. */
export function serialise(corpus: Corpus): string {
  const head = JSON.stringify({ redis: corpus.redis, generator: corpus.generator });
  const text = `${head.slice(0, -1)},"sequences":[\n${corpus.sequences.map((s) => JSON.stringify(s)).join(',\n')}\n]}\n`;
  return text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`); // ASCII only: a text file for git
}

/** Records the corpus, or with `check` compares it with the file: the exit code (1 when stale). */
async function recordOrCheck(check: boolean): Promise<number> {
  const binary = redisServerPath();
  if (binary === undefined)
    throw new GraderUsageError('redis-server is not installed (apt-get install -y redis-server)');
  const redis = await startRedis(binary);
  try {
    const text = serialise(await record(redis.port, redis.version));
    if (check) {
      const same = fs.existsSync(CORPUS_FILE) && fs.readFileSync(CORPUS_FILE, 'latin1') === text;
      console.log(
        same
          ? 'the recording is current'
          : `the recording is stale: run node -r ts-node/register/transpile-only instructor/redis-record.ts`,
      );
      return same ? 0 : 1;
    }
    fs.writeFileSync(CORPUS_FILE, text, 'latin1');
    console.log(`recorded ${text.length} bytes into ${path.relative(process.cwd(), CORPUS_FILE)} (${redis.version})`);
    return 0;
  } finally {
    await redis.stop();
  }
}

/** `node -r ts-node/register/transpile-only instructor/redis-record.ts [--check]`. */
async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('redis-record')
    .description("Records a real redis-server's replies to the corpus into lab5/test/redis-replies.json.")
    .option('--check', 'write nothing; exit 1 when the recording is stale');
  return runCommand(program, argv, async () => {
    return recordOrCheck(program.opts<{ check?: boolean }>().check === true);
  });
}

runAsScript(module, main);
