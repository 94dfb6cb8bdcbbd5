/**
 * Weighs a process from outside, as the operating system sees it: its resident memory and open descriptors from
 * /proc/<pid>/status and /proc/<pid>/fd. Nothing the process itself reports is used.
 */
import * as fs from 'node:fs';

/** A process's weight: resident memory (VmRSS, bytes) and open file descriptors. */
export interface ProcWeight {
  readonly pid: number;
  readonly rssBytes: number;
  readonly fds: number;
}

/** The weight of process `pid` now, or undefined if it cannot be read. */
export function weighProcess(pid: number): ProcWeight | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!rss) return undefined;
    return { pid, rssBytes: Number(rss[1]) * 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}
