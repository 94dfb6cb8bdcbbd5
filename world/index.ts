/** The simulated world: virtual clock, seeded randomness, run loop. */
export { World, WorldOptions, VirtualTimeout, sleep, realNow, realSleep } from './world';
export { Rng, assertValidSeed, freshSeed, keyedRng, keyedRngAfter, keyPrefix } from './rng';
export { TraceHash } from './hash';
export { TimerLedger } from './timers';
export { CallListener, HeardCall } from './calls';
export { VirtualTimeLimitError, DeadlockError, WatchdogError, UncaughtError } from './errors';
export { FaultControl, AppliedFault, DISTURBANCE_KEY } from './faults';
export {
  TraceRecorder,
  TraceEvent,
  TraceData,
  LossCause,
  TRACE_EVENT_LIMIT,
  TEST_LANE,
  recordedValue,
  boundTrace,
} from './recorder';
