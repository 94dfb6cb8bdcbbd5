/** How much CPU another process has used, where the OS shows it: a simulated test's time limit counts it, not real time. */
import fs from 'node:fs';

/** Linux's USER_HZ: /proc counts CPU time in these ticks per second (100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/** A simulated test may run this many times its limit in real time while the machine starves it of CPU. */
export const STARVED_FACTOR = 4;

/** CPU time (user and system) process `pid` has used so far, ms; undefined where /proc does not show it. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime and stime, fields 14 and 15 of the line
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** What a simulated test's run has used of its limit when the real-time deadline comes. */
export interface StarvedRun {
  /** Real time since the run started, ms. */
  readonly realMs: number;
  /** CPU time its process spent in that time, ms. */
  readonly cpuMs: number;
}

/**
 * The new deadline (a performance.now() time) for a simulated test whose process the machine starved: it has used
 * less CPU than its limit, and less than STARVED_FACTOR times the limit in real time. Undefined when it must stop.
 */
export function starvedDeadline(run: StarvedRun, limitMs: number, now: number, graceMs: number): number | undefined {
  const cap = now - run.realMs + STARVED_FACTOR * limitMs;
  if (run.cpuMs >= limitMs || now >= cap) return undefined;
  return Math.min(cap, now + Math.max(1000, limitMs - run.cpuMs) + graceMs);
}
