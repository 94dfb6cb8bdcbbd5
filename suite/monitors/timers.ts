/** The timer monitor: the timers still live when a test ends, against a bound that does not grow with its operations. */
import * as path from 'node:path';
import { codeFrames } from '../../labrpc/stack';
import type { World } from '../../world';
import type { TimerBudget } from '../types';

/** Timers the tester itself may leave live at the end (a scenario's pending step, an attacker's clock). */
export const TESTER_TIMERS = 8;
/** Places of creation shown in a finding. */
const SITES_SHOWN = 3;

/** The servers the per-server allowance counts: every one started, or (killClearsTimers) those still running. */
export function serversCounted(budget: TimerBudget, world: World): number {
  const { serverStarts, serverKills } = world.stats;
  return budget.killClearsTimers ? Math.max(0, serverStarts - serverKills) : serverStarts;
}

/** The bound at this moment: so many per server counted and per call in flight, plus the tester's. */
export function timerBound(budget: TimerBudget, world: World, callsInFlight: number): number {
  return budget.perServer * serversCounted(budget, world) + budget.perCall * callsInFlight + TESTER_TIMERS;
}

/** Where the live timers whose stacks were kept were set: "server.ts:117:16 (290)", most first. */
function sites(world: World): string[] {
  const counts = new Map<string, number>();
  for (const stack of world.timers.liveStacks()) {
    const frame =
      codeFrames(stack, 1)[0]
        ?.replace(/^at\s+/, '')
        .split(process.cwd() + path.sep)
        .join('') ?? "the tester's own code";
    counts.set(frame, (counts.get(frame) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, SITES_SHOWN)
    .map(([frame, n]) => `${frame} (${n})`);
}

/** What the live timers at the end break, for a student; undefined when within the bound. */
export function timerFinding(
  budget: TimerBudget,
  world: World,
  callsInFlight: number,
  ops: number,
): string | undefined {
  const live = world.timers.count;
  const bound = timerBound(budget, world, callsInFlight);
  if (live <= bound) return undefined;
  const starts = world.stats.serverStarts;
  const counted = budget.killClearsTimers
    ? `${budget.perServer} per server still running (${serversCounted(budget, world)} of ${starts} started: a ` +
      'killed server must have stopped all of its timers)'
    : `${budget.perServer} per server started (${starts} ${starts === 1 ? 'start' : 'starts'})`;
  const where = sites(world);
  return (
    `Timers left running: ${live} timers set with setTimeout or setInterval were still live when the test ended ` +
    `(neither fired nor cleared), more than the ${bound} it allows: ${counted}, ${budget.perCall} per call still in flight (${callsInFlight}; of the calls a handler of yours was still holding, one per sender and receiver) ` +
    `and ${TESTER_TIMERS} for the tester. The bound does not grow with the number of operations (this test made ` +
    `${ops}): timers that pile up as operations go by are a leak, which over a long life costs memory and time.` +
    (where.length > 0 ? `\nWhere they were set (of those set while too many were live): ${where.join('; ')}.` : '') +
    `\nLikely causes: ${budget.causes}; a timer set for each operation and never cleared once the operation ` +
    'completes; a setInterval never stopped with clearInterval; a timer set again on each event without clearing ' +
    'the one before.'
  );
}
