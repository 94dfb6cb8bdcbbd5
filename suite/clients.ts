/** Spawning groups of simulated clients, as MIT's tester does: K clients for D virtual milliseconds. */

/** Tells a client whether its time is up. */
export type Done = () => boolean;

/**
 * Starts `n` clients at once, each running `body(i, done)`; `done()` turns true after `durationMs` of
 * virtual time. Resolves to every client's result, in client order, once all of them have returned.
 */
export async function runClients<R>(
  n: number,
  durationMs: number,
  body: (client: number, done: Done) => Promise<R>,
): Promise<R[]> {
  let over = false;
  const timer = setTimeout(() => (over = true), durationMs);
  try {
    return await Promise.all(Array.from({ length: n }, (_, i) => body(i, () => over)));
  } finally {
    clearTimeout(timer);
  }
}
