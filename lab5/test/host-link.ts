/**
 * The harness's end of a student host (student-host.ts): starts it through spawnKitScript (so the grader sandboxes
 * it), connects to its channel, and turns requests into replies, treating everything the host sends as untrusted
 * data: each line bounded, its signature checked (a line the kit's code there did not sign fails the test), each
 * value checked, each request timed out, a host that dies failing the test with what happened.
 */
import type { KeyObject } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { trimStack } from '../../labrpc/stack';
import { TestFailure } from '../../suite';
import { spawnKitScript, type KitProcess, type ProcessWeight } from '../../suite/spawn';
import { within } from '../../suite/within';
import {
  READY_PREFIX,
  frame,
  isRecord,
  lineReader,
  newSigningKey,
  parsed,
  signingKey,
  readWireError,
  verifiedJson,
  type Plain,
  type Request,
  type RequestBody,
  type WireError,
} from './host-protocol';

/**
 * Time allowed for the host to start, and to load the code under test. Starting it (node, the realm locked down)
 * runs none of the student's code: on a machine busy with other gradings it took over 20 s, so the bound is wide.
 */
const START_MS = 60_000;
/** Time allowed for one request (the test's own limits are usually shorter). */
const REQUEST_MS = 60_000;
/** Of the host's stderr, the tail kept for messages. */
const STDERR_TAIL = 4000;

/** Why a host's failure fails the test: the usual causes, for the messages. */
const HOST_CAUSES =
  'Likely causes: an exception thrown in a timer, a callback or an event handler of your code (for example a socket ' +
  "'error' event with no listener), a promise rejected with nothing to handle it, or the process running out of memory.";

/** An error the code under test threw, rebuilt from the wire: its name, message, own fields and stack lines. */
export function rebuiltError(w: WireError): Error {
  const e = new Error(w.message);
  Object.defineProperty(e, 'name', { value: w.name, enumerable: false, configurable: true, writable: true });
  Object.assign(e, w.fields);
  e.stack = w.stack || `${w.name}: ${w.message}`;
  return e;
}

/** The harness's link to one host process. */
export class HostLink {
  private readonly child: KitProcess;
  private readonly key: KeyObject;
  /** Lines received so far (the next one's signature is of this count). */
  private received = 0;
  private socket: net.Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Plain | undefined) => void; reject: (e: Error) => void; what: string }
  >();
  private readonly events = new Map<number, (notice: Plain) => void>();
  private stderr = '';
  private closing = false;
  private failure: TestFailure | undefined;
  private failed: ((e: TestFailure) => void) | undefined;
  /** Rejects when the host dies or breaks the protocol (never resolves): tests race their body against it. */
  readonly broken: Promise<never>;

  private constructor(child: KitProcess, key: string) {
    this.child = child;
    this.key = signingKey(key);
    this.broken = new Promise<never>((_, reject) => (this.failed = reject));
    this.broken.catch(() => undefined);
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-STDERR_TAIL);
      process.stderr.write(d);
    });
    child.once('exit', (code, signal) => {
      if (this.closing) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = trimStack(this.stderr).trim();
      this.fail(
        `The process running your lab 5 code ${how} during the test. ${HOST_CAUSES}` +
          (tail ? `\nIts last output:\n${tail.slice(-2000)}` : ''),
      );
    });
  }

  /** Starts a host for the code in `dir` (`isolated`: in a compartment, as when grading) and connects to it. */
  static async start(dir: string, isolated: boolean): Promise<HostLink> {
    const script = path.join(__dirname, 'student-host.ts');
    const key = newSigningKey();
    const link = new HostLink(spawnKitScript(script, [dir, isolated ? 'compartment' : 'node', key]), key);
    const port = await within(
      Promise.race([link.readyPort(), link.broken]),
      START_MS,
      () =>
        `starting the process that runs your lab 5 code took more than ${START_MS} ms, before any of your code ` +
        'loaded. Likely causes: a machine so busy (other gradings, builds) that a node process cannot start; run ' +
        'the test again when it is quieter.',
    );
    await link.connect(port);
    return link;
  }

  /** Loads the code under test in the host (after the spies the test installs first). */
  async load(): Promise<void> {
    await this.request({ op: 'load' }, 'loading your lab 5 code', START_MS);
  }

  /** The port the host prints; what it prints before (the code under test's own output) goes to this test's output. */
  private readyPort(): Promise<number> {
    return new Promise((resolve) => {
      let ready = false;
      let buffered = '';
      this.child.stdout?.on('data', (d: Buffer) => {
        if (ready) return void process.stdout.write(d);
        buffered += d.toString();
        const at = buffered.indexOf(READY_PREFIX);
        const nl = at === -1 ? -1 : buffered.indexOf('\n', at);
        if (nl === -1) {
          if (at === -1 && buffered.length > 4096) {
            process.stdout.write(buffered);
            buffered = '';
          }
          return;
        }
        ready = true;
        process.stdout.write(buffered.slice(0, at) + buffered.slice(nl + 1));
        const port = Number(buffered.slice(at + READY_PREFIX.length, nl));
        if (Number.isInteger(port) && port > 0 && port < 65536) resolve(port);
        else this.fail(`The process running your lab 5 code printed a malformed ready line.`);
      });
    });
  }

  private async connect(port: number): Promise<void> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    await within(
      Promise.race([
        new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('error', (e) =>
            reject(new TestFailure(`Could not reach the process running your code: ${e.message}.`)),
          );
        }),
        this.broken,
      ]),
      5000,
      () => 'connecting to the process running your lab 5 code took more than 5000 ms.',
    );
    socket.on(
      'data',
      lineReader(
        (line) => this.receiveLine(line),
        () => this.fail('The process running your lab 5 code sent a message longer than the protocol allows.'),
      ),
    );
    socket.on('close', () => {
      if (!this.closing) this.fail('The process running your lab 5 code closed its channel to the harness.');
    });
  }

  /** One line from the host: its signature checked, then its message. */
  private receiveLine(line: string): void {
    const json = verifiedJson(this.key, this.received++, line);
    if (json === undefined)
      return this.fail(
        'The process running your lab 5 code sent a line that the kit did not sign: something in that process wrote to ' +
          "the harness's channel besides the kit's code (for example a write to a file descriptor that is not one of your own files or sockets).",
      );
    this.receive(parsed(json));
  }

  /** One message from the host: a reply to a pending request, a client's retry, or a crash. */
  private receive(msg: unknown): void {
    if (!isRecord(msg)) return this.fail('The process running your lab 5 code sent a message that is not JSON.');
    if (msg.event === 'retry') {
      if (typeof msg.ref === 'number') this.events.get(msg.ref)?.((msg.notice ?? null) as Plain);
      return;
    }
    if (msg.event === 'crash') {
      const err = rebuiltError(readWireError(msg.error));
      const what = msg.kind === 'unhandled-rejection' ? 'Unhandled promise rejection' : 'Uncaught exception';
      const frames = trimStack(err.stack ?? '').trim();
      return this.fail(
        `${what} in your lab 5 code (it runs in a process of its own, which this ended): ` +
          `an error was thrown where nothing could catch it (a timer, an event handler, a callback, or a promise nobody awaited). ` +
          `In a real Node program this crashes the process.\n${frames || `${err.name}: ${err.message}`}` +
          (/Invalid string length|Array buffer allocation failed/.test(err.message)
            ? '\nLikely cause: replies piling up without bound: a string or buffer grew past what JavaScript allows. ' +
              'Apply backpressure before running each command: look at the replies being collected as well as ' +
              "socket.writableLength, and past about 1 MB stop reading the socket until its 'drain' event."
            : ''),
      );
    }
    const id = msg.id;
    const waiting = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!waiting) return this.fail('The process running your lab 5 code sent a reply to no request.');
    this.pending.delete(id as number);
    if (msg.error !== undefined) waiting.reject(rebuiltError(readWireError(msg.error)));
    else waiting.resolve(msg.value as Plain | undefined);
  }

  /** Fails every waiting request and the test (once). */
  private fail(message: string): void {
    if (this.failure || this.closing) return;
    this.failure = new TestFailure(message);
    this.failed?.(this.failure);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.socket?.destroy();
    this.child.kill('SIGKILL');
  }

  /** Sends a request and waits for its reply's value (undefined: the code returned nothing), at most `ms`. */
  request(req: RequestBody, what: string, ms = REQUEST_MS): Promise<Plain | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<Plain | undefined>((resolve, reject) => {
      // Unreferenced: a request left unanswered when its test ended must not keep the test process alive 60 s.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TestFailure(`${what} took more than ${ms} ms in the process running your code.`));
      }, ms).unref();
      const settled =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          fn(v);
        };
      this.pending.set(id, { resolve: settled(resolve), reject: settled(reject), what });
    });
    this.socket?.write(frame({ ...req, id } as Request));
    return reply;
  }

  /** The host process's weight from outside (/proc: read by the grader when grading), or undefined. */
  processWeight(): Promise<ProcessWeight | undefined> {
    return this.child.weigh();
  }

  /** Calls `cb` with each retry notice of the client `ref`. */
  onRetry(ref: number, cb: (notice: Plain) => void): void {
    this.events.set(ref, cb);
  }

  /** Ends the host: its channel closes (it exits), and it is killed if it does not within a second. */
  async close(): Promise<void> {
    this.closing = true;
    this.socket?.end();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 1000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
