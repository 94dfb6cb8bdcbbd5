/** Lab 3's promises on re-sending a failed peer call: how soon at the earliest and how late at the latest. */
import type { ResendPromise, RetryPacing } from '../../suite';

/** A failed peer call waits at least this long before it is sent again, ms (the handout's RESEND_MS). */
export const RESEND_MS = 100;

/** A failed peer call must be sent again within this many ms (the handout says so; the reference waits RESEND_MS). */
export const RESEND_WITHIN_MS = 2000;

/**
 * The rules judge every call a server sends, whatever its method (the clients' ends are the tester's, judged by no
 * rule: a server's peer call named like a client's, KVServer.Write, is judged too).
 *
 * "wait at least RESEND_MS": the same server-to-server call sent again to the server it failed at no sooner than
 * RESEND_MS after the failure. A server has many messages in flight to one peer at once; each carries its own
 * sequence number, so they are told apart and each is judged.
 */
export const PEER_PACING: RetryPacing = {
  rule: `wait at least \`RESEND_MS\` = ${RESEND_MS} ms before each re-send`,
  distinctCalls: true,
  after: 'each',
  minWaitMs: RESEND_MS,
  causes:
    'a peer call whose promise rejects is sent again at once: .catch(() => attempt()) or a loop that calls again ' +
    'without a wait in between; a wait of 0 ms (setTimeout(fn, 0), setImmediate, queueMicrotask) or shorter than ' +
    `RESEND_MS (${RESEND_MS} ms); a setTimeout whose callback is called at once (setTimeout(attempt(), ${RESEND_MS})) ` +
    'or a sleep whose promise is not awaited; a back-off that starts below RESEND_MS. Over real HTTP a peer that is ' +
    'not listening yet refuses each call within a millisecond, so a re-send without a wait is a busy loop',
};

/** "re-send a peer call that rejects until it succeeds": the same call to the same server within RESEND_WITHIN_MS. */
export const PEER_RESEND: ResendPromise = {
  rule: 're-send a peer call that rejects until it succeeds',
  withinMs: RESEND_WITHIN_MS,
  causes:
    'a peer call whose promise rejects is caught and dropped (.catch(() => {}) or a try/catch that does not send ' +
    'again); a re-send loop that gives up after a few tries or a fixed time; a re-send that waits longer and ' +
    `longer without a cap (each wait must stay under ${RESEND_WITHIN_MS / 1000} s)`,
};
