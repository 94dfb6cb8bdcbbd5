/**
 * Lab 5's tester: starts the student's servers and clients in a process of their own (the student host, or a
 * child process per server for kill -9), talks to them over raw sockets, and cleans every server, socket, process
 * and folder up at the end of a test, whether it passed or not. This process never loads the code under test.
 */
import { trimStack } from '../../labrpc/stack';
import { spawnKitScript, type KitProcess } from '../../suite/spawn';
import { within } from '../../suite/within';
import fs from 'node:fs'; // the module itself, not a namespace copy: the sync spies replace its functions
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import sinon from 'sinon';
import { encodeCommand, ReplyParser, RespError, RespReply } from '../resp';
import { bounded, check, TestFailure, type Transcript } from '../../suite';
import { isolatedLoader } from '../../suite/loader';
import type {
  ClientOptions,
  ConsistentRing,
  KVClient,
  RunningServer,
  ServerAddress,
  ServerOptions,
  StartServer,
} from '../types';
import { HostLink } from './host-link';
import { localCode } from './local-code';
import { HostedCode, type RemoteClient, type StudentCode } from './remote';

/** What the tests get for the code under test: only its folder; each test's Resources start a host that loads it. */
export interface Lab5Code {
  /** The folder the files came from (the student host and the child processes load the code from it). */
  readonly dir: string;
}

/** Lab 5's code loaded in a process (the student host's, the tools'). */
export interface Lab5Impl {
  /** The folder the files came from (child processes load the server from it). */
  dir: string;
  startServer: StartServer;
  ShardedClient: new (servers: readonly ServerAddress[], options?: ClientOptions) => KVClient;
  md5Shard: (key: string, servers: number) => number;
  HashRing: new (nodes?: readonly number[], vnodes?: number) => ConsistentRing;
}

/** A reply, printed the way redis-cli would. */
export function show(r: RespReply | undefined): string {
  if (r === undefined) return '(no reply)';
  if (r === null) return '(nil)';
  if (r instanceof RespError) return `(error) ${r.message}`;
  if (typeof r === 'number') return `(integer) ${r}`;
  if (Array.isArray(r)) return `[${r.map(show).join(', ')}]`;
  return JSON.stringify(r.length > 200 ? `${r.slice(0, 200)}...` : r);
}

/** What a test's clients report as they talk: operations for the #Ops column, and the failing run's transcript. */
export interface Observer {
  /** Counts one operation (a reply received, a client call settled). */
  countOps(n?: number): void;
  /** The real-time transcript, when the run keeps one. */
  readonly transcript: Transcript | undefined;
}

/** An observer that notes nothing (a client made outside a test). */
const UNOBSERVED: Observer = { countOps: () => undefined, transcript: undefined };

/** A plain RESP connection, as a test's own client: sends commands, reads replies, sees the connection close. */
export class RawClient {
  readonly socket: net.Socket;
  private readonly observer: Observer;
  private readonly lane: string;
  private readonly server: string;
  private readonly parser: ReplyParser;
  /** Transcript ids of the commands sent and not yet answered, oldest first (RESP answers in order). */
  private readonly pending: number[] = [];
  private readonly replies: RespReply[] = [];
  private waiter: (() => void) | undefined;
  /** True once the server closed the connection (or it broke). */
  closed = false;
  /** Resolves when the connection closes. */
  readonly whenClosed: Promise<void>;

  /**
   * `encoding` decodes bulk replies: 'utf8' for text, 'latin1' for byte strings (one character per byte). The
   * observer counts each reply and keeps the transcript on the lane `lane` (the connection) towards `server`.
   */
  constructor(
    socket: net.Socket,
    encoding: BufferEncoding = 'utf8',
    observer: Observer = UNOBSERVED,
    lane = 'connection',
    server = 'server',
  ) {
    this.socket = socket;
    this.observer = observer;
    this.lane = lane;
    this.server = server;
    this.parser = new ReplyParser(encoding);
    socket.setNoDelay(true);
    this.whenClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk) => {
      this.parser.push(chunk);
      try {
        for (let r = this.parser.next(); r !== undefined; r = this.parser.next()) this.received(r);
      } catch {
        observer.transcript?.note(lane, 'the server sent bytes that are not RESP: the connection is treated as broken');
        socket.destroy(); // not RESP: treat it as a broken connection
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      observer.transcript?.note(lane, 'connection closed');
      this.wake();
    });
  }

  /** One reply arrived: counted, matched with its command in the transcript, kept for the test. */
  private received(r: RespReply): void {
    this.observer.countOps();
    const t = this.observer.transcript;
    const id = this.pending.shift();
    if (t && id !== undefined) t.replied(id, r instanceof RespError ? { error: r.message } : r);
    else t?.note(this.lane, `reply: ${show(bounded(r) as RespReply)}`);
    this.replies.push(r);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Replies received and not yet taken. */
  get buffered(): number {
    return this.replies.length;
  }

  /** Sends bytes as they are. */
  sendRaw(data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.observer.transcript?.note(
      this.lane,
      `sent ${bytes.length} bytes as they are: ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}`,
    );
    this.write(bytes);
  }

  /** Sends one command without waiting. */
  send(...args: Array<string | number | Buffer>): void {
    const t = this.observer.transcript;
    if (t) this.pending.push(t.command(this.lane, this.server, String(args[0]).toUpperCase(), args.slice(1)));
    this.write(encodeCommand(args));
  }

  private write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The next reply; fails the test if none comes within `ms` or the connection closes first. */
  async reply(what: string, ms = 3000): Promise<RespReply> {
    const r = await this.replyOrClose(ms);
    if (r === 'closed') throw new TestFailure(`The server closed the connection instead of replying to ${what}.`);
    if (r === 'timeout') throw new TestFailure(`No reply to ${what} within ${ms} ms.`);
    return r.reply;
  }

  /** The next reply, or 'closed', or 'timeout' after `ms`. */
  async replyOrClose(ms: number): Promise<{ reply: RespReply } | 'closed' | 'timeout'> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.replies.length > 0) return { reply: this.replies.shift()! };
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Sends a command and returns its reply. */
  async call(...args: Array<string | number | Buffer>): Promise<RespReply> {
    this.send(...args);
    return this.reply(describe(args));
  }

  /** Sends a command and fails unless the reply equals `want` (deep equality; errors compared by prefix). */
  async expect(args: Array<string | number>, want: RespReply, why = ''): Promise<void> {
    const got = await this.call(...args);
    check(same(got, want), `${describe(args)} replied ${show(got)}; expected ${show(want)}${why ? ` (${why})` : ''}.`);
  }

  /** Sends a command and fails unless the reply is an error starting with `prefix`. */
  async expectError(args: Array<string | number>, prefix: string, why: string): Promise<RespError> {
    const got = await this.call(...args);
    check(
      got instanceof RespError && got.message.startsWith(prefix),
      `${describe(args)} replied ${show(got)}; expected an error reply starting with "${prefix}" (${why}).`,
    );
    return got as RespError;
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}

/** Replies equal? An expected RespError matches any error whose message starts with its message. */
export function same(got: RespReply, want: RespReply): boolean {
  if (want instanceof RespError) return got instanceof RespError && got.message.startsWith(want.message);
  if (Array.isArray(want))
    return Array.isArray(got) && got.length === want.length && want.every((w, i) => same(got[i], w));
  return got === want;
}

/** A command as a student would type it, for messages. */
export function describe(args: ReadonlyArray<string | number | Buffer>): string {
  const words = args.map((a) => {
    const s = Buffer.isBuffer(a) ? `<${a.length} bytes>` : String(a);
    return /^[\w:.*?[\]^-]+$/.test(s) ? s : JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
  });
  return words.join(' ');
}

/** A server running in a child process (for kill -9). */
export interface ServerProcess {
  readonly port: number;
  readonly child: KitProcess;
  /** Kills it with SIGKILL and waits until it is gone. */
  kill9(): Promise<void>;
}

/** Everything one test started, so that it can all be stopped at the end. */
/** Where a test runs the code under test: a student host (every test but a few), or this process (see common.ts). */
export type CodePlace = 'host' | 'harness';

export class Resources {
  private readonly impl: Lab5Code;
  private readonly place: CodePlace;
  private readonly observer: Observer;
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private connections = 0;
  private clients = 0;
  private host: Promise<StudentCode> | undefined;
  private breakWith: ((e: unknown) => void) | undefined;
  /** Rejects when the student host dies or misbehaves (never resolves): the test fails with why. */
  readonly broken: Promise<never>;

  /** `observer`: the test's context, which counts operations and keeps the transcript. */
  constructor(impl: Lab5Code, observer: Observer = UNOBSERVED, place: CodePlace = 'host') {
    this.impl = impl;
    this.observer = observer;
    this.place = place;
    this.broken = new Promise<never>((_, reject) => (this.breakWith = reject));
    this.broken.catch(() => undefined);
  }

  /** The code under test, in this test's student host (started at the first call, ended at cleanup). */
  student(): Promise<StudentCode> {
    if (this.place === 'harness') return (this.host ??= Promise.resolve().then(() => localCode(this.impl.dir)));
    this.host ??= HostLink.start(this.impl.dir, isolatedLoader()).then((link) => {
      this.defer(() => link.close());
      link.broken.catch((e: unknown) => this.breakWith?.(e));
      return new HostedCode(link);
    });
    return this.host;
  }

  /** Runs `fn` at cleanup (last registered runs first). */
  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Stops everything; errors during cleanup are ignored. */
  async cleanup(): Promise<void> {
    while (this.cleanups.length > 0) {
      const fn = this.cleanups.pop()!;
      try {
        await within(Promise.resolve().then(fn), 5000, () => `cleanup took more than 5000 ms.`);
      } catch {
        // keep cleaning
      }
    }
  }

  /** A new empty folder under the system's temporary folder, removed at the end. */
  tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-lab5-'));
    this.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Starts the student's server in the student host; it is closed at the end unless already closed. */
  async server(options: ServerOptions = {}): Promise<RunningServer> {
    const code = await this.student();
    const s = await within(
      code.startServer({ port: 0, ...options }),
      5000,
      () => `startServer(${JSON.stringify(options)}) took more than 5000 ms.`,
    );
    check(
      typeof s?.port === 'number' && s.port > 0,
      `startServer resolved to ${JSON.stringify(s)}; expected an object with the listening port.`,
    );
    let closed = false;
    const close = s.close.bind(s);
    const wrapped: RunningServer = {
      port: s.port,
      host: s.host,
      close: async () => {
        if (closed) return;
        closed = true;
        await within(close(), 5000, () => `close() of the server on port ${s.port} took more than 5000 ms.`);
      },
    };
    this.defer(() => wrapped.close());
    return wrapped;
  }

  /** Connects a raw client to a port; with 'latin1', bulk replies are byte strings (see RawClient). */
  async connect(port: number, encoding: BufferEncoding = 'utf8'): Promise<RawClient> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    this.defer(() => void socket.destroy());
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', (err) =>
          reject(new TestFailure(`Could not connect to the server on port ${port}: ${err.message}.`)),
        );
      }),
      3000,
      () => `connecting to port ${port} took more than 3000 ms.`,
    );
    return new RawClient(socket, encoding, this.observer, `connection ${++this.connections}`, `server :${port}`);
  }

  /** The student's client on these servers (in the student host), closed at the end; each call is counted and transcribed. */
  async client(servers: readonly ServerAddress[], options?: ClientOptions): Promise<RemoteClient> {
    const c = await (await this.student()).shardedClient(servers, options);
    this.defer(() => c.close());
    return observed(c, this.observer, `ShardedClient ${++this.clients}`, servers.map((s) => `:${s.port}`).join(' '));
  }

  /** Watches syncs of the files in `dir` and writes by the server on `serverPort`, until the test ends. */
  async watchSyncs(dir: string, serverPort: number): Promise<SyncWatch> {
    const watch = new SyncWatch(dir, serverPort);
    await watch.start();
    this.defer(() => watch.stop());
    return watch;
  }

  /** Takes CrashCopies of `dir` (copies go to new temporary folders) until the test ends. */
  async crashCopies(dir: string): Promise<CrashCopies> {
    const copies = new CrashCopies(dir, () => this.tempDir());
    await copies.start();
    this.defer(() => copies.stop());
    return copies;
  }

  /** Starts the student's server in a child process (through the grader when grading) and waits until it listens. */
  async serverProcess(options: ServerOptions): Promise<ServerProcess> {
    const script = path.join(__dirname, 'child-server.ts');
    const child = spawnKitScript(script, [this.impl.dir, JSON.stringify({ port: 0, ...options })]);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.defer(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /LAB5-READY (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => {
          const text = trimStack(err || out).trim();
          reject(new TestFailure(`The server process exited (code ${code}) before listening:\n${text.slice(-2000)}`));
        });
      }),
      20_000,
      () => `starting the server in a child process took more than 20000 ms.`,
    );
    return {
      port,
      child,
      kill9: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }
}

/** Something the sync spies saw: a finished fsync/fdatasync (of the file with `file` identity), or a socket write. */
type Seen =
  | { readonly kind: 'sync'; readonly file: string | undefined }
  | { readonly kind: 'write'; readonly socket: net.Socket };

/** The process-wide spies, shared by every SyncWatch (tests may run side by side), and the events' order. */
const spies = { box: undefined as sinon.SinonSandbox | undefined, watches: new Set<SyncWatch>(), seq: 0 };

/** A file's identity (device and inode), or undefined for a descriptor that is not open. */
function fileIdentity(fd: number): string | undefined {
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** Tells every watch what happened, numbered in the order it happened. */
function emit(seen: Seen): void {
  const seq = ++spies.seq;
  for (const w of spies.watches) w.see(seen, seq);
}

/**
 * Spies (sinon) on every way Node forces a file to disk — fs.fsync, fs.fsyncSync, fs.fdatasync,
 * fs.fdatasyncSync, FileHandle.sync and FileHandle.datasync — noting each when it has finished, and on
 * socket writes, noting each when it starts. Code that calls them through the fs module is seen.
 */
function installSpies(handleProto: Pick<fs.promises.FileHandle, 'sync' | 'datasync'>): sinon.SinonSandbox {
  const box = sinon.createSandbox();
  for (const name of ['fsyncSync', 'fdatasyncSync'] as const) {
    const original = fs[name];
    box.stub(fs, name).callsFake((fd: number) => {
      const file = fileIdentity(fd);
      original(fd);
      emit({ kind: 'sync', file });
    });
  }
  for (const name of ['fsync', 'fdatasync'] as const) {
    const original = fs[name];
    box.stub(fs, name).callsFake((fd: number, callback: fs.NoParamCallback) => {
      const file = fileIdentity(fd);
      if (typeof callback !== 'function') return original(fd, callback);
      original(fd, (err) => {
        if (!err) emit({ kind: 'sync', file });
        callback(err);
      });
    });
  }
  for (const name of ['sync', 'datasync'] as const) {
    const original = handleProto[name];
    box.stub(handleProto, name).callsFake(async function (this: fs.promises.FileHandle) {
      const file = fileIdentity(this.fd);
      await original.call(this);
      emit({ kind: 'sync', file });
    });
  }
  const write = net.Socket.prototype.write;
  box.stub(net.Socket.prototype, 'write').callsFake(function (this: net.Socket, ...args: unknown[]) {
    emit({ kind: 'write', socket: this });
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  });
  return box;
}

/**
 * What one test sees, in one order: syncs of the files in a data folder (or of the folder itself), and writes
 * by a server's side of its connections (its replies). Compare sequence numbers with `now()`.
 */
export class SyncWatch {
  readonly dir: string;
  readonly serverPort: number;

  /** Sequence numbers of finished syncs of the folder's files. */
  readonly syncs: number[] = [];
  /** Sequence numbers of writes by the server's sockets. */
  readonly replies: number[] = [];

  constructor(dir: string, serverPort: number) {
    this.dir = dir;
    this.serverPort = serverPort;
  }

  /** The sequence number of the latest event: "now", for before and after. */
  now(): number {
    return spies.seq;
  }

  /** Finished syncs of the folder's files after `seq`. */
  syncsAfter(seq: number): number[] {
    return this.syncs.filter((s) => s > seq);
  }

  /** Starts watching (installs the spies if no other watch has). */
  async start(): Promise<void> {
    const handle = await fs.promises.open(__filename, 'r'); // FileHandle's prototype is reachable only through a handle
    const proto = Object.getPrototypeOf(handle) as Pick<fs.promises.FileHandle, 'sync' | 'datasync'>;
    await handle.close();
    spies.box ??= installSpies(proto);
    spies.watches.add(this);
  }

  /** Stops watching (removes the spies when no other watch is left). */
  stop(): void {
    spies.watches.delete(this);
    if (spies.watches.size > 0 || !spies.box) return;
    spies.box.restore();
    spies.box = undefined;
  }

  /** Notes an event that concerns this watch. */
  see(seen: Seen, seq: number): void {
    if (seen.kind === 'write') {
      if (seen.socket.localPort === this.serverPort) this.replies.push(seq);
    } else if (seen.file !== undefined && this.holds(seen.file)) {
      this.syncs.push(seq);
    }
  }

  private holds(file: string): boolean {
    const paths = [this.dir];
    try {
      for (const name of fs.readdirSync(this.dir)) paths.push(path.join(this.dir, name));
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

/** `client` with each method call counted when it settles and transcribed on `lane` (towards `servers`). */
function observed(client: RemoteClient, observer: Observer, lane: string, servers: string): RemoteClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close' || typeof prop === 'symbol') return value;
      return (...args: unknown[]) => {
        const t = observer.transcript;
        const id = t?.command(lane, servers, prop, args);
        const settled = (outcome: unknown) => {
          observer.countOps();
          if (t && id !== undefined) t.replied(id, outcome);
        };
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise)
          return result.then(
            (v: unknown) => {
              settled(v);
              return v;
            },
            (e: unknown) => {
              settled({ error: e instanceof Error ? e.message : String(e) });
              throw e;
            },
          );
        settled(result);
        return result;
      };
    },
  });
}

/** Runs `body` with fresh Resources and always cleans up; a student host that breaks fails it at once. */
export async function withResources(
  impl: Lab5Code,
  body: (res: Resources) => Promise<void>,
  observer: Observer = UNOBSERVED,
  place: CodePlace = 'host',
): Promise<void> {
  const res = new Resources(impl, observer, place);
  try {
    await Promise.race([body(res), res.broken]);
  } finally {
    await res.cleanup();
  }
}

/** Total size of the files in a folder, bytes. */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    const st = fs.statSync(path.join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

/**
 * Copies of a data folder taken at two moments of a snapshot by a server running in this process: what
 * `kill -9` would leave on disk at that instant. Spies (sinon) on the ways Node writes and renames files:
 *  - `beforeWrite`: just before the first write to a file of the folder other than the log once armed (the log
 *    is appendonly.aof, and appendonly.aof.* written aside to replace it)
 *    (a file opened by path for the write is left empty in the copy, as right after its open truncated it);
 *  - `afterRename`: just after the first rename into the folder once armed (not of the log).
 * Before arming, it counts those writes and renames, so a test can wait for a first snapshot.
 * With `diskFull` set, those writes fail as on a full disk (ENOSPC: thrown, passed to the callback, or a
 * rejected promise, as the call reports errors); `atSnapshotWrite` and `atRename` are called at each one.
 */
export class CrashCopies {
  readonly dir: string;
  private readonly newDir: () => string;
  beforeWrite: string | undefined;
  afterRename: string | undefined;
  /** Writes to files other than the log, and renames into the folder, seen so far. */
  snapshotWrites = 0;
  renames = 0;
  /** When true, writes to files other than the log fail with ENOSPC. */
  diskFull = false;
  /** Writes refused because of `diskFull`. */
  refusedWrites = 0;
  atSnapshotWrite: (() => void) | undefined;
  atRename: (() => void) | undefined;
  private armed = false;
  private copying = false;
  private readonly box = sinon.createSandbox();

  constructor(dir: string, newDir: () => string) {
    this.dir = dir;
    this.newDir = newDir;
  }

  /** From now on, take the copies. */
  arm(): void {
    this.armed = true;
  }

  /** Installs the spies; `stop()` removes them. */
  async start(): Promise<void> {
    const handle = await fs.promises.open(__filename, 'r'); // FileHandle's prototype is reachable only through a handle
    const proto = Object.getPrototypeOf(handle) as fs.promises.FileHandle;
    await handle.close();
    type Fn = (...args: unknown[]) => unknown;
    const wrap = <T extends object>(
      owner: T,
      name: string,
      before: (self: unknown, args: unknown[]) => Error | void,
      after?: (args: unknown[]) => void,
    ): void => {
      const original = (owner as Record<string, Fn>)[name];
      if (typeof original !== 'function') return;
      const promises = owner === (fs.promises as object) || owner === (proto as object);
      this.box.replace(owner as Record<string, Fn>, name, function (this: unknown, ...args: unknown[]) {
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
      });
    };
    const byFd = (_self: unknown, args: unknown[]): Error | void =>
      this.onWrite(typeof args[0] === 'number' ? this.nameOfFd(args[0]) : undefined, false);
    const byPathOrFd = (_self: unknown, args: unknown[]): Error | void => {
      const [target, , options] = args;
      const flag = typeof options === 'object' && options !== null ? (options as { flag?: string }).flag : undefined;
      if (typeof target === 'number') return this.onWrite(this.nameOfFd(target), false);
      if (typeof target === 'string' || target instanceof URL)
        return this.onWrite(
          this.nameOfPath(String(target instanceof URL ? target.pathname : target)),
          !flag || flag.startsWith('w'),
        );
      if (target && typeof (target as { fd?: unknown }).fd === 'number')
        return this.onWrite(this.nameOfFd((target as { fd: number }).fd), false);
    };
    const byHandle = (self: unknown): Error | void =>
      this.onWrite(this.nameOfFd((self as fs.promises.FileHandle).fd), false);
    wrap(fs, 'writeSync', byFd);
    wrap(fs, 'write', byFd);
    wrap(fs, 'writevSync', byFd);
    wrap(fs, 'writev', byFd);
    wrap(fs, 'writeFileSync', byPathOrFd);
    wrap(fs, 'writeFile', byPathOrFd);
    wrap(fs.promises, 'writeFile', byPathOrFd);
    wrap(proto, 'write', byHandle);
    wrap(proto, 'writeFile', byHandle);
    const renamed = (args: unknown[]): void => this.onRename(this.nameOfPath(String(args[1])));
    const renameCallback = (_self: unknown, args: unknown[]): void => {
      const cb = args[2];
      if (typeof cb === 'function') args[2] = (err: unknown) => (err ? undefined : renamed(args), (cb as Fn)(err));
    };
    wrap(fs, 'renameSync', () => undefined, renamed);
    wrap(fs, 'rename', renameCallback);
    wrap(fs.promises, 'rename', () => undefined, renamed);
  }

  /** Removes the spies. */
  stop(): void {
    this.box.restore();
  }

  /** The name of a file of the folder open as `fd`, or undefined. */
  private nameOfFd(fd: number): string | undefined {
    if (this.copying) return undefined;
    const id = fileIdentity(fd);
    if (id === undefined) return undefined;
    try {
      for (const name of fs.readdirSync(this.dir)) {
        const st = fs.statSync(path.join(this.dir, name), { bigint: true });
        if (`${st.dev}:${st.ino}` === id) return name;
      }
    } catch {
      // the folder is gone
    }
    return undefined;
  }

  /** The name of a path in the folder, or undefined. */
  private nameOfPath(p: string): string | undefined {
    if (this.copying) return undefined;
    const full = path.resolve(p);
    return path.dirname(full) === path.resolve(this.dir) ? path.basename(full) : undefined;
  }

  /** Notes a write to the file `name` of the folder; returns the error to fail it with when the disk is full. */
  private onWrite(name: string | undefined, truncates: boolean): Error | void {
    if (name === undefined || isLogFile(name)) return;
    this.atSnapshotWrite?.();
    if (this.diskFull) {
      this.refusedWrites++;
      return Object.assign(new Error(`ENOSPC: no space left on device, write (${name})`), {
        code: 'ENOSPC',
        errno: -28,
        syscall: 'write',
      });
    }
    this.snapshotWrites++;
    if (!this.armed || this.beforeWrite !== undefined) return;
    this.beforeWrite = this.copy();
    if (truncates) fs.writeFileSync(path.join(this.beforeWrite, name), '');
  }

  private onRename(name: string | undefined): void {
    if (name === undefined || isLogFile(name)) return;
    this.renames++;
    this.atRename?.();
    if (this.armed && this.afterRename === undefined) this.afterRename = this.copy();
  }

  private copy(): string {
    this.copying = true;
    try {
      const to = this.newDir();
      fs.cpSync(this.dir, to, { recursive: true });
      return to;
    } finally {
      this.copying = false;
    }
  }
}
