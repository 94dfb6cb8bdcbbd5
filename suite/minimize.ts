/** The smallest failing schedule: delta debugging over the faults the network injected in a failing run. */
import { DISTURBANCE_KEY, realNow, type AppliedFault, type TraceData } from '../world';

/** What minimization found. */
export interface MinimalFaults {
  /** Faults the failing run had. */
  readonly total: number;
  /** How many of them were a generic attacker's disturbances (crashes, partitions, holds ...), not the network's. */
  readonly disturbances?: number;
  /** A set of them with which the test still fails (empty: it fails with no fault at all). */
  readonly kept: readonly AppliedFault[];
  /** True when the test passes with every fault removed. */
  readonly passesWithout: boolean;
  /** False when the time ran out (or a replay could not tell) before no fault could be removed. */
  readonly complete: boolean;
  /** Replays run. */
  readonly replays: number;
  /** The faults the test itself caused in the failing run (minimization never removes these). */
  readonly scripted?: ScriptedFaults;
}

/** Faults a test makes on purpose: messages it loses (disabled ends, cut links), servers it stops and restarts. */
export interface ScriptedFaults {
  /** Requests and replies lost because the test disabled an end or stopped the server. */
  readonly lost: number;
  readonly stopped: number;
  readonly restarted: number;
}

/** Counts the faults a test scripted, from a recorded run (the network's chance faults are `why: 'unreliable'`). */
export function scriptedFaults(trace: TraceData): ScriptedFaults {
  let lost = 0;
  let stopped = 0;
  let restarted = 0;
  for (const e of trace.events) {
    if (e.k === 'drop' && (e.why === 'disabled' || e.why === 'killed')) lost++;
    else if (e.k === 'net' && e.what === 'killed') stopped++;
    else if (e.k === 'net' && e.what.startsWith('restarted')) restarted++;
  }
  return { lost, stopped, restarted };
}

/** "lost 3 messages and stopped 1 server", or '' when the test scripted no fault. */
function describeScripted(f: ScriptedFaults | undefined): string {
  if (!f) return '';
  const parts = [
    f.lost > 0 ? `lost ${f.lost} message${f.lost === 1 ? '' : 's'}` : '',
    f.stopped > 0 ? `stopped ${f.stopped} server${f.stopped === 1 ? '' : 's'}` : '',
    f.restarted > 0 ? `restarted ${f.restarted} server${f.restarted === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  return parts.length === 0
    ? ''
    : parts.length === 1
      ? parts[0]
      : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/**
 * Whether the test fails when only the faults with these keys may happen; undefined when the replay could not
 * tell (it crashed or ran out of time), which ends the search. A replay that failed may instead give the faults
 * that happened in it: the faults kept are then described as they happened in the last failing replay (a key
 * names the same call, but its arguments and time can differ from the first run's once other faults are gone).
 */
export type FailsWith = (allowed: readonly string[]) => Promise<boolean | readonly AppliedFault[] | undefined>;

/**
 * Removes faults from `all` (those of a failing run) while the test still fails, until no single fault or chunk can
 * be removed (Zeller's ddmin, keeping the first failing subset or complement found, so the result is deterministic),
 * or until `deadline` (a realNow() instant).
 */
export async function minimizeFaults(
  all: readonly AppliedFault[],
  fails: FailsWith,
  deadline: number,
): Promise<MinimalFaults> {
  const found = await ddmin(all, fails, deadline);
  const disturbances = all.filter((f) => f.key.startsWith(DISTURBANCE_KEY)).length;
  return disturbances > 0 ? { ...found, disturbances } : found;
}

/** Zeller's ddmin over `all` (see minimizeFaults). */
async function ddmin(all: readonly AppliedFault[], fails: FailsWith, deadline: number): Promise<MinimalFaults> {
  let replays = 0;
  /** The faults that happened in the last failing replay, by key. */
  let seen = new Map<string, AppliedFault>();
  const test = async (set: readonly AppliedFault[]): Promise<boolean | undefined> => {
    if (realNow() > deadline) return undefined;
    replays++;
    const r = await fails(set.map((f) => f.key));
    if (typeof r !== 'object') return r;
    seen = new Map(r.map((f) => [f.key, f]));
    return true;
  };
  /** `set` (the last that failed) as its faults happened in that replay. */
  const asSeen = (set: readonly AppliedFault[]): readonly AppliedFault[] => set.map((f) => seen.get(f.key) ?? f);
  const none = all.length === 0 ? true : await test([]);
  if (none === undefined) return { total: all.length, kept: all, passesWithout: false, complete: false, replays };
  if (none) return { total: all.length, kept: [], passesWithout: false, complete: true, replays };
  let current = all;
  let n = 2;
  while (current.length >= 2) {
    const chunks = split(current, n);
    let next: readonly AppliedFault[] | undefined;
    let nextN = n;
    for (const chunk of chunks) {
      const r = await test(chunk);
      if (r === undefined)
        return { total: all.length, kept: asSeen(current), passesWithout: true, complete: false, replays };
      if (r) {
        next = chunk;
        nextN = 2;
        break;
      }
    }
    if (!next && n > 2) {
      for (const chunk of chunks) {
        const rest = current.filter((f) => !chunk.includes(f));
        const r = await test(rest);
        if (r === undefined)
          return { total: all.length, kept: asSeen(current), passesWithout: true, complete: false, replays };
        if (r) {
          next = rest;
          nextN = Math.max(n - 1, 2);
          break;
        }
      }
    }
    if (next) {
      current = next;
      n = nextN;
    } else if (n >= current.length) break;
    else n = Math.min(current.length, 2 * n);
  }
  return { total: all.length, kept: asSeen(current), passesWithout: true, complete: true, replays };
}

/**
 * What makes two failures the same failure for minimization: the kind of failure and its first line with numbers
 * and quoted text blurred (removing faults moves times and values, not what went wrong). A replay that fails
 * some other way (say, a check that needs faults to happen) does not count as still failing.
 */
export function failureSignature(o: { readonly crash?: string; readonly message: string }): string {
  const first = o.message.split('\n', 1)[0];
  return `${o.crash ?? ''}|${first.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/\d+(\.\d+)?/g, 'N')}`;
}

/** `xs` in `n` nearly equal consecutive chunks. */
function split<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((xs.length - start) / (n - i));
    out.push(xs.slice(start, end));
    start = end;
  }
  return out.filter((c) => c.length > 0);
}

/** The run's chance faults counted for people: the network's, the attacker's disturbances, or both. */
function chanceFaults(m: MinimalFaults): string {
  const d = m.disturbances ?? 0;
  if (d === 0) return `the network's ${m.total} chance fault${m.total === 1 ? '' : 's'}`;
  if (d === m.total) return `the attacker's ${d} disturbance${d === 1 ? '' : 's'}`;
  return `${m.total} chance faults (the network's ${m.total - d} and the attacker's ${d} disturbances)`;
}

/**
 * What stays in every replay: the faults the test scripts itself, which are its scenario, so the search never
 * removes them (empty when it scripted none).
 */
function ownScenario(m: MinimalFaults): string {
  const scripted = describeScripted(m.scripted);
  if (!scripted) return '';
  return (
    `What no replay removes is the test's own scenario: it ${scripted} on purpose (the trace page marks each), ` +
    'so look at what your code does when a message is lost or a server stops.'
  );
}

/** The sentence for students: what the search removed, what is left, and why the rest could not go. */
export function describeMinimalFaults(m: MinimalFaults, listed = Infinity): string {
  const own = ownScenario(m);
  const also = own ? ` ${own}` : '';
  const chance = chanceFaults(m);
  if (m.total === 0 && own) return `The network added no chance faults to this run. ${own}`;
  if (m.total === 0)
    return 'No message was lost and no server stopped in this run: it fails on a reliable network (a concurrency or logic bug, not a fault-handling one).';
  if (!m.passesWithout && m.complete && own)
    return `It still fails with all of ${chance} removed, so none of them matters.${also}`;
  if (!m.passesWithout && m.complete)
    return `It fails with no faults at all (all of ${chance} removed): a concurrency bug, not a fault-handling one.`;
  if (!m.complete && !m.passesWithout)
    return `The search for the fewest faults ran out of time before its first replay; the run had ${chance}.`;
  if (m.kept.length === m.total)
    return m.complete
      ? `With no faults this test passes, but none of ${chance} could be removed: without any one of them it passes or fails another way, so the failure needs this exact schedule. The trace page shows them all.${also}`
      : `With no faults this test passes; the search ran out of time before it could remove any of ${chance}. The trace page shows them all.${also}`;
  const named = m.kept.slice(0, listed).map((f) => f.what);
  if (m.kept.length > named.length) named.push(`and ${m.kept.length - named.length} more (the trace page lists them)`);
  const removed = m.total - m.kept.length;
  const head = `With no faults this test passes. ${removed} of ${chance} could be removed; it still fails with just ${m.kept.length === 1 ? 'this one' : `these ${m.kept.length}`}: ${named.join('; ')}.`;
  const more = m.complete ? '' : ' (The search stopped at its time limit: fewer may still fail.)';
  return `${head}${more}${also}`;
}
