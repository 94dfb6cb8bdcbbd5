/**
 * `node:fs` as lab 5's code under test gets it: a hardened facade made for it, whose functions call node's as this
 * module captured them, before any code under test ran, through tables that only kit code reaches (FS_CALLS: the
 * lab's spies put their wrappers there, lab5/test/host-spies.ts). So that code can neither replace nor unwrap what
 * the spies see, and never holds node's fs module, its promises or one of FileHandle's methods.
 */
import fs from 'node:fs';
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
  if (facade !== undefined) return facade;
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
      return handle;
    },
    'name',
    { value: 'open' },
  );
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
  facade = harden(out);
  return facade;
}
