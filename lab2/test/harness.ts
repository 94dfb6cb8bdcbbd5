/**
 * Lab 2's tester: builds the server and clerks on a simulated network, records every clerk operation for the
 * linearizability checker, and turns a bad history into a failure with a viewer page.
 */
import { Network, Server } from '../../labrpc';
import { HistoryRecorder } from '../../tester/history';
import { versionedModel, VersionedInput, VersionedOutput } from '../../tester/checker/models/versioned';
import { TestContext, assertLinearizable } from '../../tester/suite';
import type { DistributedLock, GetResult, KVClerk, KVService, PutResult, Version } from '../rpc';
import type { ClientEnd } from '../../labrpc';

/** What the grader loads from lab2/ (or solutions/lab2/). */
export interface Lab2Impl {
  KVServer: new () => KVService;
  Clerk: new (end: ClientEnd) => KVClerk;
  Lock: new (ck: KVClerk, name: string) => DistributedLock;
  /** The KVServer class of a private copy of the student's modules (memory tests: see tester/fresh.ts). */
  freshKVServer?: () => new () => KVService;
}

/** The name the server is registered under on the network. */
const SERVER = 'kvserver';

/** One test's cluster: a network, a server, clerks, and the history of their operations. */
export class KVTester {
  readonly net = new Network();
  readonly history = new HistoryRecorder<VersionedInput, VersionedOutput>();
  private clerks = 0;

  /**
   * With `freshModules` (memory tests), the server comes from a private copy of the student's server.ts, so that
   * what the module keeps at its top level is measured with it (tester/fresh.ts). The copy is loaded here rather
   * than passed in, so that no caller's frame keeps it alive.
   */
  constructor(
    private readonly ctx: TestContext<Lab2Impl>,
    reliable: boolean,
    freshModules = false,
  ) {
    this.net.setReliable(reliable);
    const ServerClass = (freshModules && ctx.impl.freshKVServer?.()) || ctx.impl.KVServer;
    this.net.addServer(SERVER, new Server().addService(new ServerClass(), 'KVServer'));
  }

  /** A new end connected to the server. */
  private makeEnd(): ClientEnd {
    const name = `clerk-${this.clerks++}`;
    const end = this.net.makeEnd(name);
    this.net.connect(name, SERVER);
    this.net.enable(name, true);
    return end;
  }

  /** The student's clerk, with its operations recorded (client id = creation order). */
  makeClerk(): KVClerk {
    const id = this.clerks;
    return new RecordingClerk(new this.ctx.impl.Clerk(this.makeEnd()), id, this.history, this.ctx);
  }

  /** The student's clerk without recording (for workloads too large to check). */
  makeRawClerk(): KVClerk {
    return new this.ctx.impl.Clerk(this.makeEnd());
  }

  /** A Lock of the student's, on a recording clerk. */
  makeLock(ck: KVClerk, name: string): DistributedLock {
    return new this.ctx.impl.Lock(ck, name);
  }

  /** Kills the server: it gets no more calls and nothing references it any more. */
  removeServer(): void {
    this.net.deleteServer(SERVER);
  }

  /** Fails the test if the recorded history is not linearizable (a timeout in the checker passes, as in MIT's tester). */
  checkLinearizable(): void {
    assertLinearizable(this.ctx, versionedModel, this.history.operations());
  }
}

/** Wraps a clerk so that each operation is recorded with its call and return times. */
class RecordingClerk implements KVClerk {
  constructor(
    private readonly inner: KVClerk,
    private readonly id: number,
    private readonly history: HistoryRecorder<VersionedInput, VersionedOutput>,
    private readonly ctx: TestContext<Lab2Impl>,
  ) {}

  async get(key: string): Promise<GetResult> {
    const op = this.history.begin(this.id, { op: 'get', key });
    const reply = await this.inner.get(key);
    this.history.end(op, reply.err === 'OK' ? { err: 'OK', value: reply.value, version: reply.version } : { err: reply.err });
    this.ctx.countOps();
    return reply;
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    const op = this.history.begin(this.id, { op: 'put', key, value, version });
    const err = await this.inner.put(key, value, version);
    this.history.end(op, { err });
    this.ctx.countOps();
    return err;
  }
}

/** Shows a value in a message, shortened when long. */
export function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
