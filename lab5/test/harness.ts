/**
 * Lab 5's tester: starts servers (in this process or as child processes), talks to them over raw sockets,
 * and cleans every server, socket, process and folder up at the end of a test, whether it passed or not.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeCommand, ReplyParser, RespError, RespReply } from '../resp';
import { check, TestFailure } from '../../tester/suite';
import type { ClientOptions, ConsistentRing, KVClient, RunningServer, ServerAddress, ServerOptions, StartServer } from '../types';

/** What the grader loads from lab5/ (or solutions/lab5/). */
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

/** Real-time sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with a TestFailure saying `what` if `p` takes longer than `ms`. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestFailure(`${what} took more than ${ms} ms.`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A plain RESP connection, as a test's own client: sends commands, reads replies, sees the connection close. */
export class RawClient {
  private readonly parser = new ReplyParser();
  private readonly replies: RespReply[] = [];
  private waiter: (() => void) | undefined;
  /** True once the server closed the connection (or it broke). */
  closed = false;
  /** Resolves when the connection closes. */
  readonly whenClosed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    this.whenClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk) => {
      this.parser.push(chunk);
      try {
        for (let r = this.parser.next(); r !== undefined; r = this.parser.next()) this.replies.push(r);
      } catch {
        socket.destroy(); // not RESP: treat it as a broken connection
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
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
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends one command without waiting. */
  send(...args: Array<string | number | Buffer>): void {
    this.sendRaw(encodeCommand(args));
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
    check(got instanceof RespError && got.message.startsWith(prefix), `${describe(args)} replied ${show(got)}; expected an error reply starting with "${prefix}" (${why}).`);
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
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => same(got[i], w));
  return got === want;
}

/** A command as a student would type it, for messages. */
export function describe(args: ReadonlyArray<string | number | Buffer>): string {
  const words = args.map((a) => {
    const s = Buffer.isBuffer(a) ? `<${a.length} bytes>` : String(a);
    return /^[\w:.*?\[\]^-]+$/.test(s) ? s : JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
  });
  return words.join(' ');
}

/** A server running in a child process (for kill -9). */
export interface ServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** Kills it with SIGKILL and waits until it is gone. */
  kill9(): Promise<void>;
}

/** Everything one test started, so that it can all be stopped at the end. */
export class Resources {
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  constructor(private readonly impl: Lab5Impl) {}

  /** Runs `fn` at cleanup (last registered runs first). */
  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Stops everything; errors during cleanup are ignored. */
  async cleanup(): Promise<void> {
    while (this.cleanups.length > 0) {
      const fn = this.cleanups.pop()!;
      try {
        await within(5000, 'cleanup', Promise.resolve().then(fn));
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

  /** Starts the student's server in this process; it is closed at the end unless already closed. */
  async server(options: ServerOptions = {}): Promise<RunningServer> {
    const s = await within(5000, `startServer(${JSON.stringify(options)})`, this.impl.startServer({ port: 0, ...options }));
    check(typeof s?.port === 'number' && s.port > 0, `startServer resolved to ${JSON.stringify(s)}; expected an object with the listening port.`);
    let closed = false;
    const close = s.close.bind(s);
    const wrapped: RunningServer = {
      port: s.port,
      host: s.host,
      close: async () => {
        if (closed) return;
        closed = true;
        await within(5000, `close() of the server on port ${s.port}`, close());
      },
    };
    this.defer(() => wrapped.close());
    return wrapped;
  }

  /** Connects a raw client to a port. */
  async connect(port: number): Promise<RawClient> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    this.defer(() => void socket.destroy());
    await within(
      3000,
      `connecting to port ${port}`,
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', (err) => reject(new TestFailure(`Could not connect to the server on port ${port}: ${err.message}.`)));
      }),
    );
    return new RawClient(socket);
  }

  /** The student's client on these servers, closed at the end. */
  client(servers: readonly ServerAddress[], options?: ClientOptions): KVClient {
    const c = new this.impl.ShardedClient(servers, options);
    this.defer(() => c.close());
    return c;
  }

  /** Starts the student's server in a child process (Node, ts-node) and waits until it listens. */
  async serverProcess(options: ServerOptions): Promise<ServerProcess> {
    const script = path.join(__dirname, 'child-server.ts');
    const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), script, this.impl.dir, JSON.stringify({ port: 0, ...options })], {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: path.join(__dirname, '..', '..'),
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.defer(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const port = await within(
      20_000,
      'starting the server in a child process',
      new Promise<number>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /LAB5-READY (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => {
          const text = (err || out)
            .split('\n')
            .filter((l) => !/node_modules|node:internal|child-server\.ts/.test(l))
            .join('\n')
            .trim();
          reject(new TestFailure(`The server process exited (code ${code}) before listening:\n${text.slice(-2000)}`));
        });
      }),
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

/** Runs `body` with fresh Resources and always cleans up. */
export async function withResources(impl: Lab5Impl, body: (res: Resources) => Promise<void>): Promise<void> {
  const res = new Resources(impl);
  try {
    await body(res);
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
