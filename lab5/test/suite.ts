/**
 * Lab 5's named tests, with their points: the tests themselves live one file per handout part (part1-server.ts,
 * part2-expiry.ts, part3-persistence.ts, part4-client.ts; what they share in common.ts). They run in real time against real TCP servers (and, for the crash test, a real child
 * process), on free ports and temporary folders that are removed afterwards:
 *   npm run grade lab5 -- --test <Name>
 * The seed only picks the keys, values and garbage bytes.
 */
import { IMPL_FILES, NODE_MODULES } from '../load';
import { LabSuite, scored } from '../../suite';
import type { Lab5Code } from './harness';
import {
  errorReplies,
  integers,
  malformedInput,
  pipelining,
  setGetDel,
  slowReader,
  transactions,
} from './part1-server';
import { backgroundExpiry, realRedisClient, redisReplies, scan, strangeKeys, ttl } from './part2-expiry';
import {
  corruptLog,
  crashExpiry,
  crashRecovery,
  crashStrangeData,
  crashTransaction,
  fsyncPolicy,
  restartRecovery,
  snapshotCrash,
  snapshotDiskFull,
  snapshotServes,
} from './part3-persistence';
import {
  clientClose,
  clientErrorReply,
  clientRetry,
  clientRetryRecovers,
  clientTimeout,
  concurrentClients,
  hashRing,
  keysAndStats,
  lateReply,
  shardPlacement,
} from './part4-client';
import { nemesisClient, nemesisRedis } from './nemesis';
import { commandModel } from './model-test';
import { longLife } from './long-life';

/** Lab 5's suite: the grader loads it with the student's files or the solution's. */
export const suite: LabSuite<Lab5Code> = {
  lab: 'lab5',
  title: 'Lab 5: a sharded mini-Redis over TCP',
  implFiles: IMPL_FILES,
  nodeModules: NODE_MODULES,
  // The harness keeps only the folder: each test's student host loads the code (harness.ts, student-host.ts).
  load: (dir) => ({ dir }),
  defaultTimeoutSec: 60,
  tests: [
    scored(setGetDel, { points: 3, part: 1 }),
    scored(ttl, { points: 3, part: 2 }),
    scored(backgroundExpiry, { points: 3, part: 2 }),
    scored(keysAndStats, { points: 3, part: 4 }),
    scored(strangeKeys, { points: 2, part: 2 }),
    scored(errorReplies, { points: 3, part: 1 }),
    scored(integers, { points: 3, part: 1 }),
    scored(transactions, { points: 3, part: 1 }),
    scored(malformedInput, { points: 3, part: 1 }),
    scored(slowReader, { points: 2, part: 1 }),
    scored(pipelining, { points: 2, part: 1 }),
    scored(longLife, { points: 2, part: 2, timeoutSec: 120 }),
    scored(concurrentClients, { points: 3, part: 4 }),
    scored(realRedisClient, { points: 3, part: 2 }),
    scored(scan, { points: 2, part: 2 }),
    scored(redisReplies, { points: 3, part: 2 }),
    scored(commandModel, { points: 3, part: 2, timeoutSec: 90 }),
    scored(shardPlacement, { points: 3, part: 4 }),
    scored(hashRing, { points: 3, part: 4 }),
    scored(clientTimeout, { points: 1, part: 4 }),
    scored(clientRetry, { points: 1, part: 4 }),
    scored(clientRetryRecovers, { points: 1, part: 4 }),
    scored(clientErrorReply, { points: 1, part: 4 }),
    scored(clientClose, { points: 1, part: 4 }),
    scored(lateReply, { points: 3, part: 4 }),
    scored(restartRecovery, { points: 3, part: 3 }),
    scored(crashRecovery, { points: 2, part: 3 }),
    scored(crashStrangeData, { points: 3, part: 3 }),
    scored(crashExpiry, { points: 3, part: 3 }),
    scored(crashTransaction, { points: 3, part: 3 }),
    scored(snapshotCrash, { points: 3, part: 3 }),
    scored(corruptLog, { points: 3, part: 3 }),
    scored(snapshotDiskFull, { points: 3, part: 3 }),
    scored(snapshotServes, { points: 3, part: 3 }),
    scored(fsyncPolicy, { points: 3, part: 3 }),
    scored({ ...nemesisRedis, generic: true }, { points: 7, part: 3 }),
    scored({ ...nemesisClient, generic: true }, { points: 4, part: 4 }),
  ],
};
