/**
 * Lab 5 — persistence: a snapshot plus an append-only log (AOF). Reference solution.
 *
 * Files in the data folder:
 *   snapshot.json   the whole store at one moment: { format, savedAt, entries: [key, value, expiresAt | null][] }
 *   appendonly.aof  every change since that snapshot, as RESP commands: SET key value [PXAT ms], DEL key, FLUSHALL
 * Every log record states a key's new state in absolute terms, so replaying a record twice changes nothing:
 * a crash between writing a snapshot and emptying the log is harmless.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProtocolError, RequestParser, encodeCommand } from '../../lab5/resp';
import type { FsyncPolicy } from '../../lab5/types';

/** One key as stored on disk. */
export interface StoredEntry {
  key: string;
  value: string;
  /** Absolute expiry time (ms since the epoch), or undefined for no expiry. */
  expiresAt?: number;
}

const SNAPSHOT = 'snapshot.json';
const LOG = 'appendonly.aof';
const FORMAT = 'kvlabs-lab5-snapshot-1';

/** The data folder of one server. */
export class Persistence {
  private fd: number;
  /** Encoded records not yet written to the log file. */
  private pending: Buffer[] = [];
  /** Bytes written since the last fsync. */
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    readonly fsync: FsyncPolicy,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.fd = fs.openSync(path.join(dir, LOG), 'a+');
    if (fsync === 'everysec') {
      this.syncTimer = setInterval(() => this.sync(), 1000);
      this.syncTimer.unref();
    }
  }

  /** Reads the snapshot, then replays the log over it; returns the live entries. Drops a torn last record. */
  load(now: number): StoredEntry[] {
    const state = new Map<string, StoredEntry>();
    const snapFile = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snapFile)) {
      const data = JSON.parse(fs.readFileSync(snapFile, 'latin1')) as { format: string; entries: Array<[string, string, number | null]> };
      if (data.format !== FORMAT) throw new Error(`${snapFile} is not a lab 5 snapshot (format ${JSON.stringify(data.format)})`);
      for (const [key, value, exp] of data.entries) state.set(key, { key, value, expiresAt: exp ?? undefined });
    }
    const log = fs.readFileSync(path.join(this.dir, LOG));
    const parser = new RequestParser();
    parser.push(log);
    let good = 0;
    for (;;) {
      let cmd: string[] | undefined;
      try {
        cmd = parser.next();
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        break; // garbage at the end: a record torn by a crash
      }
      if (cmd === undefined) break;
      this.apply(state, cmd);
      good = log.length - parser.bufferedBytes;
    }
    if (good < log.length) fs.ftruncateSync(this.fd, good); // forget the torn record, so new records follow good ones
    return [...state.values()].filter((e) => e.expiresAt === undefined || e.expiresAt > now);
  }

  private apply(state: Map<string, StoredEntry>, cmd: string[]): void {
    const [name, key, value, opt, at] = cmd;
    if (name === 'SET') state.set(key, { key, value, expiresAt: opt === 'PXAT' ? Number(at) : undefined });
    else if (name === 'DEL') state.delete(key);
    else if (name === 'FLUSHALL') state.clear();
  }

  /** Records a key's new value and expiry. */
  recordSet(key: string, value: string, expiresAt: number | undefined): void {
    const args = expiresAt === undefined ? ['SET', key, value] : ['SET', key, value, 'PXAT', String(expiresAt)];
    this.pending.push(encodeCommand(args.map((a) => Buffer.from(a, 'latin1'))));
  }

  /** Records that a key was deleted. */
  recordDelete(key: string): void {
    this.pending.push(encodeCommand(['DEL', Buffer.from(key, 'latin1')]));
  }

  /** Records that every key was deleted. */
  recordFlush(): void {
    this.pending.push(encodeCommand(['FLUSHALL']));
  }

  /** Writes pending records to the log; with fsync 'always', also forces them to disk. Call before replying. */
  flush(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    fs.writeSync(this.fd, data);
    this.unsynced = true;
    if (this.fsync === 'always') this.sync();
  }

  private sync(): void {
    if (!this.unsynced) return;
    fs.fsyncSync(this.fd);
    this.unsynced = false;
  }

  /** Writes a snapshot of `entries` (atomically: temporary file, fsync, rename), then empties the log. */
  snapshot(entries: Iterable<StoredEntry>): void {
    this.flush();
    const rows: Array<[string, string, number | null]> = [];
    for (const e of entries) rows.push([e.key, e.value, e.expiresAt ?? null]);
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ format: FORMAT, savedAt: Date.now(), entries: rows }), null, 'latin1');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.unsynced = false;
  }

  /** Flushes, syncs and closes the log. */
  close(): void {
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.flush();
    this.sync();
    fs.closeSync(this.fd);
  }
}
