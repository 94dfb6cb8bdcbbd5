/** Why a simulated run stopped before its test body finished. */

/** The run used more virtual time than its limit allows. */
export class VirtualTimeLimitError extends Error {
  override name = 'VirtualTimeLimitError';
  constructor(limitMs: number) {
    super(
      `The test did not finish within its virtual time limit of ${limitMs / 1000} s. ` +
        'Look for a client that retries forever, a loop that never ends, or a reply that never comes.',
    );
  }
}

/** Nothing is scheduled, yet the test body is still waiting. */
export class DeadlockError extends Error {
  override name = 'DeadlockError';
  constructor(atMs: number) {
    super(
      `At virtual time ${(atMs / 1000).toFixed(3)} s the test is still waiting, but nothing is left to happen: ` +
        'no timer, no message in flight. Some promise is never resolved (for example a handler that never ' +
        'returns, or a wait on a condition nobody signals).',
    );
  }
}

/** The run used more CPU time than its watchdog allows (code that keeps yielding but never finishes). */
export class WatchdogError extends Error {
  override name = 'WatchdogError';
  constructor(cpuMs: number, virtualMs: number) {
    super(
      `The test used ${(cpuMs / 1000).toFixed(1)} s of CPU (virtual time ${(virtualMs / 1000).toFixed(3)} s) ` +
        'and was stopped. Something is doing far more work than the test needs, or spinning without waiting.',
    );
  }
}

/** An exception escaped a timer callback: in a real Node program it would crash the process. */
export class UncaughtError extends Error {
  readonly error: unknown;
  override name = 'UncaughtError';
  constructor(error: unknown) {
    super(
      `An exception escaped a timer callback (in a real program this would crash the process): ${error instanceof Error ? error.message : String(error)}`,
    );
    this.error = error;
  }
}
