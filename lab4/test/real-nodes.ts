/**
 * The real HTTP tests' end of lab 4's node processes (node-process.ts): starts each through spawnKitScript (so the
 * grader sandboxes it), waits for it to listen, and turns a node that dies into a clear failure of the test.
 */
import * as path from 'node:path';
import { TestFailure, within } from '../../suite';
import { isolatedLoader } from '../../suite/loader';
import { spawnKitScript, type KitProcess } from '../../suite/spawn';
import { trimStack } from '../../labrpc/stack';
import { NODE_READY_PREFIX, type NodeProcessSettings } from './node-process';

/** How long a node may take to load the code and listen. */
const START_MS = 20_000;
/** How much of a node's stderr is kept for a failure message. */
const STDERR_TAIL = 8000;

const CAUSES =
  'Likely causes: your KVNode (its constructor, a timer or a promise it started) threw an exception it did not catch; ' +
  'it used more memory than the process may have; or it called process.exit.';

/** One node process of a test. */
export class NodeProcess {
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

  /** Stops the node (SIGKILL, as a crash) and waits until its process is gone. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Whether the test stopped this node itself. */
  get stopped(): boolean {
    return this.closing;
  }

  /** Starts a node for `settings` with the code in `dir`; `died` is told if it ends without the test stopping it. */
  static async start(
    dir: string,
    settings: NodeProcessSettings,
    died: (message: string) => void,
  ): Promise<NodeProcess> {
    const script = path.join(__dirname, 'node-process.ts');
    const child = spawnKitScript(script, [dir, isolatedLoader() ? 'compartment' : 'node', JSON.stringify(settings)]);
    const id = settings.config.id;
    let stderr = '';
    let out = '';
    let node: NodeProcess | undefined;
    const tail = (): string => {
      const text = trimStack(stderr).trim();
      return text ? `\nIts last output:\n${text.slice(-2000)}` : '';
    };
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const how = (): string =>
      child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
    const port = await within(
      new Promise<number>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          if (node) return;
          out += d.toString();
          const m = new RegExp(`${NODE_READY_PREFIX}(\\d+)`).exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', () => {
          if (node) {
            if (!node.closing)
              died(`The process running your lab 4 node ${id} ${how()} during the test. ${CAUSES}${tail()}`);
            return;
          }
          reject(
            new TestFailure(
              `The process running your lab 4 node ${id} ${how()} before it listened on HTTP. Expected it to print that it listens. ${CAUSES}${tail()}`,
            ),
          );
        });
      }),
      START_MS,
      () => `starting the process running your lab 4 node ${id} took more than ${START_MS} ms.`,
    ).catch(async (err: unknown) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      throw err;
    });
    node = new NodeProcess(child, port, exited);
    return node;
  }
}

/** A test's node processes: started in turn, all stopped at the end; `guard` fails the test as soon as one dies. */
export class NodeProcesses {
  private readonly dir: string;
  private readonly all: NodeProcess[] = [];
  private readonly died: Promise<never>;
  private fail: (err: Error) => void = () => undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.died = new Promise<never>((_, reject) => (this.fail = reject));
    this.died.catch(() => undefined);
  }

  /** Starts a node; fails the test if it exits before it listens. */
  async start(settings: NodeProcessSettings): Promise<NodeProcess> {
    const node = await this.guard(
      NodeProcess.start(this.dir, settings, (message) => this.fail(new TestFailure(message))),
    );
    this.all.push(node);
    return node;
  }

  /** `work`, or the failure of a node that died while it ran, whichever comes first. */
  guard<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.died]);
  }

  /** Stops every node still running. */
  async closeAll(): Promise<void> {
    await Promise.all(this.all.map((n) => n.close()));
  }
}
