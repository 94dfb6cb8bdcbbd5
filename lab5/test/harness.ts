/**
 * Lab 5's tester: starts the student's servers and clients in a process of their own (the student host, or a
 * child process per server for kill -9), talks to them over raw sockets, and cleans every server, socket, process
 * and folder up at the end of a test, whether it passed or not. This process never loads the code under test.
 */
import { trimStack } from '../../labrpc/stack';
import { spawnKitScript, type KitProcess, type ProcessWeight } from '../../suite/spawn';
import { readyNonce, readyPort } from '../../suite/kit-script';
import { within } from '../../suite/within';
import fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeCommand, ReplyParser, RespError, RespReply } from '../resp';
import { bounded, check, TestFailure, type Transcript } from '../../suite';
import { isolatedLoader } from '../../suite/loader';
import { Fifo } from '../../suite/fifo';
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
import { CHILD_READY_PREFIX, isRecord } from './host-protocol';
import { HostedCode, type RemoteClient, type StudentCode } from './remote';
import { RemoteCrashCopies, RemoteDiskNemesis, RemoteSyncWatch } from './spy-views';
import { brandHarness } from '../../world/brand';

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
  private readonly pending = new Fifo<number>();
  private readonly replies = new Fifo<RespReply>();
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

  /** Sends several commands in one write (one packet on the loopback, as a pipelining client sends them). */
  sendAll(commands: ReadonlyArray<ReadonlyArray<string | number | Buffer>>): void {
    const t = this.observer.transcript;
    if (t)
      for (const args of commands)
        this.pending.push(t.command(this.lane, this.server, String(args[0]).toUpperCase(), args.slice(1)));
    this.write(Buffer.concat(commands.map((args) => encodeCommand([...args]))));
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
      if (this.replies.length > 0) return { reply: this.replies.shift() as RespReply };
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

/** A reference the host gave back for an object it keeps: a positive integer. */
function refOf(v: unknown, what: string): number {
  const ref = isRecord(v) ? v.ref : undefined;
  if (typeof ref !== 'number' || !Number.isInteger(ref) || ref <= 0)
    throw new TestFailure(`${what}: the process running your code answered ${JSON.stringify(v)?.slice(0, 200)}.`);
  return ref;
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` (asked once; refused, or no answer in 1 s, is no). */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (accepted: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Everything one test started, so that it can all be stopped at the end. */
export class Resources {
  private readonly impl: Lab5Code;
  private readonly observer: Observer;
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private connections = 0;
  private clients = 0;
  /** The ports of this test's servers not closed yet. */
  private readonly openPorts = new Set<number>();
  /**
   * The sync watch of each server started with a data folder, by its port. Every such server is watched from before
   * it starts, in every test, whether or not the test judges its syncs: the code under test cannot tell a test that
   * judges them by the cost of its fs calls (a server that fsynced only when its fsyncs seemed watched passed).
   */
  private readonly syncWatches = new Map<number, { readonly dir: string; readonly watch: RemoteSyncWatch }>();
  /** The disk nemesis of each data folder (by its resolved path): idle from the first server on it, unless a test set it. */
  private readonly diskNemeses = new Map<string, number>();
  private host: Promise<HostLink> | undefined;
  private code: Promise<StudentCode> | undefined;
  private breakWith: ((e: unknown) => void) | undefined;
  /** Rejects when the student host dies or misbehaves (never resolves): the test fails with why. */
  readonly broken: Promise<never>;

  /** `observer`: the test's context, which counts operations and keeps the transcript. */
  constructor(impl: Lab5Code, observer: Observer = UNOBSERVED) {
    this.impl = impl;
    this.observer = observer;
    this.broken = new Promise<never>((_, reject) => (this.breakWith = reject));
    this.broken.catch(() => undefined);
  }

  /** This test's student host (started at the first call, ended at cleanup), the code under test not yet loaded. */
  private link(): Promise<HostLink> {
    this.host ??= HostLink.start(this.impl.dir, isolatedLoader()).then((link) => {
      this.defer(() => link.close());
      link.broken.catch((e: unknown) => this.breakWith?.(e));
      return link;
    });
    return this.host;
  }

  /** The code under test, loaded in this test's student host (after any spies installed before). */
  student(): Promise<StudentCode> {
    this.code ??= this.link().then(async (link) => {
      await link.load();
      return new HostedCode(link);
    });
    return this.code;
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
    const dataDir = typeof options.dataDir === 'string' ? options.dataDir : undefined;
    const watch = dataDir === undefined ? undefined : await this.startSyncWatch(dataDir, 0);
    if (dataDir !== undefined && !this.diskNemeses.has(path.resolve(dataDir)))
      await this.diskNemesis(dataDir, 0, 'idle', 0, 0);
    const s = await within(
      code.startServer({ port: 0, ...options }),
      5000,
      () => `startServer(${JSON.stringify(options)}) took more than 5000 ms.`,
    );
    check(
      typeof s?.port === 'number' && s.port > 0,
      `startServer resolved to ${JSON.stringify(s)}; expected an object with the listening port.`,
    );
    // A port another server of this test still listens on cannot be a new server's: two servers never share one.
    check(
      !this.openPorts.has(s.port),
      `startServer(${JSON.stringify(options)}) resolved to port ${s.port}, where a server this test started earlier ` +
        'still listens. Expected each startServer call to start a server of its own, listening on a port of its own. ' +
        'Likely causes: a server object kept at the module level and handed out again, or a port read from the data ' +
        'folder instead of the one the new server listens on.',
    );
    this.openPorts.add(s.port);
    if (watch && dataDir !== undefined) {
      await watch.setServerPort(s.port);
      this.syncWatches.set(s.port, { dir: dataDir, watch });
    }
    let closed = false;
    const close = s.close.bind(s);
    const wrapped: RunningServer = {
      port: s.port,
      host: s.host,
      close: async () => {
        if (closed) return;
        closed = true;
        this.openPorts.delete(s.port);
        await within(close(), 5000, () => `close() of the server on port ${s.port} took more than 5000 ms.`);
        // Its watch ends with it, so that the servers after it are watched exactly as a test's first one is.
        if (this.syncWatches.get(s.port)?.watch === watch) {
          this.syncWatches.delete(s.port);
          await watch?.stop().catch(() => undefined);
        }
        check(
          !(await acceptsConnections(s.port)),
          `close() of the server on port ${s.port} resolved, but the port still accepts connections. Expected close() ` +
            'to stop listening (server.close()) and end every connection before it resolves. Likely causes: close() ' +
            'resolving before the listener closed, or a listener left open on purpose.',
        );
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

  /**
   * Watches, in the student host, syncs of the files in `dir` and writes by the server on `serverPort`, until the test
   * ends: the watch that server has had since it started, if it was started with `dir` as its data folder.
   */
  async watchSyncs(dir: string, serverPort: number): Promise<RemoteSyncWatch> {
    const known = this.syncWatches.get(serverPort);
    if (known && path.resolve(known.dir) === path.resolve(dir)) return known.watch;
    return this.startSyncWatch(dir, serverPort);
  }

  /** A new sync watch in the student host (`serverPort` 0: named later, with setServerPort), stopped at the end. */
  private async startSyncWatch(dir: string, serverPort: number): Promise<RemoteSyncWatch> {
    const link = await this.link();
    const v = await link.request({ op: 'watch-syncs', dir, serverPort }, 'starting the sync spies');
    const watch = new RemoteSyncWatch(link, refOf(v, 'starting the sync spies'));
    this.defer(() => watch.stop());
    return watch;
  }

  /** Takes crash copies of `dir` in the student host (into two new temporary folders) until the test ends. */
  async crashCopies(dir: string): Promise<RemoteCrashCopies> {
    const link = await this.link();
    const into: [string, string] = [this.tempDir(), this.tempDir()];
    const v = await link.request({ op: 'crash-copies', dir, into }, 'starting the crash copies');
    const copies = new RemoteCrashCopies(link, refOf(v, 'starting the crash copies'), into);
    this.defer(() => copies.stop());
    return copies;
  }

  /**
   * TestNemesisRedis's disk nemesis on `dir` in the student host, its draws keyed by `seed` and `key`, at most
   * `maxCopies` copies at writes (and `folders` in all, each into a new temporary folder), until the test ends.
   */
  async diskNemesis(
    dir: string,
    seed: number,
    key: string,
    maxCopies: number,
    folders: number,
  ): Promise<RemoteDiskNemesis> {
    const link = await this.link();
    const into = Array.from({ length: folders }, () => this.tempDir());
    const known = this.diskNemeses.get(path.resolve(dir));
    if (known !== undefined) {
      // The folder's idle nemesis, there since its first server started: set as asked, its wrappers unchanged.
      await link.request(
        { op: 'call', ref: known, method: 'configure', args: [seed, key, into, maxCopies] },
        'setting the disk nemesis',
      );
      return new RemoteDiskNemesis(link, known, into);
    }
    const v = await link.request({ op: 'disk-nemesis', dir, seed, key, into, maxCopies }, 'starting the disk nemesis');
    const ref = refOf(v, 'starting the disk nemesis');
    this.diskNemeses.set(path.resolve(dir), ref);
    const disk = new RemoteDiskNemesis(link, ref, into);
    this.defer(() => disk.stop());
    return disk;
  }

  /**
   * The data folder `dir` as `kill -9` would leave it right now: copied by the student host between two steps of
   * its server (the server is never told, so nothing is flushed or snapshotted for the occasion), into a new
   * temporary folder, which is returned.
   */
  async crashCopy(dir: string): Promise<string> {
    const into = this.tempDir();
    await (await this.link()).request({ op: 'copy-folder', dir, into }, 'a crash copy of the data folder');
    return into;
  }

  /** The student host's live memory after full collections (heap and external), bytes. */
  async weighHost(): Promise<number> {
    const v = await (await this.link()).request({ op: 'weigh-heap' }, 'weighing the heap');
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new TestFailure(`Weighing the heap: the process running your code answered ${JSON.stringify(v)}.`);
    return v;
  }

  /** How many timers your code set in the student host are live now (set, and neither fired nor cleared). */
  async liveTimers(): Promise<number> {
    return (await this.liveTimerDelays()).length;
  }

  /** The delay of each timer your code set in the student host that is live now (an interval's period), ms. */
  async liveTimerDelays(): Promise<number[]> {
    const v = await (await this.link()).request({ op: 'live-timers' }, 'listing live timers');
    if (!Array.isArray(v) || !v.every((d): d is number => typeof d === 'number' && Number.isFinite(d) && d >= 0))
      throw new TestFailure(`Listing live timers: the process running your code answered ${JSON.stringify(v)}.`);
    return v;
  }

  /** The student host's weight from outside: resident memory and descriptors (/proc), or undefined where unreadable. */
  async hostWeight(): Promise<ProcessWeight | undefined> {
    return (await this.link()).processWeight();
  }

  /** The student host's resident memory as the kernel counts it (read by the kit's code in the host), bytes. */
  async hostRss(): Promise<number> {
    const v = await (await this.link()).request({ op: 'weigh-rss' }, 'reading the resident memory');
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new TestFailure(
        `Reading the resident memory: the process running your code answered ${JSON.stringify(v)}.`,
      );
    return v;
  }

  /** Starts the student's server in a child process (through the grader when grading) and waits until it listens. */
  async serverProcess(options: ServerOptions): Promise<ServerProcess> {
    const script = path.join(__dirname, 'child-server.ts');
    const mode = isolatedLoader() ? 'compartment' : 'node';
    const nonce = readyNonce();
    const child = spawnKitScript(script, [this.impl.dir, mode, JSON.stringify({ port: 0, ...options }), nonce]);
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
          const port = readyPort(out, CHILD_READY_PREFIX, nonce);
          if (port !== undefined) resolve(port);
        });
        child.once('exit', (code) => {
          const text = trimStack(err || out).trim();
          reject(new TestFailure(`The server process exited (code ${code}) before listening:\n${text.slice(-2000)}`));
        });
      }),
      60_000,
      () =>
        'starting the server in a child process took more than 60000 ms. Likely causes: your server’s top level or ' +
        'constructor waits or loops before it listens (startServer must resolve once it listens), or a machine so ' +
        'busy that a node process cannot start.',
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
): Promise<void> {
  const res = new Resources(impl, observer);
  try {
    await Promise.race([body(res), res.broken]);
  } finally {
    await res.cleanup();
  }
}

/** Bytes a closed data folder may hold beyond CLOSED_FOLDER_FACTOR times its live keys and values. */
const CLOSED_FOLDER_SLACK = 64 * 1024;
/** How many bytes of the folder each byte of live keys and values may take (a JSON snapshot escapes binary bytes six to one). */
const CLOSED_FOLDER_FACTOR = 8;

/** The most a data folder may hold after close(), bytes, for `liveBytes` of live keys and values: the snapshot, not the history. */
export function closedFolderBound(liveBytes: number): number {
  return CLOSED_FOLDER_SLACK + CLOSED_FOLDER_FACTOR * liveBytes;
}

/** Total size of the files in a folder and its subfolders, bytes. */
export function folderBytes(dir: string): number {
  // The server may rename or remove a file between the listing and its stat (a snapshot's temporary file renamed
  // into place): the folder is then measured again from its listing, so that no file is missed.
  for (let attempt = 1; ; attempt++) {
    try {
      return folderBytesOnce(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10) throw e;
    }
  }
}

/** folderBytes, in one pass: throws ENOENT when a listed file is gone before it is measured. */
function folderBytesOnce(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    // Subfolders count: a log moved into one is still kept.
    if (entry.isDirectory()) total += folderBytesOnce(at);
    else if (entry.isFile()) total += fs.statSync(at).size;
  }
  return total;
}

brandHarness(Resources);
