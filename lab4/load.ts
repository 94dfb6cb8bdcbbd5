/** How the tests, the tools and the demo load lab 4's code from a folder: yours (lab4/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass } from '../suite/machines';
import type { Lab4Impl } from './test/harness';

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts'] as const;

/**
 * Lab 4's code from `dir` (absolute), ready for a test or a tool. The code loads at the first use of `KVNode`, so a
 * test that uses only `dir` (the real HTTP tests, whose nodes run in processes of their own) loads none of it here.
 */
export function load(dir: string): Lab4Impl {
  let server: { KVNode: Lab4Impl['KVNode'] } | undefined;
  return {
    dir,
    get KVNode() {
      const file = path.join(dir, 'server.ts');
      server ??= {
        KVNode: machineClass(
          dir,
          file,
          'KVNode',
          (codeLoader().require(file) as { KVNode: Lab4Impl['KVNode'] }).KVNode,
        ),
      };
      return server.KVNode;
    },
  };
}
