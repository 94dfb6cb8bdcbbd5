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
  const outerBase = base;
  counted = 0;
  copyingStrings = copyStrings;
  naming = what;
  namingMethod = method;
  base = depth;
  try {
    const copy = copyValue(value, 'value');
    return { copy, bytes: counted };
  } finally {
    base = outerBase;
    counted = outerCount;
    copyingStrings = outerCopying;
    naming = outerNaming;
    namingMethod = outerMethod;
  }
}

/**
 * The objects being copied, outermost first, and the key of each in the one before it (the first's is "value"):
 * detects cycles and names the failing field without an object per level. Entries from `base` up are this encode's
 * (a getter on the value may encode a message of its own above them); each is cleared as its copy ends.
 */
const openObjects: Array<object | undefined> = [];
const openKeys: Array<string | number | undefined> = [];
let depth = 0;
let base = 0;

/** The dotted path of a field of the innermost open object (or of the value itself), e.g. value.entries[2].name. */
function pathOf(key: string | number): string {
  const parts = [...openKeys.slice(base, depth), key] as Array<string | number>;
  return parts.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** Deep-copies plain data, adding its JSON size to `counted`; throws SerializationError on anything else. */
function copyValue(v: unknown, key: string | number): unknown {
  switch (typeof v) {
    case 'string':
      counted += v.length + 2;
      // A string of its own: the joined string is made flat (new memory) before a part of it is taken.
      return copyingStrings && v.length > 12 ? ` ${v}`.slice(1) : v;
    case 'number':
      if (!Number.isFinite(v))
        fail(pathOf(key), `${v} (NaN and Infinity do not survive serialization; send null or a sentinel number)`);
      counted += numberLength(v);
      return v;
    case 'boolean':
      counted += v ? 4 : 5;
      return v;
    case 'undefined':
      return undefined;
    case 'bigint':
      return fail(pathOf(key), 'a BigInt (send it as a string or a number)');
    case 'function':
      return fail(pathOf(key), 'a function (functions cannot be sent; send data and let the receiver act on it)');
    case 'symbol':
      return fail(pathOf(key), 'a symbol');
  }
  if (v === null) {
    counted += 4;
    return null;
  }
  const obj = v as object;
  for (let i = base; i < depth; i++) {
    if (openObjects[i] === obj) fail(pathOf(key), 'a reference back to an enclosing object (cycles cannot be sent)');
  }
  if (!Array.isArray(obj)) {
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto !== Object.prototype && proto !== null) {
      const kind = describeInstance(obj, proto);
      if (kind) fail(pathOf(key), kind);
    }
  }
  openObjects[depth] = obj;
  openKeys[depth] = key;
  depth++;
  try {
    return copyObject(obj);
  } finally {
    depth--;
    openObjects[depth] = undefined;
    openKeys[depth] = undefined;
  }
}

/** Deep-copies an object (the innermost open one) or an array, as copyValue does any value. */
function copyObject(obj: object): unknown {
  if (Array.isArray(obj)) {
    // Pushed, not stored into a presized (holey) array: that store is many times slower in a locked-down realm.
    const out: unknown[] = [];
    counted += 2 + Math.max(0, obj.length - 1);
    for (let i = 0; i < obj.length; i++) {
      const item = copyValue(obj[i], i);
      out.push(item === undefined ? null : item);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  counted += 2;
  let fields = 0;
  for (const field in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, field)) continue;
    const item = copyValue((obj as Record<string, unknown>)[field], field);
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
