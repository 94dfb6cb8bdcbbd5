/**
 * In the host: the kit's spies on the student's server, which must share its process (what they watch is only
 * visible there): syncs of a data folder's files and the server's socket writes (SyncWatch), writes and renames of a
 * snapshot with copies of the folder at chosen moments (CrashCopies), the heap. They report to the harness over the
 * host's signed channel; the harness judges (spy-views.ts). The fs spies wrap the entries of FS_CALLS, through
 * which every fs call of the process runs (grader/fs-facade.ts), never a function the code under test can reach.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FILE_WRITES, FS_CALLS, routeFileHandles, type FileWriteKind } from '../../grader/fs-facade';
import { tcpHandlePrototypes } from '../../grader/node-prototypes';
import { collectGarbage } from '../../suite/memory';
import type { Plain } from './host-protocol';

type Fn = (...args: unknown[]) => unknown;

/** Replaces `owner[name]` with `make(original)`; returns the function that puts the original back. */
export function replaceMethod(owner: object, name: string, make: (original: Fn) => Fn): () => void {
  const o = owner as Record<string, Fn>;
  const original = o[name];
  if (typeof original !== 'function') return () => undefined;
  o[name] = make(original);
  return () => void (o[name] = original);
}

/** The two ends of a TCP connection a write goes out on, as its handle reports them. */
export interface SocketEnds {
  readonly localPort: number | undefined;
  readonly remotePort: number | undefined;
}

/** What a spy is told of a socket write by this process: before it starts, and after the call returned. */
export interface SocketWriteListener {
  before?(ends: SocketEnds): void;
  after?(ends: SocketEnds): void;
}

const socketWriteListeners = new Set<SocketWriteListener>();

/** The write functions of node's stream handles: every write to a socket, whatever the JavaScript above, calls one. */
const HANDLE_WRITES = [
  'writeBuffer',
  'writev',
  'writeUtf8String',
  'writeLatin1String',
  'writeAsciiString',
  'writeUcs2String',
] as const;

/** Does a handle write call (its request first) carry at least one byte? */
function carriesBytes(name: string, args: unknown[]): boolean {
  const data = args[1];
  if (name !== 'writev') return typeof data === 'string' ? data.length > 0 : (data as Uint8Array)?.byteLength > 0;
  if (!Array.isArray(data)) return false;
  return data.some((c) => (typeof c === 'string' ? c.length > 0 : (c as Uint8Array)?.byteLength > 0));
}

/**
 * Puts a dispatcher in front of every write of a TCP handle of this process, where all of a socket's write paths
 * meet (Socket's and Writable's write and end, _write, _writev, or the handle's functions called directly), once,
 * before the code under test loads: each write function of the handles' prototype is replaced by its wrapper, made
 * non-writable and non-configurable one by one (the rest of the prototype is locked by grader/node-prototypes.ts,
 * allowing instances their own `onread`). A write of no bytes is not a reply and is not reported.
 */
export function hookSocketWrites(): void {
  const { tcp, stream } = tcpHandlePrototypes();
  const own = tcp as Record<string, Fn>;
  const getsockname = own.getsockname;
  const getpeername = own.getpeername;
  const ends = (handle: object): SocketEnds => {
    const local: { port?: number } = {};
    const remote: { port?: number } = {};
    Reflect.apply(getsockname, handle, [local]);
    Reflect.apply(getpeername, handle, [remote]);
    return { localPort: local.port, remotePort: remote.port };
  };
  for (const name of HANDLE_WRITES) {
    const write = (stream as Record<string, Fn>)[name];
    if (typeof write !== 'function') continue;
    const wrapper = function (this: object, ...args: unknown[]): unknown {
      const seen =
        socketWriteListeners.size > 0 && Object.getPrototypeOf(this) === tcp && carriesBytes(name, args)
          ? ends(this)
          : undefined;
      if (seen) for (const l of socketWriteListeners) l.before?.(seen);
      const r = Reflect.apply(write, this, args);
      if (seen) for (const l of socketWriteListeners) l.after?.(seen);
      return r;
    };
    Object.defineProperty(stream, name, { value: wrapper, writable: false, enumerable: true, configurable: false });
  }
}

/** Tells `l` of every socket write until the returned function is called. */
export function onSocketWrites(l: SocketWriteListener): () => void {
  socketWriteListeners.add(l);
  return () => void socketWriteListeners.delete(l);
}

/** A file's identity: its device and inode. */
function identityOf(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

/** How recent a folder's change time is too recent to trust (FolderIndex), ns. */
const RECENT_NS = 50_000_000n;

/**
 * Which file of a folder a descriptor writes to, for the spies that watch a folder's writes (CrashCopies, the disk
 * nemesis). It keeps the folder's names by file identity as last listed, the files seen outside it since (another
 * server's in the same process, a log of the host's), and the folder's change times then: a descriptor's file is
 * looked up there first (a name checked to still be that file; a file outside while the folder has not changed), so
 * that the folder is listed again only when a file is new to it or the folder changed. Listing it at every write
 * made TestNemesisRedis list folders 52,700 times in one run.
 */
export class FolderIndex {
  private readonly dir: string;
  private readonly names = new Map<string, string>();
  private readonly outside = new Set<string>();
  private listedAt: string | undefined;
  /** The device the folder is on (read at the first descriptor looked up). */
  private device: bigint | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The name of the folder's file open as `fd`, or undefined (not open, not a file, not in the folder). */
  nameOfFd(fd: unknown): string | undefined {
    if (typeof fd !== 'number') return undefined;
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      // A pipe, a socket or a terminal (the process's output), or a file on another device, is no file of the folder.
      if (!st.isFile() || st.dev !== (this.device ??= fs.statSync(this.dir, { bigint: true }).dev)) return undefined;
      const id = identityOf(st);
      const known = this.names.get(id);
      if (known !== undefined && this.identityOfName(known) === id) return known;
      const changedAt = this.changedAt();
      if (known === undefined && this.outside.has(id) && changedAt === this.listedAt) return undefined;
      // A file new to this index, or the folder changed: list it again (what was outside stays so unless it changed).
      if (changedAt !== this.listedAt) this.outside.clear();
      this.names.clear();
      // A change time within the last RECENT_NS is not trusted: where the kernel keeps coarse timestamps (a tick of a
      // few ms), a file moved into the folder within the same tick would leave them as they were.
      this.listedAt = this.changedRecently ? undefined : changedAt;
      let found: string | undefined;
      for (const name of fs.readdirSync(this.dir)) {
        const other = this.identityOfName(name);
        if (other === undefined || this.names.has(other)) continue;
        this.names.set(other, name);
        found ??= other === id ? name : undefined;
      }
      if (found === undefined) this.outside.add(id);
      return found;
    } catch {
      return undefined; // the descriptor is closed, or the folder is gone
    }
  }

  /** The name of the folder's file at path `p` (a string, or a URL's path), or undefined (another folder's, no path). */
  nameOfPath(p: unknown): string | undefined {
    if (typeof p !== 'string' && !(p instanceof URL)) return undefined;
    const full = path.resolve(p instanceof URL ? p.pathname : p);
    return path.dirname(full) === path.resolve(this.dir) ? path.basename(full) : undefined;
  }

  /** Whether the folder's change times read last are within RECENT_NS of the clock. */
  private changedRecently = false;

  /** When the folder's entries last changed (its modification and change times), as one string. */
  private changedAt(): string {
    const st = fs.statSync(this.dir, { bigint: true });
    const latest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    this.changedRecently = BigInt(Date.now()) * 1_000_000n - latest < RECENT_NS;
    return `${st.mtimeNs}:${st.ctimeNs}`;
  }

  /** The identity of the folder's file `name`, or undefined if it is gone. */
  private identityOfName(name: string): string | undefined {
    try {
      return identityOf(fs.statSync(path.join(this.dir, name), { bigint: true }));
    } catch {
      return undefined;
    }
  }
}

/** A file's identity and size in bytes, or undefined for a descriptor that is not open. */
function fileState(fd: unknown): { readonly file: string; readonly size: bigint } | undefined {
  if (typeof fd !== 'number') return undefined;
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return { file: identityOf(st), size: st.size };
  } catch {
    return undefined;
  }
}

/** Is `fd` a socket's descriptor other than the process's stdio? */
function isSocketFd(fd: unknown): boolean {
  if (typeof fd !== 'number' || fd <= 2) return false;
  try {
    return fs.fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

/**
 * Copies the files of a folder as they are now. An asynchronous call of the server's (a rename, a removal) may run
 * on libuv's threads meanwhile, so a file can vanish between the listing and its copy: it is then left out, as a
 * crash at that instant could leave it.
 */
export function copyFolder(from: string, to: string): void {
  for (const name of fs.readdirSync(from)) {
    try {
      const st = fs.statSync(path.join(from, name));
      if (st.isFile()) fs.copyFileSync(path.join(from, name), path.join(to, name));
      else if (st.isDirectory()) {
        // A subfolder is copied whole: what kill -9 leaves is the whole tree.
        fs.mkdirSync(path.join(to, name), { recursive: true });
        copyFolder(path.join(from, name), path.join(to, name));
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** Live memory after full collections: the JavaScript heap plus memory outside it (Buffers). */
export function weighHeap(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * Something the sync spies saw: a finished fsync/fdatasync (of the file with `file` identity, `size` bytes long when
 * the sync began: what it forced to disk at least), or a socket write.
 */
type Seen =
  | { readonly kind: 'sync'; readonly file: string | undefined; readonly size: bigint }
  | { readonly kind: 'write'; readonly ends: SocketEnds };

/** The sync spies, shared by every SyncWatch of the process, and the events' order. */
const spies = { installed: false, watches: new Set<SyncWatch>(), seq: 0 };

/** Tells every watch what happened, numbered in the order it happened. */
function emit(seen: Seen): void {
  const seq = ++spies.seq;
  for (const w of spies.watches) w.see(seen, seq);
}

/**
 * Spies on every way Node forces a file to disk — fs.fsync, fs.fsyncSync, fs.fdatasync, fs.fdatasyncSync,
 * FileHandle.sync and FileHandle.datasync — noting each when it has finished, and on socket writes, noting each
 * when it starts. Code that calls them through the fs module is seen. Installed once, for the host's life.
 */
function installSyncSpies(): void {
  for (const name of ['fsyncSync', 'fdatasyncSync'])
    replaceMethod(FS_CALLS.fs, name, (original) => (fd: unknown) => {
      const state = fileState(fd);
      const r = original(fd);
      emit({ kind: 'sync', file: state?.file, size: state?.size ?? 0n });
      return r;
    });
  for (const name of ['fsync', 'fdatasync'])
    replaceMethod(FS_CALLS.fs, name, (original) => (fd: unknown, callback: unknown) => {
      const state = fileState(fd);
      if (typeof callback !== 'function') return original(fd, callback);
      return original(fd, (err: unknown) => {
        if (!err) emit({ kind: 'sync', file: state?.file, size: state?.size ?? 0n });
        (callback as Fn)(err);
      });
    });
  for (const name of ['sync', 'datasync'])
    replaceMethod(
      FS_CALLS.fileHandle,
      name,
      (original) =>
        async function (this: { fd: number }) {
          const state = fileState(this.fd);
          await original.call(this);
          emit({ kind: 'sync', file: state?.file, size: state?.size ?? 0n });
        },
    );
  onSocketWrites({ before: (ends) => emit({ kind: 'write', ends }) });
  // A write through fs to a socket's descriptor (past the process's stdio) is a reply whose ends are not known.
  for (const [name, kind] of Object.entries(FILE_WRITES.fs))
    if (kind === 'fd')
      replaceMethod(
        FS_CALLS.fs,
        name,
        (original) =>
          function (this: unknown, ...args: unknown[]) {
            if (isSocketFd(args[0])) emit({ kind: 'write', ends: { localPort: undefined, remotePort: undefined } });
            return Reflect.apply(original, this, args);
          },
      );
}

/**
 * What one test sees, in one order: syncs of a data folder's log (the only file whose sync keeps a logged write), and writes
 * by a server's side of its connections (its replies), each numbered; the harness compares the numbers.
 */
export class SyncWatch {
  readonly dir: string;
  /** The port of the server whose writes count (0 until the server listens: the harness starts a watch first). */
  private serverPort: number;
  /** Sequence numbers of finished syncs of the folder's log. */
  readonly syncs: number[] = [];
  /** Sequence numbers of writes by the server's sockets. */
  readonly replies: number[] = [];
  /** Sequence numbers of the server's writes made while the log held bytes that no finished sync had forced to disk. */
  readonly unsynced: number[] = [];
  /** For each log file seen synced (by identity), the most bytes a finished sync of it covered. */
  private readonly synced = new Map<string, bigint>();

  constructor(dir: string, serverPort: number) {
    this.dir = dir;
    this.serverPort = serverPort;
  }

  /** Starts watching (installs the spies, for good, if no watch has yet). */
  async start(): Promise<void> {
    await routeFileHandles();
    if (!spies.installed) {
      installSyncSpies();
      spies.installed = true;
    }
    spies.watches.add(this);
  }

  /** Names the server whose writes count, once it listens. */
  setServerPort(port: unknown): void {
    if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) throw new TypeError('setServerPort(port)');
    this.serverPort = port;
  }

  /** What the watch saw: the latest sequence number ("now"), the syncs and the server's writes. */
  report(): Plain {
    return { now: spies.seq, syncs: [...this.syncs], replies: [...this.replies], unsynced: [...this.unsynced] };
  }

  /**
   * Stops watching. The spies stay for the host's life (one test): the same whether a watch is running or not, and
   * never unwound under the wrappers installed after them (the disk nemesis's).
   */
  stop(): void {
    spies.watches.delete(this);
  }

  /** Notes an event that concerns this watch. */
  see(seen: Seen, seq: number): void {
    if (seen.kind === 'write') {
      // A write whose ends are unknown (through fs to a socket's descriptor) counts as the server's.
      if (seen.ends.localPort !== this.serverPort && seen.ends.localPort !== undefined) return;
      this.replies.push(seq);
      if (!this.logSynced()) this.unsynced.push(seq);
    } else if (seen.file !== undefined && this.holds(seen.file)) {
      this.syncs.push(seq);
      if (seen.size > (this.synced.get(seen.file) ?? 0n)) this.synced.set(seen.file, seen.size);
    }
  }

  /** Is every byte of the folder's log (appendonly.aof, as it is now) covered by a finished sync? No log: yes. */
  private logSynced(): boolean {
    try {
      const st = fs.statSync(path.join(this.dir, 'appendonly.aof'), { bigint: true });
      return st.size <= (this.synced.get(`${st.dev}:${st.ino}`) ?? 0n);
    } catch {
      return true;
    }
  }

  /** Is `file` the folder's log (or a new log written aside to replace it)? A sync of any other file, or of the folder, forces no logged write to disk. */
  private holds(file: string): boolean {
    const paths: string[] = [];
    try {
      for (const name of fs.readdirSync(this.dir)) if (isLogFile(name)) paths.push(path.join(this.dir, name));
    } catch {
      return false;
    }
    return paths.some((p) => {
      try {
        const st = fs.statSync(p, { bigint: true });
        return `${st.dev}:${st.ino}` === file;
      } catch {
        return false;
      }
    });
  }
}

/** The log, or a file named after it (a new log written aside, to be renamed over it): not part of a snapshot. */
function isLogFile(name: string): boolean {
  return name === 'appendonly.aof' || name.startsWith('appendonly.aof.');
}

/**
 * A kit client's PING and SET at a snapshot's write (TestSnapshotServes): sent from here at that instant, so that
 * they wait in the server's socket while the snapshot is written; how much more had it written when the PONG was back?
 */
interface SnapshotPing {
  readonly socket: net.Socket;
  readonly round: number;
  /** Bytes of the snapshot written before the PING goes. */
  readonly afterBytes: number;
  phase: 'armed' | 'pinged' | 'done';
  /** Bytes of the snapshot written before the write at which the PING went. */
  pingedAt: number;
  /** Bytes the snapshot wrote from the PING to its first write after the PONG came back; null until then. */
  pongAfterBytes: number | null;
  received: Buffer[];
}

/** The bytes a file write call hands over: its data argument at `from`, then an offset and a length, or options. */
function writtenBytes(args: unknown[], from: number): number {
  const [data, a, b] = args.slice(from);
  try {
    if (typeof data === 'string')
      return Buffer.byteLength(
        data,
        (typeof b === 'string' ? b : typeof a === 'string' ? a : 'utf8') as BufferEncoding,
      );
    if (Array.isArray(data)) return data.reduce((n: number, d) => n + (ArrayBuffer.isView(d) ? d.byteLength : 0), 0);
    if (!ArrayBuffer.isView(data)) return 0;
    if (a !== null && typeof a === 'object') {
      const o = a as { offset?: number; length?: number };
      return o.length ?? data.byteLength - (o.offset ?? 0);
    }
    return typeof b === 'number' ? b : data.byteLength - (typeof a === 'number' ? a : 0);
  } catch {
    return 0;
  }
}

/**
 * Copies of a data folder taken at two moments of a snapshot by the server running in this process: what
 * `kill -9` would leave on disk at that instant, made into two empty folders the harness made. Spies on the ways
 * Node writes and renames files:
 *  - the first copy: just before the first write to a file of the folder other than the log once armed (the log
 *    is appendonly.aof, and appendonly.aof.* written aside to replace it)
 *    (a file opened by path for the write is left empty in the copy, as right after its open truncated it);
 *  - the second copy: just after the first rename into the folder once armed (not of the log).
 * Before arming, it counts those writes and renames, so a test can wait for a first snapshot.
 * With the disk full, those writes fail as on a full disk (ENOSPC: thrown, passed to the callback, or a rejected
 * promise, as the call reports errors).
 */
export class CrashCopies {
  readonly dir: string;
  private readonly into: readonly [string, string];
  beforeWrite = false;
  afterRename = false;
  /** Writes to files other than the log, and renames into the folder, seen so far. */
  snapshotWrites = 0;
  renames = 0;
  /** Bytes written to files other than the log since the last rename into the folder (the snapshot being written). */
  private snapshotBytes = 0;
  /** The name of the last file renamed into the folder (not the log): the snapshot in place. */
  lastRenamed: string | undefined;
  /** The name of the file whose rename the second copy was taken after. */
  renamedAtCopy: string | undefined;
  /** When true, writes to files other than the log fail with ENOSPC. */
  diskFull = false;
  /** Writes refused because of `diskFull`. */
  refusedWrites = 0;
  private ping: SnapshotPing | undefined;
  private armed = false;
  private copying = false;
  private readonly undo: Array<() => void> = [];
  /** Which of the folder's files each descriptor written to is. */
  private readonly files: FolderIndex;

  constructor(dir: string, into: readonly [string, string]) {
    this.dir = dir;
    this.into = into;
    this.files = new FolderIndex(dir);
  }

  /**
   * From now on, take the copies, if no snapshot write has been seen since the count `writesSeen` (or always, when it
   * is not a count); returns whether it armed.
   */
  arm(writesSeen?: unknown): boolean {
    if (typeof writesSeen === 'number' && writesSeen !== this.snapshotWrites) return false;
    this.armed = true;
    return true;
  }

  /** Fills the disk (writes other than the log's fail) or frees it. */
  setDiskFull(full: unknown): void {
    this.diskFull = full === true;
  }

  /**
   * At a snapshot's first write once it has written `afterBytes` (the test draws it, so that no moment of a snapshot
   * is the one watched), a connection of the kit's to `port` sends PING and SET during-snapshot-<round>.
   */
  async pingAtNextSnapshot(port: unknown, round: unknown, afterBytes: unknown): Promise<void> {
    if (typeof port !== 'number' || typeof round !== 'number' || typeof afterBytes !== 'number')
      throw new TypeError('pingAtNextSnapshot(port, round, afterBytes)');
    this.ping?.socket.destroy();
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const ping: SnapshotPing = {
      socket,
      round,
      afterBytes,
      phase: 'armed',
      pingedAt: 0,
      pongAfterBytes: null,
      received: [],
    };
    socket.on('data', (d: Buffer) => ping.received.push(d));
    this.ping = ping;
  }

  /** What the copies saw: counts, which copies were taken, and the snapshot ping's outcome (its replies' bytes). */
  report(): Plain {
    const p = this.ping;
    return {
      beforeWrite: this.beforeWrite,
      afterRename: this.afterRename,
      snapshotWrites: this.snapshotWrites,
      renames: this.renames,
      lastRenamed: this.lastRenamed ?? null,
      renamedAtCopy: this.renamedAtCopy ?? null,
      refusedWrites: this.refusedWrites,
      ping:
        p === undefined
          ? null
          : {
              round: p.round,
              phase: p.phase,
              pongAfterBytes: p.pongAfterBytes,
              received: Buffer.concat(p.received).toString('latin1'),
            },
    };
  }

  /** Installs the spies; `stop()` removes them. */
  async start(): Promise<void> {
    await routeFileHandles();
    const proto = FS_CALLS.fileHandle;
    const wrap = (
      owner: object,
      name: string,
      before: (self: unknown, args: unknown[]) => Error | void,
      after?: (args: unknown[]) => void,
    ): void => {
      const promises = owner === FS_CALLS.promises || owner === proto;
      this.undo.push(
        replaceMethod(
          owner,
          name,
          (original) =>
            function (this: unknown, ...args: unknown[]) {
              const refused = before(this, args);
              if (refused) {
                const callback = args[args.length - 1];
                if (typeof callback === 'function') return void process.nextTick(callback as Fn, refused);
                if (promises) return Promise.reject(refused);
                throw refused;
              }
              const result = original.apply(this, args);
              if (after && result instanceof Promise) return result.then((v) => (after(args), v));
              if (after && typeof args[args.length - 1] !== 'function') after(args);
              return result;
            },
        ),
      );
    };
    const byFd = (_self: unknown, args: unknown[]): Error | void =>
      this.onWrite(typeof args[0] === 'number' ? this.nameOfFd(args[0]) : undefined, false, writtenBytes(args, 1));
    const byPathOrFd =
      (flagDefault: string) =>
      (_self: unknown, args: unknown[]): Error | void => {
        const [target, , options] = args;
        const flag =
          (typeof options === 'object' && options !== null ? (options as { flag?: string }).flag : undefined) ??
          flagDefault;
        const bytes = writtenBytes(args, 1);
        if (typeof target === 'number') return this.onWrite(this.nameOfFd(target), false, bytes);
        if (typeof target === 'string' || target instanceof URL)
          return this.onWrite(
            this.nameOfPath(String(target instanceof URL ? target.pathname : target)),
            flag.startsWith('w'),
            bytes,
          );
        if (target && typeof (target as { fd?: unknown }).fd === 'number')
          return this.onWrite(this.nameOfFd((target as { fd: number }).fd), false, bytes);
      };
    const byHandle = (self: unknown, args: unknown[]): Error | void =>
      this.onWrite(this.nameOfFd((self as { fd: number }).fd), false, writtenBytes(args, 0));
    const copy = (_self: unknown, args: unknown[]): Error | void =>
      this.onWrite(this.nameOfPath(String(args[1] instanceof URL ? args[1].pathname : args[1])), true);
    const byKind: Record<FileWriteKind, (self: unknown, args: unknown[]) => Error | void> = {
      fd: byFd,
      replace: byPathOrFd('w'),
      append: byPathOrFd('a'),
      handle: byHandle,
      'handle-replace': byHandle,
      'handle-append': byHandle,
      copy,
    };
    for (const table of ['fs', 'promises', 'fileHandle'] as const)
      for (const [name, kind] of Object.entries(FILE_WRITES[table])) wrap(FS_CALLS[table], name, byKind[kind]);
    const renamed = (args: unknown[]): void => this.onRename(this.nameOfPath(String(args[1])));
    const renameCallback = (_self: unknown, args: unknown[]): void => {
      const cb = args[2];
      if (typeof cb === 'function') args[2] = (err: unknown) => (err ? undefined : renamed(args), (cb as Fn)(err));
    };
    wrap(FS_CALLS.fs, 'renameSync', () => undefined, renamed);
    wrap(FS_CALLS.fs, 'rename', renameCallback);
    wrap(FS_CALLS.promises, 'rename', () => undefined, renamed);
  }

  /** Removes the spies and closes the ping's connection. */
  stop(): void {
    while (this.undo.length > 0) this.undo.pop()!();
    this.ping?.socket.destroy();
  }

  /** The name of a file of the folder open as `fd`, or undefined. */
  private nameOfFd(fd: number): string | undefined {
    return this.copying ? undefined : this.files.nameOfFd(fd);
  }

  /** The name of a path in the folder, or undefined. */
  private nameOfPath(p: string): string | undefined {
    return this.copying ? undefined : this.files.nameOfPath(p);
  }

  /** Notes a write to the file `name` of the folder; returns the error to fail it with when the disk is full. */
  private onWrite(name: string | undefined, truncates: boolean, bytes = 0): Error | void {
    if (name === undefined || isLogFile(name)) return;
    this.atSnapshotWrite(this.snapshotBytes, bytes);
    this.snapshotBytes += bytes;
    if (this.diskFull) {
      this.refusedWrites++;
      return Object.assign(new Error(`ENOSPC: no space left on device, write (${name})`), {
        code: 'ENOSPC',
        errno: -28,
        syscall: 'write',
      });
    }
    this.snapshotWrites++;
    if (!this.armed || this.beforeWrite) return;
    this.copy(this.into[0]);
    this.beforeWrite = true;
    if (truncates) fs.writeFileSync(path.join(this.into[0], name), '');
  }

  private onRename(name: string | undefined): void {
    if (name === undefined || isLogFile(name)) return;
    this.renames++;
    this.snapshotBytes = 0; // a snapshot ends with its rename
    this.lastRenamed = name;
    const p = this.ping;
    if (p?.phase === 'pinged') p.phase = 'done';
    if (this.armed && !this.afterRename) {
      this.copy(this.into[1]);
      this.afterRename = true;
      this.renamedAtCopy = name;
    }
  }

  /**
   * The ping's part at a snapshot write of `bytes`, `before` bytes into the snapshot: sent at the first write that
   * reaches past the ping's afterBytes (so a first small write cannot stand in for the rest, and one large write
   * cannot pass the mark unwatched), and at each later one, has the PONG come back yet?
   */
  private atSnapshotWrite(before: number, bytes: number): void {
    const p = this.ping;
    if (p?.phase === 'armed' && before + bytes > p.afterBytes) {
      p.socket.write('*1\r\n$4\r\nPING\r\n');
      const key = `during-snapshot-${p.round}`;
      const value = 'written while the snapshot was';
      p.socket.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
      p.phase = 'pinged';
      p.pingedAt = before;
    } else if (p?.phase === 'pinged' && p.pongAfterBytes === null && p.received.length > 0)
      p.pongAfterBytes = before - p.pingedAt;
  }

  private copy(to: string): void {
    this.copying = true;
    try {
      copyFolder(this.dir, to);
    } finally {
      this.copying = false;
    }
  }
}
