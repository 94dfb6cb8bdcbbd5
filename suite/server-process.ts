/**
 * A real-time test's end of the code under test's servers, each in a process of its own (a kit script such as lab 4's
 * node-process.ts): starts each through spawnKitScript (so the grader sandboxes it), waits for the line that says
 * it listens, and turns a server that dies into a clear failure of the test.
 */
import { TestFailure } from './failure';
import { within } from './within';
import { spawnKitScript, type KitProcess } from './spawn';
import { readyNonce, readyPort } from './kit-script';
import { trimStack } from '../labrpc/stack';

/** How long a server may take to load the code and listen. */
export const START_MS = 20_000;
/** How long a failed call waits for news that a server's process ended (its better explanation), ms. */
const DEATH_REPORT_MS = 1000;
/** How much of a server's stderr is kept for a failure message. */
const STDERR_TAIL = 8000;

/**
 * The exit code of a kit script whose port another program took before it listened (the test chose the port free and
 * gave it back). Only the kit script's own code exits so: the code under test has no `process`, and an exception it
 * lets escape exits with 1, whatever its text says.
 */
export const PORT_TAKEN_EXIT_CODE = 75;

/** A server process that exited with PORT_TAKEN_EXIT_CODE before it listened: the test may start again on new ports. */
export class PortTakenFailure extends TestFailure {}

/** What to start, and how to speak of it in a failure. */
export interface ServerScript {
  /** The kit script (absolute path); once it listens it prints `readyLine(readyPrefix, ...)` with the word it is given last (kit-script.ts). */
  readonly script: string;
  readonly args: readonly string[];
  readonly readyPrefix: string;
  /** The server in a sentence, e.g. "your lab 4 node leader". */
  readonly what: string;
  /** The likely causes of a server that exits, as a sentence or two. */
  readonly causes: string;
  /** How long it may take to print that it listens, ms (default 20 s: loading the code and listening). */
  readonly startMs?: number;
}

/** One server process of a test. */
export class ServerProcess {
  readonly url: string;
  readonly port: number;
  private readonly child: KitProcess;
  private readonly exited: Promise<void>;
  private closing = false;

  private constructor(child: KitProcess, port: number, exited: Promise<void>) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.exited = exited;
  }

  /** Stops the server (SIGKILL, as a crash) and waits until its process is gone. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Starts `s`; `died` is told if it ends without the test stopping it, and `spawned` gets a way to stop the
   * process at once, even before it listens.
   */
  static async start(
    s: ServerScript,
    died: (message: string) => void,
    spawned: (stop: () => Promise<void>) => void = () => undefined,
  ): Promise<ServerProcess> {
    const nonce = readyNonce();
    const child = spawnKitScript(s.script, [...s.args, nonce]);
    let stderr = '';
    let out = '';
    let server: ServerProcess | undefined;
    const tail = (): string => {
      const text = trimStack(stderr).trim();
      return text ? `\nIts last output:\n${text.slice(-2000)}` : '';
    };
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    spawned(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const how = (): string =>
      child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          if (server) return;
          out += d.toString();
          const port = readyPort(out, s.readyPrefix, nonce);
          if (port !== undefined) resolve(port);
        });
        child.once('exit', () => {
          if (server) {
            if (!server.closing) died(`The process running ${s.what} ${how()} during the test. ${s.causes}${tail()}`);
            return;
          }
          const message = `The process running ${s.what} ${how()} before it listened. Expected it to print that it listens. ${s.causes}${tail()}`;
          reject(child.exitCode === PORT_TAKEN_EXIT_CODE ? new PortTakenFailure(message) : new TestFailure(message));
        });
      }),
      s.startMs ?? START_MS,
      () => `starting the process running ${s.what} took more than ${s.startMs ?? START_MS} ms.`,
    ).catch(async (err: unknown) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      throw err;
    });
    server = new ServerProcess(child, port, exited);
    return server;
  }
}

/** A test's server processes: all stopped at the end (even those still starting); `guard` fails the test as soon as one dies. */
export class ServerProcesses {
  private readonly all: ServerProcess[] = [];
  /** Stops each process started, whether it listens yet or not. */
  private readonly stops: Array<() => Promise<void>> = [];
  private readonly died: Promise<never>;
  private fail: (err: Error) => void = () => undefined;

  constructor() {
    this.died = new Promise<never>((_, reject) => (this.fail = reject));
    this.died.catch(() => undefined);
  }

  /** Starts a server; fails the test if it exits before it listens. */
  async start(s: ServerScript): Promise<ServerProcess> {
    const server = await this.guard(
      ServerProcess.start(
        s,
        (message) => this.fail(new TestFailure(message)),
        (stop) => this.stops.push(stop),
      ),
    );
    this.all.push(server);
    return server;
  }

  /**
   * `work`, or the failure of a server that died while it ran, whichever comes first. When `work` fails, a death
   * reported up to DEATH_REPORT_MS later wins: a call to a server whose process just ended fails (refused) before
   * the end of the process is known, and the death is what explains it.
   */
  guard<T>(work: Promise<T>): Promise<T> {
    const explained = work.catch(async (err: unknown) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.died, new Promise((resolve) => (timer = setTimeout(resolve, DEATH_REPORT_MS)))]).finally(
        () => clearTimeout(timer),
      );
      throw err;
    });
    return Promise.race([explained, this.died]);
  }

  /** Stops every server still running, and every process still starting. */
  async closeAll(): Promise<void> {
    // The servers that listen first, so that their ends are not reported as deaths.
    const closing = this.all.map((n) => n.close());
    await Promise.all([...closing, ...this.stops.map((stop) => stop())]);
  }
}
