/**
 * Parsers for the two history formats of the porcupine test data (see testdata/porcupine/README.md):
 * - kv: one EDN map per line, `{:process 3, :type :invoke, :f :append, :key "4", :value "x 3 1 y"}`;
 * - etcd: Jepsen log lines, `INFO  jepsen.util - 3	:invoke	:cas	[1 4]`.
 * Times are line numbers, so operations are ordered exactly as the events were logged.
 *
 * Event types: `:invoke` starts the process's operation; `:ok` ends it with a result; `:info` means the
 * outcome is unknown (the operation stays pending forever); `:fail` means it did not happen (a failed cas is
 * a cas that returned false; a failed read with `:timed-out` is a read with an unknown result).
 */
import type { KvInput, KvOutput } from '../models/kv';
import type { RegisterInput, RegisterOutput } from '../models/register';
import type { Operation } from '../types';

/** A malformed history file; the message names the file and line. */
export class ParseError extends Error {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
  override readonly name = 'ParseError';
  /** Which file and (1-based) line, and what was wrong there. */
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** The two formats. */
export type HistoryFormat = 'kv' | 'etcd';

/** One parsed event. */
interface Event<I, O> {
  line: number;
  process: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  /** For `invoke`: the request. */
  input?: I;
  /** For `ok`/`fail`: the result, or undefined when unknown. `null` drops the operation (`:fail` = no effect). */
  output?: O | null;
  /** For `ok`/`fail`/`info`: the operation name on that line, to match against the invoke. */
  f: string;
  /** A short form of the line's arguments, to match an `ok` against its invoke where the format repeats them. */
  args?: string;
}

/** An operation being built, with the line that started it. */
interface Open<I> {
  index: number;
  line: number;
  f: string;
  args?: string;
  input: I;
}

/** Pairs invoke and completion events into operations; errors name the file and line. */
function pairEvents<I, O>(file: string, events: Event<I, O>[]): Operation<I, O>[] {
  const built: Array<Operation<I, O> | null> = [];
  const open = new Map<number, Open<I>>();
  for (const ev of events) {
    const cur = open.get(ev.process);
    if (ev.type === 'invoke') {
      if (cur) {
        throw new ParseError(
          file,
          ev.line,
          `process ${ev.process} starts a new operation, but its :${cur.f} from line ${cur.line} has not returned yet`,
        );
      }
      open.set(ev.process, { index: built.length, line: ev.line, f: ev.f, args: ev.args, input: ev.input as I });
      built.push({ clientId: ev.process, input: ev.input as I, output: undefined, call: ev.line, return: Infinity });
      continue;
    }
    if (!cur) {
      throw new ParseError(
        file,
        ev.line,
        `process ${ev.process} returns (:${ev.type} :${ev.f}) without an operation in progress (a return without a call, or a second return)`,
      );
    }
    if (cur.f !== ev.f) {
      throw new ParseError(
        file,
        ev.line,
        `process ${ev.process} returns :${ev.f}, but its operation in progress (line ${cur.line}) is :${cur.f}`,
      );
    }
    if (cur.args !== undefined && ev.args !== undefined && cur.args !== ev.args) {
      throw new ParseError(
        file,
        ev.line,
        `process ${ev.process} returns :${ev.f} ${ev.args}, but it was called (line ${cur.line}) with ${cur.args}`,
      );
    }
    open.delete(ev.process);
    if (ev.type === 'info') continue; // outcome unknown: stays pending forever
    const op = built[cur.index] as Operation<I, O>;
    if (ev.output === null) {
      built[cur.index] = null; // it definitely did not happen
      continue;
    }
    op.output = ev.output;
    op.return = ev.line;
  }
  return built.filter((o): o is Operation<I, O> => o !== null);
}

/** Reads an EDN string literal body (without quotes), undoing backslash escapes. */
function unescapeEdn(body: string): string {
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

const KV_LINE =
  /^\{:process (\d+), :type :(invoke|ok|fail|info), :f :(get|put|append), :key "((?:[^"\\]|\\.)*)", :value (nil|"((?:[^"\\]|\\.)*)")\}$/;

/** Parses a kv history (one EDN map per line). */
export function parseKvHistory(text: string, file = '<kv history>'): Operation<KvInput, KvOutput>[] {
  const events: Event<KvInput, KvOutput>[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const m = KV_LINE.exec(line);
    if (!m) {
      throw new ParseError(
        file,
        i + 1,
        `expected a kv event like {:process 3, :type :invoke, :f :get, :key "4", :value nil}, got ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const [, proc, type, f, keyBody, valueRaw, valueBody] = m;
    const key = unescapeEdn(keyBody);
    const value = valueRaw === 'nil' ? null : unescapeEdn(valueBody);
    const ev: Event<KvInput, KvOutput> = {
      line: i + 1,
      process: Number(proc),
      type: type as Event<KvInput, KvOutput>['type'],
      f,
      args: `key ${JSON.stringify(key)}`,
    };
    if (type === 'invoke') {
      if (f === 'get') ev.input = { op: 'get', key };
      else if (value === null) throw new ParseError(file, i + 1, `expected a string :value for :${f}, got nil`);
      else ev.input = { op: f as 'put' | 'append', key, value };
    } else if (type === 'ok') {
      ev.output = value ?? '';
    } else if (type === 'fail') {
      ev.output = null;
    }
    events.push(ev);
  });
  return pairEvents(file, events);
}

const ETCD_LINE = /^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(\S.*?)\s*$/;

/** Parses an integer or reports what was expected. */
function int(file: string, line: number, s: string, what: string): number {
  if (!/^-?\d+$/.test(s)) throw new ParseError(file, line, `expected ${what} (an integer), got ${JSON.stringify(s)}`);
  return Number(s);
}

/** Parses `[a b]` into two integers. */
function pair(file: string, line: number, s: string): [number, number] {
  const m = /^\[\s*(-?\d+)\s+(-?\d+)\s*\]$/.exec(s);
  if (!m) throw new ParseError(file, line, `expected a cas argument like [1 4], got ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2])];
}

/** Parses an etcd (Jepsen register) log. */
export function parseEtcdHistory(text: string, file = '<etcd history>'): Operation<RegisterInput, RegisterOutput>[] {
  const events: Event<RegisterInput, RegisterOutput>[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const n = i + 1;
    const m = ETCD_LINE.exec(line);
    if (!m) {
      throw new ParseError(
        file,
        n,
        `expected a Jepsen event like "INFO  jepsen.util - 3<TAB>:invoke<TAB>:read<TAB>nil", got ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const [, proc, type, f, arg] = m;
    const ev: Event<RegisterInput, RegisterOutput> = {
      line: n,
      process: Number(proc),
      type: type as Event<RegisterInput, RegisterOutput>['type'],
      f,
    };
    if (type === 'info') {
      // Outcome unknown; the argument (usually :timed-out) carries no information.
    } else if (f === 'read') {
      if (type === 'invoke') {
        if (arg !== 'nil')
          throw new ParseError(file, n, `expected nil as the argument of :invoke :read, got ${JSON.stringify(arg)}`);
        ev.input = { op: 'read' };
      } else if (type === 'ok') {
        ev.output = { value: arg === 'nil' ? null : int(file, n, arg, 'the value read or nil') };
      } else if (arg === ':timed-out') {
        ev.output = undefined; // the read ended, result unknown: it constrains nothing
      } else {
        ev.output = null;
      }
    } else if (f === 'write') {
      const v = int(file, n, arg, 'the value written');
      ev.args = String(v);
      if (type === 'invoke') ev.input = { op: 'write', value: v };
      else ev.output = type === 'ok' ? {} : null;
    } else {
      const [from, to] = pair(file, n, arg);
      ev.args = `[${from} ${to}]`;
      if (type === 'invoke') ev.input = { op: 'cas', from, to };
      else ev.output = { ok: type === 'ok' };
    }
    events.push(ev);
  });
  return pairEvents(file, events);
}

/** Guesses the format from the first non-blank line (undefined when it looks like neither). */
export function detectFormat(text: string): HistoryFormat | undefined {
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return undefined;
  if (first.startsWith('{:process')) return 'kv';
  if (/^INFO\s+jepsen\.util/.test(first)) return 'etcd';
  return undefined;
}
