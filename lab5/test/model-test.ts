/** TestCommandModel: random programs from the edge grammar, run over TCP and judged by the command model, shrunk when one fails. */
import { TestFailure } from '../../suite';
import { realTest, type Lab5Test } from './common';
import { Grammar } from './model-grammar';
import { runProgram, showReplay, shrink } from './model-run';

/** Programs per run, and packets per program (each packet is followed by a probe of the whole store). */
const PROGRAMS = 10;
const PACKETS = 60;
/** How long a failure may be shrunk, ms. */
const SHRINK_MS = 20_000;

/** The likely causes of a disagreement, by the command that disagreed. */
const CAUSES: Readonly<Record<string, string>> = {
  set: "SET's options: read them all first, in any order, a repeated time taking the last; NX with XX, two kinds of time or KEEPTTL with a time is a syntax error; then the time (not an integer: the integer error; <= 0 or past the limits: invalid expire time); a plain SET clears the TTL, KEEPTTL keeps it; GET replies the old value whether or not it set; EXAT/PXAT in the past leaves the key gone",
  get: 'the store kept in a plain object (keys such as __proto__ or constructor), values written as UTF-8 instead of bytes, or an earlier command that changed the key wrongly',
  del: 'a key named twice counted twice, an expired key counted as deleted, or the store kept in a plain object',
  exists: 'a key named twice must count twice; an expired key must not count',
  incr: "64-bit arithmetic done in doubles, integers read leniently ('01', '+1', ' 1', '1.5' are not integers), the overflow check missing, the TTL dropped, or a refused command that changed the value",
  expire:
    'the order of the checks (options, then the time, then the key), GT/LT with a key that has no TTL (none counts as infinite), the 64-bit limits of the time, or a time <= now that must delete the key and reply 1',
  ttl: 'TTL rounds the ms left to seconds; -1 for a key without TTL, -2 for a missing or expired key',
  keys: 'expired keys listed, the pattern not matched as globMatch does, or the store kept in a plain object',
  scan: "SCAN's options (COUNT below 1: syntax error; an option without its value), the cursor read as strtoul reads it, or expired keys returned",
  dbsize: 'expired keys counted, or a key removed from the store but not from the count',
  info: 'the statistics: every executed command counted (INFO itself, and queued commands when EXEC runs them; not an unknown command or a wrong number of arguments), expired_keys counting removals by expiry, db0 counting only live keys and those with a TTL',
  multi:
    "the transaction's state: kept per connection, and all of it (the queue, its byte count, the mark a refused command leaves) reset by MULTI and dropped by EXEC and DISCARD, not kept across them; a refused command aborts EXEC; MULTI inside MULTI is an error that keeps the transaction; an EXEC with arguments ends it; commands queued are counted in INFO when EXEC runs them, not when queued",
  quit: 'a command after QUIT (or after bytes the parser refuses) in the same packet was run or answered: stop reading the packet at QUIT, reply +OK, and close the connection; or the connection was not closed',
  flushdb: 'FLUSHDB takes one optional SYNC or ASYNC; anything else is a syntax error that removes nothing',
  probe:
    'the store differs from the model after the packet shown last: a command changed a key (value or TTL) other than as the handout says, or changed nothing where it should have',
};

function causesFor(name: string): string {
  const alias: Record<string, string> = {
    decr: 'incr',
    incrby: 'incr',
    decrby: 'incr',
    pexpire: 'expire',
    pttl: 'ttl',
    exec: 'multi',
    discard: 'multi',
  };
  return CAUSES[alias[name] ?? name] ?? CAUSES.probe;
}

export const commandModel: Lab5Test = realTest(
  'TestCommandModel',
  'random packets on several connections, every argument at its edges (numbers, TTLs and counts negative, zero, huge, not integers; keys empty, huge, non-ASCII, numeric-looking, named like __proto__; a value equal to the one held), pipelines, transactions and commands after QUIT, each reply and the whole store after each packet judged by a model of the handout; a failure is shrunk and printed as a replay',
  async (res, ctx, rng) => {
    for (let p = 1; p <= PROGRAMS; p++) {
      const program = new Grammar(rng).program(PACKETS);
      const run = await runProgram(res, program);
      ctx.countOps(run.log.reduce((n, l) => n + l.steps.length, 0));
      if (run.failedAt === undefined) continue;
      const small = await shrink(res, program, run, SHRINK_MS);
      const failed = small.run;
      throw new TestFailure(
        `Program ${p} of ${PROGRAMS} disagreed with the handout's model of the commands: ${failed.why}.\n` +
          `The shortest failing sequence found (${small.program.length} packet(s), shrunk from ${(run.failedAt ?? 0) + 1} in ${small.tries} reruns, each on a fresh server):\n` +
          `${showReplay(failed)}\n` +
          `Likely causes: ${causesFor(failed.failedName ?? 'probe')}.\n` +
          `Replay with: npm run grade lab5 -- --test TestCommandModel --seed ${ctx.seed} (real time: the seed fixes the commands, not the timing; TTLs are long enough that timing does not change a reply).`,
      );
    }
  },
);
