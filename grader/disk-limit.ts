/** The disk limit of the code under test: what its scratch folder (the only place it may write) holds, polled. */
import fs from 'node:fs';
import path from 'node:path';

/**
 * What a grading's scratch folder may hold, MB: lab 5's data folders (logs, snapshots, their crash copies) of
 * honest size come nowhere near it, and code that writes without bound is stopped long before the disk of a batch
 * grading fills for its classmates.
 */
export const SCRATCH_LIMIT_MB = 1024;

/** Files and folders the scratch folder may hold (a walk past it stops: inodes are a resource too). */
export const SCRATCH_ENTRY_LIMIT = 20_000;

/** How often the folder is weighed, ms (code that writes faster overshoots by at most this much time of writing). */
export const DISK_POLL_MS = 200;

/** What a folder holds on disk. */
export interface FolderUsage {
  /** Bytes of disk its files take (allocated blocks: a sparse file counts what it really uses). */
  readonly bytes: number;
  /** Files, folders and links in it, counted up to SCRATCH_ENTRY_LIMIT + 1. */
  readonly entries: number;
}

/** Weighs `dir` without following links; a file removed during the walk is skipped. */
export function folderUsage(dir: string, entryLimit = SCRATCH_ENTRY_LIMIT): FolderUsage {
  let bytes = 0;
  let entries = 0;
  const pending = [dir];
  while (pending.length > 0 && entries <= entryLimit) {
    const folder = pending.pop() as string;
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (++entries > entryLimit) break;
      const file = path.join(folder, name);
      try {
        const st = fs.lstatSync(file);
        bytes += st.blocks * 512;
        if (st.isDirectory()) pending.push(file);
      } catch {
        // removed meanwhile
      }
    }
  }
  return { bytes, entries };
}

/** What a watch found over the limit. */
export interface DiskOverrun {
  /** The limit, MB. */
  readonly limitMb: number;
  /** What the folder held when weighed, MB (rounded up). */
  readonly heldMb: number;
  /** How many entries it held (more than SCRATCH_ENTRY_LIMIT: too many files, whatever their size). */
  readonly entries: number;
}

/**
 * Weighs `dir` every DISK_POLL_MS and calls `over` once, the first time it holds more than `limitMb` or more than
 * SCRATCH_ENTRY_LIMIT entries. Its timer never keeps the grader alive.
 */
export class DiskWatch {
  private readonly timer: ReturnType<typeof setInterval>;
  private fired = false;

  constructor(dir: string, limitMb: number, over: (o: DiskOverrun) => void) {
    this.timer = setInterval(() => {
      if (this.fired) return;
      const usage = folderUsage(dir);
      if (usage.bytes <= limitMb * 1024 * 1024 && usage.entries <= SCRATCH_ENTRY_LIMIT) return;
      this.fired = true;
      this.stop();
      over({ limitMb, heldMb: Math.ceil(usage.bytes / (1024 * 1024)), entries: usage.entries });
    }, DISK_POLL_MS);
    this.timer.unref();
  }

  /** Stops weighing. */
  stop(): void {
    clearInterval(this.timer);
  }
}
