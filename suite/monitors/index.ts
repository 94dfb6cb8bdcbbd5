/**
 * The runner's monitors: what every simulated test of a lab is held to besides its own checks, from the budgets its
 * suite.ts declares once (`monitored`): the timers live at its end, the pacing of retries, the re-sending of failed
 * calls. suite/run.ts attaches them to each run's world (`watchRun`) and reads their findings when the run ends.
 */
import type { World } from '../../world';
import type { Monitors, NamedTest } from '../types';
import { CallBook, type CallRule } from './calls';
import { PacingWatch } from './pacing';
import { ResendWatch } from './resend';
import { TESTER_TIMERS, timerBound, timerFinding } from './timers';

export { TESTER_TIMERS } from './timers';

/** `tests`, each holding the lab's `monitors`: the one declaration of a suite's budgets, attached to every test. */
export function monitored<Impl>(monitors: Monitors, tests: ReadonlyArray<NamedTest<Impl>>): Array<NamedTest<Impl>> {
  return tests.map((t) => ({ ...t, monitors }));
}

/** The monitors of one run, attached to its world. */
export interface RunWatch {
  /**
   * What the monitors found once the run ended, for a student (empty when nothing). `passed`: the test's own
   * checks passed, so every finding counts; after a failure, only the findings that name a cause (pacing, re-sends).
   */
  findings(passed: boolean, ops: number): string;
}

/** Attaches `monitors` to `world` before its run starts. */
export function watchRun(world: World, monitors: Monitors): RunWatch {
  const pacing = (monitors.pacing ?? []).map((rule) => new PacingWatch(rule));
  const resend = monitors.resend ? new ResendWatch(monitors.resend) : undefined;
  const rules: CallRule[] = [...pacing, ...(resend ? [resend] : [])];
  const refusals = new Set((monitors.pacing ?? []).flatMap((r) => r.refusals ?? []));
  const book = new CallBook(world, rules, refusals);
  world.listenCalls(book);
  const budget = monitors.timers;
  // Keep the stacks of timers set while more are live than the servers alone may keep, so a leak says where.
  world.timers.watchAbove = budget.perServer * Math.max(1, world.stats.serverStarts) + TESTER_TIMERS;
  world.listenCalls({
    // callsInFlight, not callsAllowed (its upper bound, counted in a loop): stacks are kept from a little later.
    sent: () => void (world.timers.watchAbove = timerBound(budget, world, book.callsInFlight)),
    handled: () => undefined,
    replied: () => undefined,
    timedOut: () => undefined,
  });
  return {
    findings(passed, ops) {
      const found = [
        ...pacing.map((p) => p.finding()),
        resend?.finding(world.endedAt),
        passed ? timerFinding(budget, world, book.callsAllowed, ops) : undefined,
      ];
      return found.filter((f): f is string => f !== undefined).join('\n\n');
    },
  };
}
