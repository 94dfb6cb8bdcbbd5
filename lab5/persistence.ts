/**
 * Lab 5 — persistence: a snapshot plus an append-only log. YOU WRITE THIS FILE. See lab5/README.md, part 3.
 *
 * The shape below is a suggestion (the reference solution has it); only your server.ts calls this file, so
 * you may change it. What the tests require: the log is `<dataDir>/appendonly.aof`, made of RESP commands
 * (use `encodeCommand` to write them and a `RequestParser` to read them back); a torn last record (a crash in
 * the middle of a write) is ignored and cut off when loading, but a record damaged anywhere else makes loading
 * throw (naming the file and the byte) and leaves the file alone; with fsync 'always' a change is on disk before
 * the client hears OK; a snapshot replaces the log, so the folder stays about as big as the data; the changes of
 * one EXEC reach the log as one unit (between MULTI and EXEC records), and a log that ends inside a transaction
 * is cut back to where that transaction starts.
 */
import type { FsyncPolicy } from './types';

/** One key as stored on disk. */
export interface StoredEntry {
  key: string;
  value: string;
  /** Absolute expiry time (ms since the epoch), or undefined for no expiry. */
  expiresAt?: number;
}

/** The data folder of one server. */
export class Persistence {
  readonly dir: string;
  readonly fsync: FsyncPolicy;

  constructor(dir: string, fsync: FsyncPolicy) {
    this.dir = dir;
    this.fsync = fsync;

    // TODO: create the folder if needed and open the log for appending.
  }

  /** Reads the snapshot, then replays the log over it; returns the entries not yet expired at `now`. */
  load(now: number): StoredEntry[] {
    throw new Error(`TODO: Persistence.load is not implemented yet (at ${now}); see lab5/README.md, part 3`);
  }

  /** Records a key's new value and expiry. */
  recordSet(key: string, value: string, expiresAt: number | undefined): void {
    throw new Error(
      `TODO: Persistence.recordSet is not implemented yet (key "${key}", ${value.length} bytes, expiry ${expiresAt}); see lab5/README.md, part 3`,
    );
  }

  /** Records that a key was deleted. */
  recordDelete(key: string): void {
    throw new Error(`TODO: Persistence.recordDelete is not implemented yet (key "${key}"); see lab5/README.md, part 3`);
  }

  /** Records that every key was deleted. */
  recordFlush(): void {
    throw new Error('TODO: Persistence.recordFlush is not implemented yet; see lab5/README.md, part 3');
  }

  /** Runs `changes` (one EXEC's commands); the records they add reach the log as one unit (see the README, part 3). */
  atomically<T>(changes: () => T): T {
    void changes;
    throw new Error('TODO: Persistence.atomically is not implemented yet; see lab5/README.md, part 3');
  }

  /** Writes pending records to the log (and fsyncs with policy 'always'). Call before sending replies. */
  flush(): void {
    throw new Error('TODO: Persistence.flush is not implemented yet; see lab5/README.md, part 3');
  }

  /** Writes a snapshot of `entries` atomically (temporary file, fsync, rename), then empties the log. */
  snapshot(entries: Iterable<StoredEntry>): void {
    void entries;
    throw new Error('TODO: Persistence.snapshot is not implemented yet; see lab5/README.md, part 3');
  }

  /** Flushes, fsyncs and closes the log. */
  close(): void {
    throw new Error('TODO: Persistence.close is not implemented yet; see lab5/README.md, part 3');
  }
}
