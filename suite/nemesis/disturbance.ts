/** An attacker's disturbances as faults: each one a minimizing replay may leave out, like a lost message. */
import { World } from '../../world';

/**
 * Whether the disturbance `what` (a crash, a partition, a hold ...) happens: always, except in a minimizing replay
 * that left it out. Call it once the disturbance's random draws are made and before acting, and act only on true;
 * a disturbance that happens is added to `log`, the round's list for the test's log.
 */
export function mayDisturb(log: string[], what: string): boolean {
  const world = World.current();
  const at = world.now();
  const happens = world.faults?.disturb(() => `at ${at.toFixed(1)} ms the attacker's "${what}"`) ?? true;
  if (happens) log.push(what);
  return happens;
}
