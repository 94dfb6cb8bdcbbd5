/** How the tests, the tools and the demo load lab 5's code from a folder: yours (lab5/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import type { Lab5Impl } from './test/harness';

/** The node modules lab 5's code may import (the suite's `nodeModules`, and what its processes give the code). */
export const NODE_MODULES = ['net', 'fs', 'path', 'crypto'] as const;

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts', 'persistence.ts', 'client.ts'] as const;

/** Lab 5's code from `dir` (absolute), ready for a test or a tool. */
export function load(dir: string): Lab5Impl {
  const server = codeLoader().require(path.join(dir, 'server.ts')) as Pick<Lab5Impl, 'startServer'>;
  const client = codeLoader().require(path.join(dir, 'client.ts')) as Pick<
    Lab5Impl,
    'ShardedClient' | 'md5Shard' | 'HashRing'
  >;
  return {
    dir,
    startServer: server.startServer,
    ShardedClient: client.ShardedClient,
    md5Shard: client.md5Shard,
    HashRing: client.HashRing,
  };
}
