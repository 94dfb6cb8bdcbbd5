/**
 * What crosses the simulated network: a deep copy of plain data (objects, arrays, strings, finite numbers,
 * booleans, null). Anything that would not survive a real wire (functions, class instances with methods,
 * Maps, Sets, Dates, BigInts, NaN, cycles) is refused with an error naming the field, so a bug shows up at
 * the call instead of as a strange value on the other side.
 */
import { SerializationError } from './errors';

/** A deep copy of `value` and its size in bytes as JSON. */
export interface Encoded {
  copy: unknown;
  bytes: number;
}

/**
 * What the copy in progress counts and names: module state rather than objects made for each copy (every simulated
 * call encodes twice), saved and restored around each encode, since a getter on the value may send a message itself.
 */
let counted = 0;
let copyingStrings = false;
let naming = '';
let namingMethod: string | undefined;

/**
 * Validates, copies and measures one value. `what` names it in errors, followed by `method` when given ("the
 * arguments of" and "KVServer.Put": the name is built only for an error). Strings are immutable, so the copy shares
 * them with the value, unless `copyStrings` (a memory test's network: one machine that kept another's string object
 * would weigh nothing for it, as no real wire allows).
 */
export function encode(value: unknown, what: string, copyStrings = false, method?: string): Encoded {
  const outerCount = counted;
  const outerCopying = copyingStrings;
  const outerNaming = naming;
  const outerMethod = namingMethod;
  counted = 0;
  copyingStrings = copyStrings;
  naming = what;
  namingMethod = method;
  try {
    const copy = copyValue(value, 'value', null);
    return { copy, bytes: counted };
  } finally {
    counted = outerCount;
    copyingStrings = outerCopying;
    naming = outerNaming;
    namingMethod = outerMethod;
  }
}

/** The chain of objects being copied: detects cycles and names the failing field without building paths. */
interface Parent {
  obj: object;
  key: string | number;
  up: Parent | null;
}

/** The dotted path of a field, e.g. value.entries[2].name. */
function pathOf(key: string | number, up: Parent | null): string {
  const parts: Array<string | number> = [key];
  for (let p = up; p; p = p.up) parts.push(p.key);
  return parts
    .reverse()
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`))
    .join('');
}

/** Deep-copies plain data, adding its JSON size to `counted`; throws SerializationError on anything else. */
function copyValue(v: unknown, key: string | number, up: Parent | null): unknown {
  switch (typeof v) {
    case 'string':
      counted += v.length + 2;
      // A string of its own: the joined string is made flat (new memory) before a part of it is taken.
      return copyingStrings && v.length > 12 ? ` ${v}`.slice(1) : v;
    case 'number':
      if (!Number.isFinite(v))
        fail(pathOf(key, up), `${v} (NaN and Infinity do not survive serialization; send null or a sentinel number)`);
      counted += numberLength(v);
      return v;
    case 'boolean':
      counted += v ? 4 : 5;
      return v;
    case 'undefined':
      return undefined;
    case 'bigint':
      return fail(pathOf(key, up), 'a BigInt (send it as a string or a number)');
    case 'function':
      return fail(pathOf(key, up), 'a function (functions cannot be sent; send data and let the receiver act on it)');
    case 'symbol':
      return fail(pathOf(key, up), 'a symbol');
  }
  if (v === null) {
    counted += 4;
    return null;
  }
  const obj = v as object;
  for (let p = up; p; p = p.up) {
    if (p.obj === obj) fail(pathOf(key, up), 'a reference back to an enclosing object (cycles cannot be sent)');
  }
  const here: Parent = { obj, key, up };
  if (Array.isArray(obj)) {
    // Pushed, not stored into a presized (holey) array: that store is many times slower in a locked-down realm.
    const out: unknown[] = [];
    counted += 2 + Math.max(0, obj.length - 1);
    for (let i = 0; i < obj.length; i++) {
      const item = copyValue(obj[i], i, here);
      out.push(item === undefined ? null : item);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto !== Object.prototype && proto !== null) {
    const kind = describeInstance(obj, proto);
    if (kind) fail(pathOf(key, up), kind);
  }
  const out: Record<string, unknown> = {};
  counted += 2;
  let fields = 0;
  for (const field in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, field)) continue;
    const item = copyValue((obj as Record<string, unknown>)[field], field, here);
    if (item === undefined) continue;
    // A plain assignment to "__proto__" would set the copy's prototype instead of a field: define it as data.
    if (field === '__proto__')
      Object.defineProperty(out, field, { value: item, enumerable: true, writable: true, configurable: true });
    else out[field] = item;
    counted += field.length + 3 + (fields++ > 0 ? 1 : 0);
  }
  return out;
}

/** Length of a number written as JSON, without building the string for small integers. */
function numberLength(n: number): number {
  if (Number.isInteger(n) && n >= 0 && n < 1e9)
    return n < 10
      ? 1
      : n < 100
        ? 2
        : n < 1000
          ? 3
          : n < 1e4
            ? 4
            : n < 1e5
              ? 5
              : n < 1e6
                ? 6
                : n < 1e7
                  ? 7
                  : n < 1e8
                    ? 8
                    : 9;
  return String(n).length;
}

/** Why an instance cannot be sent, or undefined when it is plain data in a class without methods. */
function describeInstance(obj: object, proto: object): string | undefined {
  const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
  if (obj instanceof Map || obj instanceof Set) {
    return `a ${name} (send an array of entries or a plain object instead)`;
  }
  if (obj instanceof Date) return 'a Date (send a number of milliseconds instead)';
  if (obj instanceof Error) return `an ${name} (send its message as a string instead)`;
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `a ${name} (send a string or an array of numbers)`;
  if (obj instanceof Promise) return 'a Promise (await it before sending)';
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const methods = Object.getOwnPropertyNames(p).filter((k) => k !== 'constructor');
    if (methods.length > 0) {
      return `an instance of class ${name} with methods (${methods.slice(0, 3).join(', ')}); only its fields would arrive. Send a plain object`;
    }
  }
  return undefined;
}

function fail(path: string, problem: string): never {
  const what = namingMethod === undefined ? naming : `${naming} ${namingMethod}`;
  throw new SerializationError(`Cannot send ${what}: ${path} is ${problem}.`);
}
