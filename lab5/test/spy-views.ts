/**
 * The harness's views of the kit's spies in the student host (host-spies.ts, disk-nemesis.ts): each report read as
 * untrusted data and checked (numbers in range, folders only the harness's own), for the tests to judge from.
 *
 * Why a spy's report can be trusted as far as the verdicts below rely on it: every line from the host carries a
 * signature under a key that only kit code there holds (host-protocol.ts, `sign`), so the code under test, which
 * shares that process, cannot forge or replay a report: a line it writes to the channel fails the test. What it can
 * do is change what the spies see by what it really does (fsync a file of the folder that is not the log, keep its
 * data somewhere the heap reading does not count, remember a store across startServer calls in one process): the
 * spies judge behaviour through the fs module, the process's socket writes and its heap, nothing finer. The copies
 * that stand for a crash are made by the host's kit code into folders the harness made and named; the harness
 * restarts a server on each and judges what it serves over its own connections, and reads logs itself where a test
 * damages them.
 */
import { TestFailure } from '../../suite';
import type { HostLink } from './host-link';
import { isRecord, type Plain } from './host-protocol';

/** The most events, copies or bytes a report may hold (far above what any test makes). */
const MAX_EVENTS = 1_000_000;

/** A malformed report: the kit's spy and its view disagree (a kit bug), which fails the test. */
function malformed(what: string, v: unknown): TestFailure {
  return new TestFailure(
    `The process running your lab 5 code sent a malformed ${what} (${JSON.stringify(v)?.slice(0, 200)}). This is a fault of the kit's test, not of your code; please report it.`,
  );
}

/** A non-negative integer of a report. */
function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(what, v);
  return v;
}

/** An increasing list of sequence numbers, each at most `max`. */
function sequence(v: unknown, max: number, what: string): number[] {
  if (!Array.isArray(v) || v.length > MAX_EVENTS) throw malformed(what, v);
  let last = 0;
  for (const x of v) {
    if (count(x, what) <= last || x > max) throw malformed(what, v);
    last = x as number;
  }
  return v as number[];
}

/** What a SyncWatch saw: sequence numbers, one order for syncs and the server's socket writes. */
export interface SyncReport {
  /** The latest sequence number: "now", for before and after. */
  readonly now: number;
  /** Finished syncs of the folder's files. */
  readonly syncs: readonly number[];
  /** Writes by the server's sockets (its replies). */
  readonly replies: readonly number[];
  /** Those of the replies written while the log held bytes no finished sync had forced to disk. */
  readonly unsynced: readonly number[];
}

/** The watch of a data folder's syncs and its server's writes, in the student host. */
export class RemoteSyncWatch {
  private readonly link: HostLink;
  private readonly ref: number;

  constructor(link: HostLink, ref: number) {
    this.link = link;
    this.ref = ref;
  }

  /** Names the server whose writes count, once it listens (a watch started before its server). */
  async setServerPort(port: number): Promise<void> {
    await this.link.request(
      { op: 'call', ref: this.ref, method: 'setServerPort', args: [port] },
      'naming the watched server',
    );
  }

  /** What it saw so far. */
  async report(): Promise<SyncReport> {
    const v = await this.link.request({ op: 'call', ref: this.ref, method: 'report', args: [] }, 'the sync spies');
    if (!isRecord(v)) throw malformed('sync report', v);
    const now = count(v.now, 'sync report');
    return {
      now,
      syncs: sequence(v.syncs, now, 'sync report'),
      replies: sequence(v.replies, now, 'sync report'),
      unsynced: sequence(v.unsynced, now, 'sync report'),
    };
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    await this.link.request({ op: 'call', ref: this.ref, method: 'stop', args: [] }, 'stopping the sync spies');
  }
}

/** The outcome of a PING and SET sent from the host at a snapshot's write. */
export interface SnapshotPingReport {
  readonly phase: 'armed' | 'pinged' | 'done';
  /** Bytes the snapshot wrote from the PING to its first write after a reply arrived; null: none after one arrived. */
  readonly pongAfterBytes: number | null;
  /** The bytes the server sent back (latin1). */
  readonly received: string;
}

/** What CrashCopies saw, with the folders of the copies taken (the harness's own). */
export interface CopiesReport {
  readonly beforeWrite: string | undefined;
  readonly afterRename: string | undefined;
  readonly snapshotWrites: number;
  readonly renames: number;
  /** The name of the last file renamed into the folder, not the log (the snapshot in place), if any. */
  readonly lastRenamed: string | undefined;
  /** The name of the file renamed into the folder just before the second copy was taken. */
  readonly renamedAtCopy: string | undefined;
  readonly refusedWrites: number;
  readonly ping: SnapshotPingReport | undefined;
}

/** Copies of a data folder at two moments of a snapshot, and a full disk, in the student host (see host-spies.ts). */
export class RemoteCrashCopies {
  private readonly link: HostLink;
  private readonly ref: number;
  private readonly into: readonly [string, string];

  constructor(link: HostLink, ref: number, into: readonly [string, string]) {
    this.link = link;
    this.ref = ref;
    this.into = into;
  }

  private call(method: string, args: Plain[], what: string): Promise<Plain | undefined> {
    return this.link.request({ op: 'call', ref: this.ref, method, args }, what);
  }

  /**
   * From now on, take the copies; given `writesSeen` (a report's snapshotWrites), only if no snapshot write came
   * since: resolves to whether it armed. The answer comes from the student's process, so it may only make a test
   * stricter: a test that is told "not armed" writes again and asks again.
   */
  async arm(writesSeen?: number): Promise<boolean> {
    const v = await this.call('arm', writesSeen === undefined ? [] : [writesSeen], 'arming the crash copies');
    return v === true;
  }

  /** Fills the disk (writes to files other than the log fail with ENOSPC) or frees it. */
  async setDiskFull(full: boolean): Promise<void> {
    await this.call('setDiskFull', [full], 'filling or freeing the disk');
  }

  /** At a snapshot's first write once it has written `afterBytes`, a kit connection to `port` in the host sends PING and SET during-snapshot-<round>. */
  async pingAtNextSnapshot(port: number, round: number, afterBytes: number): Promise<void> {
    await this.call('pingAtNextSnapshot', [port, round, afterBytes], 'arming the snapshot ping');
  }

  /** What the copies saw so far. */
  async report(): Promise<CopiesReport> {
    const v = await this.call('report', [], 'the crash copies');
    if (!isRecord(v) || typeof v.beforeWrite !== 'boolean' || typeof v.afterRename !== 'boolean')
      throw malformed('crash-copies report', v);
    // A file name of the folder: nothing that leads out of it.
    const fileName = (name: unknown): string | undefined => {
      if (name === null) return undefined;
      if (typeof name !== 'string' || !/^[^/\\\0]{1,255}$/.test(name) || /^\.\.?$/.test(name))
        throw malformed('crash-copies report', v);
      return name;
    };
    const p = v.ping;
    let ping: SnapshotPingReport | undefined;
    if (p !== null) {
      if (
        !isRecord(p) ||
        !['armed', 'pinged', 'done'].includes(p.phase as string) ||
        (p.pongAfterBytes !== null &&
          (typeof p.pongAfterBytes !== 'number' || !Number.isSafeInteger(p.pongAfterBytes) || p.pongAfterBytes < 0)) ||
        typeof p.received !== 'string' ||
        p.received.length > MAX_EVENTS
      )
        throw malformed('snapshot ping report', p);
      ping = {
        phase: p.phase as SnapshotPingReport['phase'],
        pongAfterBytes: p.pongAfterBytes,
        received: p.received,
      };
    }
    return {
      beforeWrite: v.beforeWrite ? this.into[0] : undefined,
      afterRename: v.afterRename ? this.into[1] : undefined,
      snapshotWrites: count(v.snapshotWrites, 'crash-copies report'),
      renames: count(v.renames, 'crash-copies report'),
      lastRenamed: fileName(v.lastRenamed),
      renamedAtCopy: fileName(v.renamedAtCopy),
      refusedWrites: count(v.refusedWrites, 'crash-copies report'),
      ping,
    };
  }

  /** Removes the spies. */
  async stop(): Promise<void> {
    await this.call('stop', [], 'stopping the crash copies');
  }
}

/** One copy the disk nemesis took: the folder (the harness's own), what happened, when (µs, monotonicMicros). */
export interface NemesisCopy {
  readonly dir: string;
  readonly what: string;
  readonly from: number;
  readonly to: number;
  /** Taken as the server wrote its reply to the probe's SET: that SET counts as acknowledged. */
  readonly probeReply: boolean;
}

/** TestNemesisRedis's disk nemesis in the student host (disk-nemesis.ts). */
export class RemoteDiskNemesis {
  private readonly link: HostLink;
  private readonly ref: number;
  private readonly into: readonly string[];

  constructor(link: HostLink, ref: number, into: readonly string[]) {
    this.link = link;
    this.ref = ref;
    this.into = into;
  }

  private call(method: string, args: Plain[], what: string): Promise<Plain | undefined> {
    return this.link.request({ op: 'call', ref: this.ref, method, args }, what);
  }

  /** Power cuts now and then as the server on `serverPort` writes a reply to the connection from `probePort`. */
  async watchProbe(serverPort: number, probePort: number): Promise<void> {
    await this.call('watchProbe', [serverPort, probePort], 'watching the probe');
  }

  /** From now on, once: a power cut just after a snapshot is renamed into place, and another just after the log is cut. */
  async powerCutsAtSnapshot(): Promise<void> {
    await this.call('powerCutsAtSnapshot', [], 'arming the power cuts at a snapshot');
  }

  /** A copy now (the crash after the last acknowledgement). */
  async copyNow(what: string): Promise<void> {
    await this.call('copyNow', [what], 'a crash copy');
  }

  /** Removes the replacements. */
  async stop(): Promise<void> {
    await this.call('stop', [], 'stopping the disk nemesis');
  }

  /** What happened on the disk (for the log), and the copies taken, each in a folder of the harness's, once. */
  async report(): Promise<{ summary: string; points: NemesisCopy[] }> {
    const v = await this.call('report', [], 'the disk nemesis');
    if (!isRecord(v) || typeof v.summary !== 'string' || !Array.isArray(v.points) || v.points.length > this.into.length)
      throw malformed('disk nemesis report', v);
    const used = new Set<number>();
    const points = v.points.map((p): NemesisCopy => {
      if (!isRecord(p) || typeof p.what !== 'string' || typeof p.probeReply !== 'boolean')
        throw malformed('disk nemesis copy', p);
      const into = count(p.into, 'disk nemesis copy');
      const from = count(p.from, 'disk nemesis copy');
      const to = count(p.to, 'disk nemesis copy');
      if (into >= this.into.length || used.has(into) || to < from) throw malformed('disk nemesis copy', p);
      used.add(into);
      return { dir: this.into[into], what: p.what.slice(0, 500), from, to, probeReply: p.probeReply };
    });
    return { summary: v.summary.slice(0, 2000), points };
  }
}
