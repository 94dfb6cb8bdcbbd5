/**
 * `node:fs` as lab 5's code under test gets it: a hardened facade made for it, whose functions call node's as this
 * module captured them, before any code under test ran, through tables that only kit code reaches (FS_CALLS: the
 * lab's spies put their wrappers there, lab5/test/host-spies.ts). So that code can neither replace nor unwrap what
 * the spies see, and never holds node's fs module, its promises or one of FileHandle's methods.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockAllowingOverrides } from './node-prototypes';

/** A function of node's fs (or a spy's wrapper of one). */
export type FsFunction = (this: unknown, ...args: unknown[]) => unknown;

/** The functions of `owner` (lower-case names: not its classes); `accessors`: read lazy getters too (node's fs has some). */
function functionsOf(owner: object, accessors: boolean): Record<string, FsFunction> {
  const out: Record<string, FsFunction> = {};
  for (const name of Object.getOwnPropertyNames(owner)) {
    const d = Object.getOwnPropertyDescriptor(owner, name);
    if (name === 'constructor' || !/^[a-z]/.test(name) || !d || (!('value' in d) && !accessors)) continue;
    const value: unknown = 'value' in d ? d.value : (owner as Record<string, unknown>)[name];
    if (typeof value === 'function') out[name] = value as FsFunction;
  }
  return out;
}

/**
 * What an fs call of the code under test runs, by name: node's functions, captured when this module loaded (and
 * FileHandle's at the first handle). Kit code in the code's process (lab 5's spies) may put a wrapper in place of
 * an entry and put the original back; nothing the code under test can reach leads here.
 */
export const FS_CALLS: {
  readonly fs: Record<string, FsFunction>;
  readonly promises: Record<string, FsFunction>;
  readonly fileHandle: Record<string, FsFunction>;
} = { fs: functionsOf(fs, true), promises: functionsOf(fs.promises, false), fileHandle: {} };

/**
 * How a call writes into a file: through a descriptor it is given first (`fd`), a whole file by path or descriptor
 * replaced (`replace`) or appended to (`append`), a FileHandle's write at its position (`handle`) or of its whole
 * file (`handle-replace`, `handle-append`), or a copy whose second argument names the file written (`copy`).
 */
export type FileWriteKind = 'fd' | 'replace' | 'append' | 'handle' | 'handle-replace' | 'handle-append' | 'copy';

/**
 * Every call of FS_CALLS that writes into a file, by table: the disk spies of lab 5 wrap each of them (a kit test,
 * fs-facade.test.ts, checks that every writing function node has is here).
 */
export const FILE_WRITES: {
  readonly [T in keyof typeof FS_CALLS]: Readonly<Record<string, FileWriteKind>>;
} = {
  fs: {
    writeSync: 'fd',
    write: 'fd',
    writevSync: 'fd',
    writev: 'fd',
    writeFileSync: 'replace',
    writeFile: 'replace',
    appendFileSync: 'append',
    appendFile: 'append',
    copyFileSync: 'copy',
    copyFile: 'copy',
    cpSync: 'copy',
    cp: 'copy',
  },
  promises: { writeFile: 'replace', appendFile: 'append', copyFile: 'copy', cp: 'copy' },
  fileHandle: { write: 'handle', writev: 'handle', writeFile: 'handle-replace', appendFile: 'handle-append' },
};

/** A function that calls `table[name]` as the table holds it at the call. */
function dispatcher(table: Record<string, FsFunction>, name: string): FsFunction {
  const fn = function (this: unknown, ...args: unknown[]): unknown {
    return Reflect.apply(table[name], this, args);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/** Puts a dispatcher to `table` in place of each of `owner`'s functions that `table` names (for good, unless `prototype`). */
function route(owner: object, table: Record<string, FsFunction>, prototype: boolean): void {
  for (const name of Object.keys(table))
    Object.defineProperty(owner, name, {
      value: dispatcher(table, name),
      writable: prototype,
      enumerable: !prototype,
      configurable: prototype, // a prototype is locked next, its instances still free to set their own (node-prototypes.ts)
    });
}

let moduleRouted = false;

/**
 * Routes node's fs module and its promises through FS_CALLS, once per process, before the code under test loads:
 * every fs call of the process then passes the kit's spies, node's own included (a write stream's writes, the
 * fsync of `flush: true`), whether the code calls node's module (outside the grader) or the facade.
 */
export function routeFileSystem(): void {
  if (moduleRouted) return;
  moduleRouted = true;
  route(fs, FS_CALLS.fs, false);
  route(fs.promises, FS_CALLS.promises, false);
}

let handlePrototype: object | undefined;

/** Routes FileHandle's methods (`proto` is its prototype) through FS_CALLS.fileHandle and locks the prototype, once. */
function routeHandlePrototype(proto: object): void {
  if (handlePrototype !== undefined) return;
  handlePrototype = proto;
  Object.assign(FS_CALLS.fileHandle, functionsOf(proto, false));
  route(proto, FS_CALLS.fileHandle, true);
  lockAllowingOverrides(proto);
}

/** Routes FileHandle's methods through FS_CALLS.fileHandle (before a spy wraps one): opens a handle to find them. */
export async function routeFileHandles(): Promise<void> {
  if (handlePrototype !== undefined) return;
  const handle = await FS_CALLS.promises.open(__filename, 'r');
  routeHandlePrototype(Object.getPrototypeOf(handle) as object);
  await (handle as fs.promises.FileHandle).close();
}

/** A stream's options with the facade as the functions it calls (node would keep its own fs module on the stream). */
function streamOptions(options: unknown, facade: object): unknown {
  if (typeof options === 'string') return { encoding: options, fs: facade };
  if (options === undefined || options === null) return { fs: facade };
  if (typeof options !== 'object') return options; // node says what is wrong with it
  const copy: Record<string, unknown> = { ...options };
  // A FileHandle stream reads and writes through the handle's methods (routed), and node refuses `fs` with it.
  if (typeof copy.fd !== 'object' || copy.fd === null) copy.fs ??= facade;
  return copy;
}

/** Names of node's fs that the facade has not (classes whose objects would hold node's module), and what to use. */
const NOT_GIVEN: Readonly<Record<string, string>> = {
  ReadStream: 'fs.createReadStream',
  WriteStream: 'fs.createWriteStream',
  FileReadStream: 'fs.createReadStream',
  FileWriteStream: 'fs.createWriteStream',
  Dir: 'fs.opendir or fs.opendirSync',
  Dirent: 'fs.readdirSync(dir, { withFileTypes: true })',
  Stats: 'fs.statSync',
};

/** The facade's functions for `table`, each calling the table's entry at the call (arrows: nothing to construct). */
function facadeFunctions(table: Record<string, FsFunction>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(table))
    out[name] = Object.defineProperty((...args: unknown[]) => Reflect.apply(table[name], undefined, args), 'name', {
      value: name,
    });
  return out;
}

let facade: object | undefined;

/** `node:fs` as the code under test imports it: one hardened facade per process. */
export function fsFacade(): object {
  facade ??= makeFacade(undefined);
  return facade;
}

/** What one machine of the code under test may touch on disk: its folder (none: nothing), and the descriptors it opened. */
interface DiskMachine {
  /** The folder it may read and write, absolute; undefined: none. */
  readonly folder: string | undefined;
  /** What it is, for a refusal: "a server". */
  readonly what: string;
  /** The descriptors it opened with open or openSync and has not closed. */
  readonly fds: Set<number>;
  /** The FileHandles its fs.promises.open gave it, as it holds them (handleFacade), with node's behind each. */
  readonly handles: WeakMap<object, object>;
}

/** What a machine may do with a FileHandle of its own: its methods, never node's object (whose descriptor is a field). */
const HANDLE_METHODS = [
  'appendFile',
  'chmod',
  'chown',
  'close',
  'datasync',
  'read',
  'readFile',
  'readv',
  'stat',
  'sync',
  'truncate',
  'utimes',
  'write',
  'writeFile',
  'writev',
] as const;

/**
 * A FileHandle as a machine holds it: a frozen object whose methods call node's handle, kept out of the code's
 * reach (node's keeps its descriptor in a writable field, and its class is shared by every machine of the process).
 */
function handleFacade(handle: fs.promises.FileHandle): object {
  const facade: Record<string, unknown> = {};
  for (const name of HANDLE_METHODS) {
    const method = (handle as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    facade[name] = Object.freeze((...args: unknown[]): unknown => Reflect.apply(method, handle, args));
  }
  Object.defineProperty(facade, 'fd', { get: Object.freeze(() => handle.fd), enumerable: true });
  return Object.freeze(facade);
}

/** Calls that take two paths, both checked. */
const TWO_PATHS = new Set(['rename', 'renameSync', 'copyFile', 'copyFileSync', 'cp', 'cpSync']);
/** Calls a machine never gets: links would lead out of its folder, watches and globs look at any path. */
const NOT_FOR_MACHINES = /^(link|symlink|watch|watchFile|unwatchFile|glob|opendir|openAsBlob)/;

/** The refusal of `name` on `target` by `machine`. */
function diskRefusal(machine: DiskMachine, name: string, target: string): Error {
  const may =
    machine.folder === undefined
      ? 'no files at all (only a server started with a dataDir has one: its folder)'
      : `only the files inside its data folder, ${machine.folder}, and the descriptors it opened there`;
  return new Error(
    `Refused: your code (${machine.what}) called fs.${name} on ${target}. In the grader each server and client is a ` +
      `machine of its own, and this one may touch ${may}. Likely causes: a path built from something other than ` +
      'options.dataDir (a relative path is taken from the grader\u2019s working directory), a descriptor opened ' +
      'elsewhere (a FileHandle\u2019s fd: use the handle\u2019s own methods), a link, or code that reaches for ' +
      'another server\u2019s files.',
  );
}

/** node's URL's href getter, which only a real URL answers (the brand check of its private state). */
const urlHref = Object.getOwnPropertyDescriptor(URL.prototype, 'href')?.get as (this: unknown) => string;

/** The path `value` names as a string, if it is a path node takes: a string, bytes, or a real file: URL. */
function pathText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(Uint8Array.prototype.slice.call(value)).toString();
  if (typeof value !== 'object' || value === null) return undefined;
  let href: string;
  try {
    href = Reflect.apply(urlHref, value, []);
  } catch {
    return undefined; // not a URL: node would take an object with a URL's fields for one, so it is refused below
  }
  const url = new URL(href);
  return url.protocol === 'file:' ? fileURLToPath(url) : href;
}

/**
 * `value` (an argument of `name` where a path or descriptor goes) as node gets it: a path inside `machine`'s folder
 * (as a string, read once here), a descriptor it holds, a FileHandle, or nothing; anything else is refused.
 */
function checkDiskArgument(machine: DiskMachine, name: string, value: unknown): unknown {
  if (value === undefined || value === null) return value; // node says what is missing
  if (typeof value === 'number') {
    if (!machine.fds.has(value)) throw diskRefusal(machine, name, `the descriptor ${value}, which it did not open`);
    return value;
  }
  const handle = typeof value === 'object' ? machine.handles.get(value) : undefined;
  if (handle !== undefined) return handle;
  const file = pathText(value);
  if (file === undefined) throw diskRefusal(machine, name, `a value that is no path (${typeof value})`);
  // mkdtemp's prefix is the start of a name: the folder it makes is the prefix and six characters more.
  const temp = name.startsWith('mkdtemp');
  const resolved = path.resolve(temp ? `${file}XXXXXX` : file);
  const rel = machine.folder === undefined ? '..' : path.relative(machine.folder, resolved);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw diskRefusal(machine, name, JSON.stringify(file));
  return temp ? resolved.slice(0, -'XXXXXX'.length) : resolved;
}

/** `fn` (the facade's `name`), held to `machine`: its paths in the folder, its descriptors its own, and opens noted. */
function confined(machine: DiskMachine, name: string, fn: (...args: unknown[]) => unknown): unknown {
  const call = (...args: unknown[]): unknown => {
    if (NOT_FOR_MACHINES.test(name)) throw diskRefusal(machine, name, 'anything');
    if (args.length > 0) args[0] = checkDiskArgument(machine, name, args[0]);
    if (TWO_PATHS.has(name)) args[1] = checkDiskArgument(machine, name, args[1]);
    if (name === 'close' || name === 'closeSync') machine.fds.delete(args[0] as number);
    if (name === 'open') {
      const at = args.findIndex((a) => typeof a === 'function');
      if (at >= 0) {
        const cb = args[at] as (err: unknown, fd?: number) => void;
        args[at] = (err: unknown, fd?: number): void => {
          if (!err && typeof fd === 'number') machine.fds.add(fd);
          cb(err, fd);
        };
      }
    }
    const result = fn(...args);
    if (name === 'openSync' && typeof result === 'number') machine.fds.add(result);
    return result;
  };
  return Object.defineProperty(call, 'name', { value: name });
}

/** `node:fs` for one machine of the code under test: only `folder` (none: no file at all), for `what` ("a server"). */
export function machineFsFacade(folder: string | undefined, what: string): object {
  const root = folder === undefined ? undefined : path.resolve(folder);
  return makeFacade({ folder: root, what, fds: new Set(), handles: new WeakMap() });
}

/** The facade: node's fs through FS_CALLS, held to `machine` when one is named. */
function makeFacade(machine: DiskMachine | undefined): object {
  const hold = (out: Record<string, unknown>): void => {
    if (machine === undefined) return;
    for (const [name, fn] of Object.entries(out))
      if (typeof fn === 'function') out[name] = confined(machine, name, fn as (...args: unknown[]) => unknown);
  };
  const out = facadeFunctions(FS_CALLS.fs);
  for (const name of ['createReadStream', 'createWriteStream'])
    out[name] = Object.defineProperty(
      (file: unknown, options?: unknown) => FS_CALLS.fs[name](file, streamOptions(options, out)),
      'name',
      { value: name },
    );
  const promises = facadeFunctions(FS_CALLS.promises);
  promises.open = Object.defineProperty(
    async (...args: unknown[]): Promise<unknown> => {
      const handle = await Reflect.apply(FS_CALLS.promises.open, undefined, args);
      routeHandlePrototype(Object.getPrototypeOf(handle) as object); // before the code holds any handle
      if (machine === undefined) return handle;
      const held = handleFacade(handle as fs.promises.FileHandle);
      machine.handles.set(held, handle as object);
      return held;
    },
    'name',
    { value: 'open' },
  );
  hold(out);
  hold(promises);
  promises.constants = { ...fs.promises.constants };
  out.promises = promises;
  out.constants = { ...fs.constants };
  for (const name of ['F_OK', 'R_OK', 'W_OK', 'X_OK']) out[name] = (fs as unknown as Record<string, number>)[name];
  for (const [name, instead] of Object.entries(NOT_GIVEN))
    Object.defineProperty(out, name, {
      get: () => {
        throw new Error(`fs.${name} is not available to your code when the grader runs it: use ${instead}.`);
      },
      enumerable: false,
    });
  return harden(out);
}
