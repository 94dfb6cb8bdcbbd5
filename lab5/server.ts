/**
 * Lab 5 — the mini-Redis server. YOU WRITE THIS FILE. See lab5/README.md, parts 1–3.
 *
 * startServer listens on TCP, and for every connection:
 *   - keeps a RequestParser (lab5/resp.ts), pushes each chunk of bytes into it, and runs every complete
 *     command it yields (a chunk may hold many commands, or part of one);
 *   - answers each command with a reply built by `reply.*`, in order, written with `socket.write(text, 'latin1')`;
 *   - on a ProtocolError, writes `reply.error(err.message)` and closes that connection (only that one);
 *   - handles the socket's 'error' event (a client that vanishes must not crash the server).
 * Each command behaves exactly as in Redis 7.0 (README, the command table; TestRedisReplies compares your replies
 * with recorded ones): integers through parseInt64 (lab5/int64.ts), globs through globMatch (lab5/glob.ts).
 * A connection inside MULTI queues its commands until EXEC (README, "Transactions").
 * The store maps key -> value, with optional absolute expiry times; expired keys disappear when touched and
 * in a background sweep every `sweepIntervalMs`. SCAN's cursor must survive deletions (README, "SCAN").
 * INFO reports the statistics (README, "INFO").
 * With a `dataDir`, changes go through persistence.ts.
 */
import type { RunningServer, ServerOptions } from './types';

/** Starts a server and resolves once it listens (with `port: 0`, on a free port: report the real one). */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // TODO: create a net.Server, accept connections, parse commands, run them, reply; start the timers;
  // load the data folder first when options.dataDir is set.
  throw new Error(
    `TODO: startServer is not implemented yet (asked for port ${options.port ?? 0}); see lab5/README.md, part 1`,
  );
}
