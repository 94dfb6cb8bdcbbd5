/** How the tests, the tools and the demo load lab 3's code from a folder: yours (lab3/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass } from '../suite/machines';
import type { Lab3Impl } from './test/harness';

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts'] as const;

/**
 * Lab 3's code from `dir` (absolute), ready for a test or a tool. The code loads at the first use of `KVServer`, so
 * a test that uses only `dir` (TestRealLateStart, whose servers run in processes of their own) loads none of it here.
 */
export function load(dir: string): Lab3Impl {
  let server: { KVServer: Lab3Impl['KVServer'] } | undefined;
  return {
    dir,
    get KVServer() {
      const file = path.join(dir, 'server.ts');
      server ??= {
        KVServer: machineClass(
          dir,
          file,
          'KVServer',
          (codeLoader().require(file) as { KVServer: Lab3Impl['KVServer'] }).KVServer,
        ),
      };
      return server.KVServer;
    },
  };
}
