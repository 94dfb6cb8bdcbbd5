/** The whole-memory limit of the processes that run code under test: their resident sets, read from /proc and polled. */
import fs from 'node:fs';

/**
 * Resident memory a test's processes may hold in all beyond the JavaScript heap limit, MB: node itself, the kit's
 * and the code's compiled modules, Buffers and typed arrays of honest size (no lab's reference comes near it).
 */
export const RESIDENT_ALLOWANCE_MB = 512;

/** How often the resident sets are read, ms (a process that allocates faster overshoots by at most this much time). */
export const POLL_MS = 50;

/** The resident-memory limit of a test's processes, MB, for a JavaScript heap limit of `heapLimitMb`. */
export function residentLimitMb(heapLimitMb: number): number {
  return heapLimitMb + RESIDENT_ALLOWANCE_MB;
}

/** Resident memory of process `pid`, bytes (VmRSS: heap, Buffers, code, everything); undefined where /proc does not show it. */
export function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** What a watch found over the limit. */
export interface MemoryOverrun {
  /** The limit, MB. */
  readonly limitMb: number;
  /** What the processes held when seen, MB (rounded up). */
  readonly heldMb: number;
  /** How many processes that was (the test process and those started for its test). */
  readonly processes: number;
}

/**
 * Polls the resident sets of a group of processes (`pids`, asked afresh each time) every POLL_MS and calls `over`
 * once, the first time their sum passes `limitMb`. Where /proc does not exist the watch does nothing (the heap
 * limit still holds). Its timer never keeps the grader alive.
 */
export class MemoryWatch {
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private fired = false;

  constructor(limitMb: number, pids: () => ReadonlyArray<number | undefined>, over: (o: MemoryOverrun) => void) {
    if (!fs.existsSync('/proc/self/status')) return;
    this.timer = setInterval(() => {
      if (this.fired) return;
      let held = 0;
      let count = 0;
      for (const pid of pids()) {
        const b = residentBytes(pid);
        if (b === undefined) continue;
        held += b;
        count++;
      }
      if (held <= limitMb * 1024 * 1024) return;
      this.fired = true;
      this.stop();
      over({ limitMb, heldMb: Math.ceil(held / (1024 * 1024)), processes: count });
    }, POLL_MS);
    this.timer.unref();
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
