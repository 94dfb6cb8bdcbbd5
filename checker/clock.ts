/** A real-time clock for time budgets: the simulated world's virtual clock does not move during a check. */
import { realNow } from '../world/world';

/** Real milliseconds since an arbitrary origin, unaffected by any virtual clock. */
export function realNowMs(): number {
  return realNow();
}
