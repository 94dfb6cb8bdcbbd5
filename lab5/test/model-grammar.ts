/**
 * TestCommandModel's grammar: random packets of commands on a few connections, every argument drawn from its edges
 * (numbers negative, zero, huge, non-integer; keys empty, huge, non-ASCII, numeric-looking, named like prototype
 * members; a value equal to the one held or held before), pipelined, in transactions, and after one that ends the
 * connection. Relative TTLs are long (100 s and more) or not positive, so no key's fate depends on how fast the machine is.
 */
import { Rng } from '../../world/rng';
import { asBytes } from './common';

/** What one packet sends: whole commands (byte strings), or raw bytes the parser refuses, on connection `conn`. */
export interface Packet {
  readonly conn: number;
  readonly commands: ReadonlyArray<readonly string[] | { readonly raw: string }>;
}

/** The connections a program uses. */
export const CONNECTIONS = 3;

/** Keys at the edges, from a small pool so that commands meet on the same keys. */
export const MODEL_KEYS: readonly string[] = [
  'k',
  'k2',
  '',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '0',
  '-1',
  '1.5',
  '9223372036854775808',
  asBytes('ключ'),
  asBytes('键🔑'),
  '\u00ff\u0000\r\n',
  'a*',
  '[a',
  'x'.repeat(3000),
];

/** Integer-like texts for values, INCRBY steps and counts: limits, zero, signs, and texts Redis refuses. */
const NUMBERS = [
  '0',
  '1',
  '-1',
  '10',
  '9007199254740993',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  '18446744073709551616',
  '01',
  '-0',
  '+1',
  ' 1',
  '1.5',
  '1e3',
  '',
  asBytes('٣'),
];

/** Relative times (EX, PX, EXPIRE, PEXPIRE): not positive, long, at and past the 64-bit limits, not integers. */
const RELATIVE_TIMES = [
  '0',
  '-1',
  '-100',
  '100000',
  '250000',
  '9000000',
  '9223372036854775',
  '9223372036854776',
  '9223372036854775807',
  '-9223372036854775808',
  '1.5',
  '1e3',
  '01',
  '',
  'abc',
];

/** Absolute times (EXAT, PXAT): in the past, far ahead, at the limits. */
const ABSOLUTE_TIMES = [
  '1',
  '1',
  '1700000000',
  '0',
  '-1',
  '4102444800',
  '4102444800000',
  '9223372036854775',
  '9223372036854775807',
];

/** A program's random choices, with what it set on each key (for values equal to the one held or held before). */
export class Grammar {
  private readonly rng: Rng;
  private readonly held = new Map<string, string[]>();

  constructor(rng: Rng) {
    this.rng = rng;
  }

  /** A program of `n` packets. */
  program(n: number): Packet[] {
    return Array.from({ length: n }, () => this.packet());
  }

  private packet(): Packet {
    const conn = this.rng.int(CONNECTIONS);
    const r = this.rng.int(12);
    if (r < 5) return { conn, commands: [this.command()] };
    if (r < 7) return { conn, commands: Array.from({ length: this.rng.between(2, 8) }, () => this.command()) };
    if (r < 9) return { conn, commands: this.transaction() };
    if (r === 9) return { conn, commands: this.steered() };
    if (r === 10) return { conn, commands: this.goneThenRead() };
    return { conn, commands: this.ending() };
  }

  /** A value next to a 64-bit limit, then arithmetic that lands on it or crosses it. */
  private steered(): string[][] {
    const key = this.key();
    const [start, ops] = this.rng.pick<readonly [string, readonly string[]]>([
      ['9223372036854775806', ['INCR', 'INCRBY 1', 'INCRBY 2', 'DECRBY -2']],
      ['-9223372036854775807', ['DECR', 'DECRBY 1', 'DECRBY 2', 'INCRBY -2']],
      ['9223372036854775807', ['INCR', 'DECR', 'INCRBY 9223372036854775807', 'DECRBY -9223372036854775808']],
      ['9007199254740992', ['INCR', 'INCRBY 2', 'DECRBY -1']],
    ]);
    this.held.set(key, [start]);
    const [name, by] = this.rng.pick(ops).split(' ');
    return [['SET', key, start], by === undefined ? [name, key] : [name, key, by], ['GET', key]];
  }

  /** A key made gone by a deadline already past, then read in the same packet by a command that must not see it. */
  private goneThenRead(): string[][] {
    const key = this.key();
    const gone = this.rng.pick([
      ['SET', key, this.value(key), 'PXAT', '1'],
      ['SET', key, this.value(key), 'EXAT', '1700000000'],
      ['PEXPIRE', key, '-1'],
      ['EXPIRE', key, '0'],
    ]);
    const read = this.rng.pick([
      ['SCAN', '0', 'COUNT', '1000'],
      ['KEYS', '*'],
      ['DBSIZE'],
      ['EXISTS', key, key],
      ['DEL', key],
      ['TTL', key],
      ['GET', key],
      ['INCR', key],
      ['SET', key, 'v', 'XX', 'GET'],
      ['INFO'],
    ]);
    return [['SET', key, 'held', 'EX', '100000'], gone, read];
  }

  private key(): string {
    return this.rng.chance(0.5) ? this.rng.pick(MODEL_KEYS.slice(0, 3)) : this.rng.pick(MODEL_KEYS);
  }

  /** A value: a number-like text, edge bytes, a large one, or the value the key holds or held before. */
  private value(key: string): string {
    const before = this.held.get(key) ?? [];
    const r = this.rng.int(10);
    let v: string;
    if (r < 3 && before.length > 0) v = this.rng.pick(before);
    else if (r < 6) v = this.rng.pick(NUMBERS);
    else if (r === 6) v = this.rng.pick(['', asBytes('ключ'), '\u0000\r\n\u00ff', '__proto__']);
    else if (r === 7 && this.rng.chance(0.2)) v = 'v'.repeat(this.rng.between(60_000, 200_000));
    else v = `v${this.rng.int(5)}`;
    this.held.set(key, [...before.slice(-3), v]);
    return v;
  }

  private ttlOptions(): string[] {
    switch (this.rng.int(8)) {
      case 0:
        return [this.rng.pick(['EX', 'PX']), this.rng.pick(RELATIVE_TIMES)];
      case 1:
        return [this.rng.pick(['EXAT', 'PXAT']), this.rng.pick(ABSOLUTE_TIMES)];
      case 2:
        return ['KEEPTTL'];
      case 3:
        return this.rng.pick([
          ['EX', '100000', 'EX', '250000'],
          ['EX', 'abc', 'EX', '100000'],
          ['EX', '100000', 'PX', '1'],
          ['KEEPTTL', 'EX', '100000'],
          ['EX'],
        ]);
      default:
        return [];
    }
  }

  private set(): string[] {
    const key = this.key();
    const flags = [
      ...(this.rng.chance(0.2) ? [this.rng.pick(['NX', 'XX', 'nx', 'NX XX'])] : []),
      ...(this.rng.chance(0.15) ? ['GET'] : []),
    ].flatMap((w) => w.split(' '));
    const words = [...flags];
    words.splice(this.rng.int(words.length + 1), 0, ...this.ttlOptions()); // options come in any order
    return ['SET', key, this.value(key), ...words];
  }

  private expire(): string[] {
    const opt = this.rng.chance(0.5)
      ? [this.rng.pick(['NX', 'XX', 'GT', 'LT', 'gt', 'FOO'])]
      : this.rng.chance(0.1)
        ? this.rng.pick([
            ['NX', 'XX'],
            ['GT', 'LT'],
            ['XX', 'GT'],
          ])
        : [];
    return [this.rng.pick(['EXPIRE', 'PEXPIRE']), this.key(), this.rng.pick(RELATIVE_TIMES), ...opt];
  }

  /** One command (sometimes refused: wrong arity, an unknown name, a prototype member's name). */
  command(): string[] {
    const r = this.rng.int(100);
    if (r < 20) return this.set();
    if (r < 30) return ['GET', this.key()];
    if (r < 36) return ['DEL', ...Array.from({ length: this.rng.between(1, 3) }, () => this.key())];
    if (r < 40) return ['EXISTS', ...Array.from({ length: this.rng.between(1, 3) }, () => this.key())];
    if (r < 45) return [this.rng.pick(['INCR', 'DECR', 'incr']), this.key()];
    if (r < 51) return [this.rng.pick(['INCRBY', 'DECRBY']), this.key(), this.rng.pick(NUMBERS)];
    if (r < 58) return this.expire();
    if (r < 65) return [this.rng.pick(['TTL', 'PTTL']), this.key()];
    if (r < 69) return ['KEYS', this.rng.pick(['*', 'k*', '?', '[a-z]*', '\\*', 'a\\*', ''])];
    if (r < 72) return ['SCAN', this.rng.pick(['0', '', '-0', 'x']), ...this.scanOptions()];
    if (r < 75) return ['DBSIZE'];
    if (r < 79) return ['INFO', ...(this.rng.chance(0.3) ? ['stats'] : [])];
    if (r < 81) return ['FLUSHDB', ...this.rng.pick([[], ['ASYNC'], ['sync'], ['NOW'], ['SYNC', 'ASYNC']])];
    if (r < 84)
      return this.rng.pick([
        ['PING'],
        ['PING', 'hi'],
        ['ECHO', this.value('echo')],
        ['SELECT', this.rng.pick(['0', '1', '-1', 'x'])],
      ]);
    if (r < 87)
      return this.rng.pick([['GET'], ['SET', 'k'], ['INCRBY', 'k'], ['TTL'], ['DBSIZE', 'x'], ['MULTI', 'x']]);
    if (r < 90) return [this.rng.pick(['__proto__', 'constructor', 'hasOwnProperty', 'NOPE']), this.key()];
    if (r < 93) return this.rng.pick([['MULTI'], ['EXEC'], ['DISCARD']]);
    return this.rng.pick([['COMMAND'], ['CLIENT', 'SETNAME', 'model'], ['HELLO', '3']]);
  }

  private scanOptions(): string[] {
    const words: string[] = [];
    for (let i = this.rng.int(3); i > 0; i--)
      words.push(
        ...this.rng.pick([
          ['COUNT', this.rng.pick(['0', '-1', '1', '1000', '9223372036854775807', 'x'])],
          ['MATCH', this.rng.pick(['*', 'k*', '?'])],
          ['TYPE', this.rng.pick(['string', 'list'])],
          ['COUNT'],
          ['BOGUS', '1'],
        ]),
      );
    return words;
  }

  /** MULTI, queued commands (some refused), then EXEC, DISCARD, a nested MULTI, an EXEC with arguments, or QUIT. */
  private transaction(): string[][] {
    const out: string[][] = [['MULTI']];
    for (let i = this.rng.between(0, 5); i > 0; i--) out.push(this.command());
    out.push(this.rng.pick([['EXEC'], ['EXEC'], ['EXEC'], ['DISCARD'], ['EXEC', 'now'], ['MULTI'], ['QUIT']]));
    if (this.rng.chance(0.3)) out.push(this.command());
    return out;
  }

  /** A packet with a command that ends the connection (QUIT, or bytes the parser refuses) and commands after it. */
  private ending(): Array<string[] | { raw: string }> {
    const before = Array.from({ length: this.rng.int(3) }, () => this.command());
    const end = this.rng.chance(0.7)
      ? ['QUIT']
      : { raw: this.rng.pick(['*2\r\n$3\r\nGET\r\n$x\r\n', '*-\r\n', '$3\r\nGET\r\n', '*1\r\n$99999999999\r\n']) };
    const key = this.key();
    return [...before, end, ['SET', key, this.value(key)], ['DEL', this.key()], ['INCR', key]];
  }
}
