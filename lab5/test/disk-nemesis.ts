/**
 * In the host: the disk nemesis of TestNemesisRedis. It replaces fs's write, append, rename and truncate calls (the
 * entries of FS_CALLS, grader/fs-facade.ts, through which every fs call of the process runs) with
 * versions that, at targets drawn from the seed, copy the student's server's data folder first (for a write,
 * sometimes with part of its bytes written: a torn write), or after a rename: what kill -9 leaves at that instant.
 * Each copy goes into an empty folder the harness made, and is reported with when it was taken (monotonicMicros),
 * so that the harness can tell how far each of its connections had got then. Power cuts (each file keeps only what
 * was fsynced) come at replies to a probe, and, once asked for, just after a snapshot is put in place and the log cut.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FILE_WRITES, FS_CALLS, routeFileHandles, type FileWriteKind } from '../../grader/fs-facade';
import { keyedRng, type Rng } from '../../world/rng';
import { monotonicMicros, type Plain } from './host-protocol';
import { copyFolder, FolderIndex, onSocketWrites } from './host-spies';

/** One copy of the data folder: the folder (an index of the harness's), what happened, and when (from, to: µs). */
interface TakenCopy {
  readonly into: number;
  readonly what: string;
  readonly from: number;
  readonly to: number;
  /** Taken as the server wrote its reply to the probe (the log cut to what was fsynced): that write counts as acknowledged. */
  readonly probeReply: boolean;
}

type Fn = (...args: unknown[]) => unknown;

/** The bytes a write call writes, and where (undefined: the end of the file). */
interface WriteCall {
  readonly file: string;
  readonly data: Buffer | undefined;
  readonly position: number | undefined;
  /** Opened by path with truncation (writeFile): the file is empty before the data. */
  readonly truncates: boolean;
}

function asBuffer(data: unknown, encoding: unknown): Buffer | undefined {
  if (typeof data === 'string')
    return Buffer.from(data, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** Reads a (fd, buffer|string, ...) write call's bytes and position, in the shapes fs.write(Sync) takes. */
function fdWrite(args: unknown[], from: number): Pick<WriteCall, 'data' | 'position'> {
  const [data, a, b, c] = args.slice(from);
  if (typeof data === 'string') return { data: asBuffer(data, b), position: typeof a === 'number' ? a : undefined };
  const buf = asBuffer(data, undefined);
  if (!buf) return { data: undefined, position: undefined };
  if (a !== null && typeof a === 'object') {
    const o = a as { offset?: number; length?: number; position?: number };
    const off = o.offset ?? 0;
    return { data: buf.subarray(off, off + (o.length ?? buf.length - off)), position: o.position ?? undefined };
  }
  const off = typeof a === 'number' ? a : 0;
  const len = typeof b === 'number' ? b : buf.length - off;
  return { data: buf.subarray(off, off + len), position: typeof c === 'number' ? c : undefined };
}

/** Where each RESP command in `data` starts (a '*' at the start or after CR LF, followed by a digit). */
function recordStarts(data: Buffer): number[] {
  const starts: number[] = [];
  for (let i = 0; i < data.length - 1; i++)
    if (
      data[i] === 0x2a &&
      (i === 0 || (data[i - 1] === 0x0a && data[i - 2] === 0x0d)) &&
      data[i + 1] >= 0x30 &&
      data[i + 1] <= 0x39
    )
      starts.push(i);
  return starts;
}

/** The log's name in the data folder. */
const LOG = 'appendonly.aof';
/** Copies kept for cuts inside a transaction or a multi-key DEL (see DiskNemesis.room). */
const UNIT_RESERVE = 2;

/** The command name of the RESP record at `start` (upper case), or '' when it cannot be read. */
function recordName(data: Buffer, start: number): string {
  const lenAt = data.indexOf('\r\n', start) + 2;
  const nameAt = data.indexOf('\r\n', lenAt) + 2;
  if (lenAt < 2 || nameAt < 2 || data[lenAt] !== 0x24) return '';
  const len = Number(data.toString('latin1', lenAt + 1, nameAt - 2));
  return Number.isInteger(len) ? data.toString('latin1', nameAt, nameAt + len).toUpperCase() : '';
}

/**
 * The record starts of `data` at which a cut falls inside a unit the handout's log format makes special: just after
 * a MULTI, just before an EXEC, or between two DEL records (a multi-key DEL is one record per key; inside a
 * transaction it must come back whole, outside one it may come back in part).
 */
function unitCuts(data: Buffer, starts: readonly number[]): number[] {
  const names = starts.map((st) => recordName(data, st));
  return starts.filter(
    (_, i) =>
      i > 0 && (names[i - 1] === 'MULTI' || names[i] === 'EXEC' || (names[i - 1] === 'DEL' && names[i] === 'DEL')),
  );
}

/**
 * Replaces fs's write, append, rename and truncate calls with versions that note each one on the data folder and,
 * at the targets drawn from the seed, copy the folder first (for a write, sometimes with part of its bytes written:
 * a torn write), or after a rename. The copies are what kill -9 leaves at that instant.
 */
export class DiskNemesis {
  readonly dir: string;
  private rng!: Rng;
  private into: readonly string[] = [];
  private maxCopies = 0;
  readonly points: TakenCopy[] = [];
  private readonly counts = new Map<string, number>();
  private readonly targets = new Map<string, Set<number>>();
  private copying = false;
  /** Copies taken at a probe's reply: they have a budget of their own, so that crash copies never crowd them out. */
  private probeCopies = 0;
  /**
   * The power cuts asked for by powerCutsAtSnapshot still to come: just after a file other than the log is renamed
   * into the folder (a snapshot put in place), then just after the log is cut (truncated, or replaced by a rename).
   */
  private snapshotCuts: 'rename' | 'log cut' | undefined;
  /** Once stopped, its replacements only pass each call on, as cheap as a bare wrapper (its folder's server is gone). */
  private stopped = false;
  /** Removes the socket-write listeners of watchProbe. */
  private readonly listeners: Array<() => void> = [];

  /** Copies of `dir` into the empty folders `into` (at most one each), their moments drawn from `seed` and `key`. */
  constructor(dir: string, seed: number, key: string, into: readonly string[], maxCopies: number) {
    this.dir = dir;
    this.files = new FolderIndex(dir);
    this.configure(seed, key, into, maxCopies);
  }

  /**
   * Starts again as a new nemesis would, with these draws, folders and copies, keeping its replacements and what it
   * knows to be on disk: the harness installs an idle one beside every server with a data folder from its start (so
   * that a test with a nemesis costs the code's fs calls what any test does), and a test that wants one sets it so.
   */
  configure(seed: unknown, key: unknown, into: unknown, maxCopies: unknown): void {
    if (
      typeof seed !== 'number' ||
      typeof key !== 'string' ||
      !Array.isArray(into) ||
      !into.every((d) => typeof d === 'string') ||
      typeof maxCopies !== 'number'
    )
      throw new TypeError('configure(seed, key, into, maxCopies)');
    const rng = keyedRng(seed, key);
    this.rng = rng;
    this.into = into as string[];
    this.maxCopies = maxCopies;
    this.stopped = false;
    this.points.length = 0;
    this.counts.clear();
    this.probeCopies = 0;
    const draw = (kind: string, n: number, upTo: number) => {
      const s = new Set<number>();
      for (let i = 0; i < n; i++) s.add(rng.between(1, upTo));
      this.targets.set(kind, s);
    };
    draw('log write', 3, 30);
    draw('write to another file', 2, 6);
    draw('rename', rng.chance(0.7) ? 1 : 0, 3);
    draw('truncate', rng.chance(0.5) ? 1 : 0, 3);
    draw('probe reply', 2, 15);
  }

  /** Which of the folder's files each descriptor written to is. */
  private readonly files: FolderIndex;

  /** The name of the folder's file open as `fd`, or undefined. */
  private nameOfFd(fd: unknown): string | undefined {
    return this.copying ? undefined : this.files.nameOfFd(fd);
  }

  /** The name of the folder's file at path `p`, or undefined. */
  private nameOfPath(p: unknown): string | undefined {
    return this.copying ? undefined : this.files.nameOfPath(p);
  }

  private nameOf(target: unknown): string | undefined {
    if (typeof target === 'number') return this.nameOfFd(target);
    if (target !== null && typeof target === 'object' && typeof (target as { fd?: unknown }).fd === 'number')
      return this.nameOfFd((target as { fd: number }).fd);
    return this.nameOfPath(target);
  }

  /** Counts an event of `kind`; true when it is a target (and copies remain). */
  private due(kind: string): boolean {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    return this.room(kind) && (this.targets.get(kind)?.has(n) ?? false);
  }

  /**
   * Can a copy of `kind` still be taken? Power cuts at a probe's reply have two copies of their own, and the last
   * UNIT_RESERVE copies are kept for cuts inside a transaction or a multi-key DEL (`unit`), which come whenever the
   * workload writes one, often after the drawn targets have used the rest.
   */
  private room(kind: string, unit = false): boolean {
    if (kind === 'probe reply') return this.probeCopies < 2;
    const limit = this.maxCopies - (unit ? 0 : Math.min(UNIT_RESERVE, Math.max(0, this.maxCopies - 1)));
    return this.points.length - this.probeCopies < limit;
  }

  /** Copies the folder now into the next empty folder; undefined when none is left. */
  /**
   * Copies the folder now into the next empty folder; undefined when none is left. `since`: the moment the copy
   * stands for began earlier than the copy (a reply's write, which started then): `from` is that moment.
   */
  private copy(what: string, probeReply = false, since?: number): string | undefined {
    if (this.points.length >= this.into.length) return undefined;
    this.copying = true;
    try {
      const into = this.points.length;
      const from = since ?? monotonicMicros();
      copyFolder(this.dir, this.into[into]);
      this.points.push({ into, what, from, to: monotonicMicros(), probeReply });
      return this.into[into];
    } finally {
      this.copying = false;
    }
  }

  private beforeWrite(call: WriteCall | undefined, how: string): void {
    if (call === undefined) return;
    const kind = call.file === 'appendonly.aof' ? 'log write' : 'write to another file';
    // A write of two records or more (an EXEC's, a pipeline's, a multi-key DEL's) is torn more often, sometimes right
    // after one of them, most often inside a transaction or a multi-key DEL.
    const starts = call.data ? recordStarts(call.data) : [];
    const units = kind === 'log write' && starts.length >= 2 ? unitCuts(call.data!, starts) : [];
    const several =
      kind === 'log write' &&
      starts.length >= 2 &&
      this.rng.chance(units.length > 0 ? 0.6 : 0.25) &&
      this.room(kind, units.length > 0);
    if (!this.due(kind) && !several) return;
    const torn = call.data !== undefined && call.data.length > 1 && (several || this.rng.chance(0.5));
    const cut = !torn
      ? 0
      : several && units.length > 0 && this.rng.chance(0.8)
        ? this.rng.pick(units)
        : several && this.rng.chance(0.5)
          ? this.rng.pick(starts.slice(1))
          : this.rng.between(1, call.data!.length - 1);
    const to = this.copy(
      `${torn ? `a torn ${how} (${cut} of its ${call.data!.length} bytes written)` : `just before a ${how}`} to ${call.file}`,
    );
    if (to === undefined) return;
    const file = path.join(to, call.file);
    if (call.truncates) fs.writeFileSync(file, '');
    if (!torn) return;
    const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    try {
      fs.writeSync(fd, call.data!, 0, cut, call.position ?? fs.fstatSync(fd).size);
    } finally {
      fs.closeSync(fd);
    }
  }

  private wrap(
    owner: object,
    name: string,
    before: (self: unknown, args: unknown[]) => void,
    after?: () => void,
  ): void {
    const o = owner as Record<string, Fn>;
    const original = o[name];
    if (typeof original !== 'function') return;
    const stopped = (): boolean => this.stopped;
    o[name] = function (this: unknown, ...args: unknown[]) {
      if (stopped()) return original.apply(this, args);
      before(this, args);
      const result = original.apply(this, args);
      if (after) {
        if (result instanceof Promise) return result.then((v) => (after(), v));
        const cb = args[args.length - 1];
        if (typeof cb !== 'function') after();
      }
      return result;
    };
  }

  /** Installs the replacements, for the host's life (`stop` makes the nemesis idle). */
  async install(): Promise<void> {
    // What the folder holds already was written before this nemesis watched: it counts as on disk.
    for (const name of fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : []) {
      const st = fs.statSync(path.join(this.dir, name));
      if (st.isFile()) this.synced.set(`${st.dev}:${st.ino}`, st.size);
    }
    await routeFileHandles();
    const proto = FS_CALLS.fileHandle;
    this.watchSyncs(proto);
    const call = (
      target: unknown,
      data: Pick<WriteCall, 'data' | 'position'>,
      truncates = false,
    ): WriteCall | undefined => {
      const file = this.nameOf(target);
      return file === undefined ? undefined : { file, ...data, truncates };
    };
    const byFd = (_: unknown, a: unknown[]) => this.beforeWrite(call(a[0], fdWrite(a, 1)), 'write');
    const byHandle = (self: unknown, a: unknown[]) => this.beforeWrite(call(self, fdWrite(a, 0)), 'write');
    const whole = (flagDefault: string) => (_: unknown, a: unknown[]) => {
      const [target, data, options] = a;
      const enc = typeof options === 'string' ? options : (options as { encoding?: string } | undefined)?.encoding;
      const flag =
        (options !== null && typeof options === 'object' ? (options as { flag?: string }).flag : undefined) ??
        flagDefault;
      const byPath = typeof target === 'string' || target instanceof URL;
      this.beforeWrite(
        call(target, { data: asBuffer(data, enc), position: undefined }, byPath && flag.startsWith('w')),
        flagDefault === 'a' ? 'append' : 'write',
      );
    };
    const wholeHandle = (flagDefault: string) => (self: unknown, a: unknown[]) =>
      whole(flagDefault)(self, [self, ...a]);
    const copy = (_: unknown, a: unknown[]) =>
      this.beforeWrite(call(a[1], { data: undefined, position: undefined }, true), 'copy');
    const byKind: Record<FileWriteKind, (self: unknown, a: unknown[]) => void> = {
      fd: byFd,
      replace: whole('w'),
      append: whole('a'),
      handle: byHandle,
      'handle-replace': wholeHandle('w'),
      'handle-append': wholeHandle('a'),
      copy,
    };
    for (const table of ['fs', 'promises', 'fileHandle'] as const)
      for (const [name, kind] of Object.entries(FILE_WRITES[table])) this.wrap(FS_CALLS[table], name, byKind[kind]);
    this.watchTruncates(proto);
    this.watchRenames();
  }

  /** Truncates of the folder's files: a crash copy just before one drawn, and the log's cut for powerCutsAtSnapshot. */
  private watchTruncates(proto: Record<string, Fn>): void {
    let truncated: string | undefined;
    const truncate = (_: unknown, a: unknown[]) => {
      const file = this.nameOf(a[0]);
      truncated = file;
      if (file !== undefined && this.due('truncate')) this.copy(`just before ${file} was truncated`);
      const cb = a[a.length - 1];
      if (file === LOG && typeof cb === 'function')
        a[a.length - 1] = (err: unknown) => {
          if (!err) this.afterLogCut('truncated');
          (cb as Fn)(err);
        };
    };
    const afterTruncate = () => {
      if (truncated === LOG) this.afterLogCut('truncated');
      truncated = undefined;
    };
    this.wrap(FS_CALLS.fs, 'ftruncateSync', truncate, afterTruncate);
    this.wrap(FS_CALLS.fs, 'ftruncate', truncate);
    this.wrap(FS_CALLS.fs, 'truncateSync', truncate, afterTruncate);
    this.wrap(FS_CALLS.fs, 'truncate', truncate);
    this.wrap(proto, 'truncate', (self) => truncate(undefined, [self]), afterTruncate);
  }

  /** Renames into the folder: a crash copy just after one drawn, and the power cuts of powerCutsAtSnapshot. */
  private watchRenames(): void {
    let renamed: string | undefined;
    const noteRename = (_: unknown, a: unknown[]) => {
      renamed = this.nameOfPath(a[1]);
      const cb = a[2];
      if (typeof cb === 'function')
        a[2] = (err: unknown) => {
          if (!err) afterRename();
          (cb as Fn)(err);
        };
    };
    const afterRename = () => {
      const file = renamed;
      renamed = undefined;
      if (file === LOG) this.afterLogCut('replaced by a rename');
      else if (file !== undefined && this.snapshotCuts === 'rename') {
        this.snapshotCuts = 'log cut';
        this.powerCut(`just after ${file} was renamed into place`, false);
        return;
      }
      if (file !== undefined && this.due('rename')) this.copy(`just after a rename to ${file}`);
    };
    this.wrap(FS_CALLS.fs, 'renameSync', noteRename, afterRename);
    this.wrap(FS_CALLS.fs, 'rename', noteRename);
    this.wrap(FS_CALLS.promises, 'rename', noteRename, afterRename);
  }

  /** Bytes of each file (by identity) known to be on disk: its size when it was last fsynced. */
  private readonly synced = new Map<string, number>();

  private identity(fd: unknown): { id: string; size: number } | undefined {
    if (typeof fd !== 'number') return undefined;
    try {
      const st = fs.fstatSync(fd);
      return { id: `${st.dev}:${st.ino}`, size: st.size };
    } catch {
      return undefined;
    }
  }

  /** Watches every way Node forces a file to disk (as TestFsyncPolicy does), noting what each one made durable. */
  private watchSyncs(proto: Record<string, Fn>): void {
    const note = (f: { id: string; size: number } | undefined) => void (f && this.synced.set(f.id, f.size));
    for (const name of ['fsyncSync', 'fdatasyncSync']) {
      const o = FS_CALLS.fs;
      const original = o[name];
      o[name] = (fd: unknown) => {
        if (this.stopped) return original(fd);
        const f = this.identity(fd);
        const r = original(fd);
        note(f);
        return r;
      };
    }
    for (const name of ['fsync', 'fdatasync']) {
      const o = FS_CALLS.fs;
      const original = o[name];
      o[name] = (fd: unknown, cb: unknown) => {
        if (this.stopped) return original(fd, cb);
        const f = this.identity(fd);
        if (typeof cb !== 'function') return original(fd, cb);
        return original(fd, (err: unknown) => {
          if (!err) note(f);
          (cb as Fn)(err);
        });
      };
    }
    for (const name of ['sync', 'datasync']) {
      const o = proto;
      const original = o[name];
      const identity = (fd: number) => this.identity(fd);
      const stopped = () => this.stopped;
      o[name] = async function (this: { fd: number }) {
        if (stopped()) return original.call(this);
        const f = identity(this.fd);
        await original.call(this);
        note(f);
      };
    }
  }

  /** Just after each write by the server on `serverPort` to the probe's connection (from `probePort`): maybe a power cut. */
  watchProbe(serverPort: unknown, probePort: unknown): void {
    if (typeof serverPort !== 'number' || typeof probePort !== 'number')
      throw new TypeError('watchProbe(serverPort, probePort)');
    let writeStarted = 0;
    this.listeners.push(
      onSocketWrites({
        // The moment is read before the write: this process may be paused between the write and the copy, while
        // the harness gets the reply and sends the next SET, which must not count as acknowledged then.
        before: (ends) => {
          if (ends.localPort === serverPort && ends.remotePort === probePort) writeStarted = monotonicMicros();
        },
        after: (ends) => {
          if (ends.localPort === serverPort && ends.remotePort === probePort) this.atProbeReply(writeStarted);
        },
      }),
    );
  }

  /** The server wrote the reply to the probe's SET: sometimes a power cut now (each file keeps what was fsynced). */
  private atProbeReply(writeStarted: number): void {
    if (!this.due('probe reply')) return;
    this.probeCopies++;
    this.powerCut('just as the server wrote its reply to a SET probe:<n>', true, writeStarted);
  }

  /** Every file of the copy `to` keeps only what was fsynced: the log, and a snapshot renamed into place without an fsync alike. */
  private keepOnlySynced(to: string): void {
    for (const name of fs.readdirSync(to)) this.keepSynced(path.join(this.dir, name), path.join(to, name));
  }

  /**
   * From now on (once): a power cut just after the next rename of a file other than the log into the folder (a
   * snapshot put in place), and another just after the log is next cut, truncated or replaced by a rename.
   */
  powerCutsAtSnapshot(): void {
    this.snapshotCuts = 'rename';
  }

  /** The log was just truncated or replaced: the second power cut of powerCutsAtSnapshot, if it is due. */
  private afterLogCut(how: string): void {
    if (this.snapshotCuts !== 'log cut') return;
    this.snapshotCuts = undefined;
    this.powerCut(`just after ${LOG} was ${how}, once the snapshot was in place`, false);
  }

  /** A copy now, each file cut to what was fsynced: what a power cut leaves. */
  private powerCut(what: string, probeReply: boolean, since?: number): string | undefined {
    const to = this.copy(`a power cut ${what} (each file keeps only what was fsynced)`, probeReply, since);
    if (to !== undefined) this.keepOnlySynced(to);
    return to;
  }

  /** Cuts `copied` (a power cut's copy of `original`) to the bytes of `original` known to be on disk. */
  private keepSynced(original: string, copied: string): void {
    try {
      const st = fs.statSync(original);
      if (!st.isFile()) return;
      const keep = this.synced.get(`${st.dev}:${st.ino}`) ?? 0;
      if (fs.statSync(copied).size > keep) {
        this.copying = true;
        fs.truncateSync(copied, keep);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    } finally {
      this.copying = false;
    }
  }

  /**
   * Stops, once its folder's server is gone: no more copies or power cuts, and its replacements only pass each call
   * on. They stay for the host's life (one test), so that no replacement installed after them is ever unwound with
   * them; each data folder in use keeps one nemesis doing its whole work, in every test alike.
   */
  stop(): void {
    this.stopped = true;
    this.into = [];
    this.maxCopies = 0;
    this.snapshotCuts = undefined;
    while (this.listeners.length > 0) this.listeners.pop()!();
  }

  /** What happened on the disk (for the log), and the copies taken. */
  report(): Plain {
    return {
      summary: [...this.counts].map(([k, n]) => `${n} ${k}(s)`).join(', ') || 'no writes',
      points: this.points.map((p) => ({ ...p })),
    };
  }

  /** A copy taken now (the crash after the last acknowledgement). */
  copyNow(what: unknown): void {
    this.copy(String(what));
  }
}
