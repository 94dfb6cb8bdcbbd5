/**
 * Lab 5 — persistence: a snapshot plus an append-only log (AOF). Reference solution.
 *
 * Files in the data folder, both made of RESP commands (`encodeCommand`), read back with a RequestParser:
 *   snapshot.resp   the whole store at one moment: SET key value [PXAT ms] per key, then END <count>
 *   appendonly.aof  every change since that snapshot: SET key value [PXAT ms], DEL key, FLUSHALL; the changes of
 *                   one EXEC between MULTI and EXEC records, so that they are replayed all or not at all
 * Every record states a key's new state in absolute terms, so replaying a record twice changes nothing:
 * a crash between writing a snapshot and cutting the log is harmless.
 *
 * A snapshot is written from a copy of the store, a chunk at a time, with the event loop free between chunks:
 * commands keep being served while it is written, and no single string ever holds the whole store. A failed
 * snapshot is logged and leaves the log as it was. A damaged file refuses the start (see CorruptFileError).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INT64_MAX } from '../../lab5/int64';
import { ProtocolError, RequestParser, encodeCommand } from '../../lab5/resp';
import type { FsyncPolicy } from '../../lab5/types';

/** One key as stored on disk. */
export interface StoredEntry {
  key: string;
  value: string;
  /** Absolute expiry time (ms since the epoch), or undefined for no expiry. */
  expiresAt?: number;
}

/** A data file that cannot be read as written: the server must not start on it (nothing is changed). */
export class CorruptFileError extends Error {
  override name = 'CorruptFileError';
}

const SNAPSHOT = 'snapshot.resp';
const LOG = 'appendonly.aof';
/** A snapshot is written in pieces of about this size, with the event loop free between them. */
const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/** Encodes a command whose words are byte strings (one character per byte). */
function record(words: string[]): Buffer {
  return encodeCommand(words.map((w) => Buffer.from(w, 'latin1')));
}

/**
 * A deadline as a record states it: whole ms within 64 bits. Deadlines are held as doubles, so one near Redis's
 * limit (PEXPIRE of 9.2e18 ms) can round up past 2^63 - 1; it is written as 2^63 - 1, the latest one Redis accepts.
 */
function deadlineText(expiresAt: number): string {
  const ms = BigInt(Math.trunc(expiresAt));
  return String(ms > INT64_MAX ? INT64_MAX : ms);
}

/** Is `text` a deadline a record may state: digits of a non-negative 64-bit integer (past 2^53 included)? */
function isDeadline(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= INT64_MAX;
}

function setRecord(e: StoredEntry): Buffer {
  return record(
    e.expiresAt === undefined ? ['SET', e.key, e.value] : ['SET', e.key, e.value, 'PXAT', deadlineText(e.expiresAt)],
  );
}

/** Why `cmd` is not a record this module writes, or undefined if it is one. */
function invalidRecord(cmd: string[], allowed: readonly string[]): string | undefined {
  const [name] = cmd;
  if (!allowed.includes(name)) return `unknown record ${JSON.stringify(name.slice(0, 20))}`;
  const ok =
    name === 'SET'
      ? cmd.length === 3 || (cmd.length === 5 && cmd[3] === 'PXAT' && isDeadline(cmd[4]))
      : name === 'DEL'
        ? cmd.length === 2
        : name === 'END'
          ? cmd.length === 2 && /^\d{1,15}$/.test(cmd[1])
          : cmd.length === 1;
  return ok ? undefined : `a ${name} record with ${cmd.length - 1} arguments`;
}

/**
 * Reads the records of `file` in order, giving each with the byte where it starts. A record that is not RESP, not
 * one this module writes, or that `apply` says is out of place (its reason) throws a CorruptFileError naming the
 * byte; an incomplete last record (a write torn by a crash) is left out. Returns the offset just after the last
 * complete record.
 */
function readRecords(
  file: string,
  data: Buffer,
  allowed: readonly string[],
  apply: (cmd: string[], at: number) => string | void,
): number {
  const parser = new RequestParser();
  parser.push(data);
  let good = 0;
  let count = 0;
  for (;;) {
    let cmd: string[] | undefined;
    let problem: string | undefined;
    try {
      cmd = parser.next();
      if (cmd !== undefined) problem = invalidRecord(cmd, allowed) ?? apply(cmd, good) ?? undefined;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      problem = err.message.replace(/^ERR Protocol error: /, '');
    }
    if (problem !== undefined) {
      throw new CorruptFileError(
        `${file} is damaged at byte ${good} of ${data.length} (record ${count + 1}: ${problem}). The server did not start, so that nothing more is lost. ` +
          `Keep a copy of the file and look at the bytes there. If everything from there on is garbage, cut it off with "truncate -s ${good} ${file}" ` +
          `(the ${count} records before it are kept, any writes after it are lost); otherwise repair or remove that record by hand, then start again.`,
      );
    }
    if (cmd === undefined) return good;
    count++;
    good = data.length - parser.bufferedBytes;
  }
}

/** Forces a folder's entries (a rename into it) to disk. */
function syncFolder(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The data folder of one server. */
export class Persistence {
  readonly dir: string;
  readonly fsync: FsyncPolicy;
  private fd: number;
  /** Size of the log file, bytes (all that flush wrote). */
  private logBytes = 0;
  /** Encoded records not yet written to the log file. */
  private pending: Buffer[] = [];
  /** Bytes written since the last fsync. */
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** The snapshot being written, if any. */
  private writing: Promise<void> | undefined;

  constructor(dir: string, fsync: FsyncPolicy) {
    this.dir = dir;
    this.fsync = fsync;
    fs.mkdirSync(dir, { recursive: true });
    this.fd = fs.openSync(path.join(dir, LOG), 'a+');
    if (fsync === 'everysec') {
      this.syncTimer = setInterval(() => this.sync(), 1000);
      this.syncTimer.unref();
    }
  }

  /**
   * Reads the snapshot, then replays the log over it; returns the live entries. Cuts a torn last record off
   * the log (and says so); throws CorruptFileError, changing nothing, if either file is damaged elsewhere.
   */
  load(now: number): StoredEntry[] {
    const state = new Map<string, StoredEntry>();
    const snapFile = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snapFile)) {
      const data = fs.readFileSync(snapFile);
      let ended = false;
      const end = readRecords(snapFile, data, ['SET', 'END'], (cmd) => {
        if (ended)
          throw new CorruptFileError(
            `${snapFile} has records after its END record: it is damaged; the server did not start.`,
          );
        if (cmd[0] === 'END') {
          ended = true;
          const held = state.size;
          if (Number(cmd[1]) !== held)
            throw new CorruptFileError(
              `${snapFile} ends with END ${cmd[1]} but holds ${held} keys: it is damaged; the server did not start.`,
            );
        } else this.apply(state, cmd);
      });
      // Snapshots are renamed into place whole, so a missing END is damage, not a crash.
      if (!ended || end < data.length)
        throw new CorruptFileError(
          `${snapFile} is incomplete (no END record after byte ${end} of ${data.length}): it is damaged; the server did not start.`,
        );
    }
    const logFile = path.join(this.dir, LOG);
    const log = fs.readFileSync(logFile);
    // A transaction's records wait for its EXEC record: a crash can leave only part of them.
    let transaction: { at: number; records: string[][] } | undefined;
    let good = readRecords(logFile, log, ['SET', 'DEL', 'FLUSHALL', 'MULTI', 'EXEC'], (cmd, at) => {
      if (cmd[0] === 'MULTI') {
        if (transaction !== undefined) return 'a MULTI record inside a transaction';
        transaction = { at, records: [] };
      } else if (cmd[0] === 'EXEC') {
        if (transaction === undefined) return 'an EXEC record without MULTI';
        for (const r of transaction.records) this.apply(state, r);
        transaction = undefined;
      } else if (transaction !== undefined) transaction.records.push(cmd);
      else this.apply(state, cmd);
    });
    if (transaction !== undefined) {
      console.warn(
        `${logFile}: the transaction from byte ${transaction.at} has no EXEC record (a crash cut it short), so none of it was acknowledged; cut off.`,
      );
      good = transaction.at;
    } else if (good < log.length) {
      // Only an incomplete last record gets here: a write torn by a crash, never acknowledged.
      console.warn(
        `${logFile}: the last record (bytes ${good} to ${log.length}) is incomplete, a write torn by a crash; cut off.`,
      );
    }
    if (good < log.length) {
      fs.ftruncateSync(this.fd, good); // so that new records follow good ones
      fs.fsyncSync(this.fd);
    }
    this.logBytes = good;
    return [...state.values()].filter((e) => e.expiresAt === undefined || e.expiresAt > now);
  }

  private apply(state: Map<string, StoredEntry>, cmd: string[]): void {
    const [name, key, value, , at] = cmd;
    if (name === 'SET') state.set(key, { key, value, expiresAt: at === undefined ? undefined : Number(at) });
    else if (name === 'DEL') state.delete(key);
    else if (name === 'FLUSHALL') state.clear();
  }

  /** Records a key's new value and expiry. */
  recordSet(key: string, value: string, expiresAt: number | undefined): void {
    this.pending.push(setRecord({ key, value, expiresAt }));
  }

  /** Records that a key was deleted. */
  recordDelete(key: string): void {
    this.pending.push(record(['DEL', key]));
  }

  /** Records that every key was deleted. */
  recordFlush(): void {
    this.pending.push(record(['FLUSHALL']));
  }

  /**
   * Runs `changes` (one EXEC's commands), whose records reach the log as one unit: between MULTI and EXEC records
   * when there are two or more, so that a crash in the middle of writing them leaves a transaction that the next
   * start drops whole, never half of one.
   */
  atomically<T>(changes: () => T): T {
    const from = this.pending.length;
    const result = changes();
    if (this.pending.length - from > 1) {
      this.pending.splice(from, 0, record(['MULTI']));
      this.pending.push(record(['EXEC']));
    }
    return result;
  }

  /** Writes pending records to the log; with fsync 'always', also forces them to disk. Call before replying. */
  flush(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    fs.writeSync(this.fd, data);
    this.logBytes += data.length;
    this.unsynced = true;
    if (this.fsync === 'always') this.sync();
  }

  private sync(): void {
    if (!this.unsynced) return;
    fs.fsyncSync(this.fd);
    this.unsynced = false;
  }

  /**
   * Writes a snapshot of `entries` — a copy of the store that nothing changes meanwhile — and then cuts from
   * the log what the snapshot holds. Atomic: a temporary file, fsync, rename. Never rejects: a failure is
   * logged and the log kept whole. Does nothing if a snapshot is already being written.
   */
  snapshot(entries: Iterable<StoredEntry>): Promise<void> {
    if (this.writing) return this.writing;
    this.flush();
    const done = this.writeSnapshot(entries, this.logBytes)
      .catch((err: unknown) =>
        console.error(
          `${path.join(this.dir, SNAPSHOT)}: snapshot failed (${(err as Error).message}); the log is kept whole, the next snapshot will try again.`,
        ),
      )
      .finally(() => (this.writing = undefined));
    this.writing = done;
    return done;
  }

  /** Writes the snapshot file, then keeps only the log's records after `logFrom` (those written meanwhile). */
  private async writeSnapshot(entries: Iterable<StoredEntry>, logFrom: number): Promise<void> {
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const file = await fs.promises.open(tmp, 'w');
    try {
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      let count = 0;
      for (const e of entries) {
        const r = setRecord(e);
        chunk.push(r);
        chunkBytes += r.length;
        count++;
        if (chunkBytes >= SNAPSHOT_CHUNK_BYTES) {
          await file.write(Buffer.concat(chunk)); // the event loop serves clients while this is written
          chunk = [];
          chunkBytes = 0;
        }
      }
      chunk.push(record(['END', String(count)]));
      await file.write(Buffer.concat(chunk));
      await file.sync();
    } catch (err) {
      await file.close().catch(() => undefined);
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await file.close();
    await fs.promises.rename(tmp, path.join(this.dir, SNAPSHOT));
    syncFolder(this.dir);
    this.cutLog(logFrom);
  }

  /** Drops the log's first `upTo` bytes (the snapshot holds them); synchronous, so no record is appended meanwhile. */
  private cutLog(upTo: number): void {
    this.flush();
    const logFile = path.join(this.dir, LOG);
    if (upTo >= this.logBytes) {
      fs.ftruncateSync(this.fd, 0);
    } else {
      // Records arrived while the snapshot was written: they become the new log (written aside, then renamed over it).
      const tail = Buffer.alloc(this.logBytes - upTo);
      fs.readSync(this.fd, tail, 0, tail.length, upTo);
      const tmp = `${logFile}.tmp`;
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, tail);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, logFile);
      syncFolder(this.dir);
      fs.closeSync(this.fd);
      this.fd = fs.openSync(logFile, 'a+');
    }
    this.logBytes -= Math.min(upTo, this.logBytes);
    fs.fsyncSync(this.fd);
    this.unsynced = false;
  }

  /** Resolves once no snapshot is being written. */
  async whenIdle(): Promise<void> {
    await this.writing;
  }

  /** Waits for a snapshot being written, then flushes, syncs and closes the log. */
  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.writing;
    this.flush();
    this.sync();
    fs.closeSync(this.fd);
  }
}
