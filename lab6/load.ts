/** How the tests and the tools load lab 6's code from a folder: yours (lab6/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass } from '../suite/machines';
import type { Lab6Impl } from './test/harness';

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['raft.ts', 'rsm.ts', 'server.ts', 'client.ts'] as const;

/** Lab 6's code from `dir` (absolute), ready for a test or a tool. */
export function load(dir: string): Lab6Impl {
  const loader = codeLoader();
  const raft = loader.require(path.join(dir, 'raft.ts')) as Pick<Lab6Impl, 'Raft'>;
  const rsm = loader.require(path.join(dir, 'rsm.ts')) as Pick<Lab6Impl, 'RSM'>;
  const server = loader.require(path.join(dir, 'server.ts')) as Pick<Lab6Impl, 'KVServer'>;
  const client = loader.require(path.join(dir, 'client.ts')) as Pick<Lab6Impl, 'Clerk'>;
  // Each Raft peer, RSM, key/value server and clerk is a machine of its own: clerks that shared one copy could keep
  // the whole store in a table at its top level, and steer a server that stores nothing by when they re-send.
  return {
    Raft: machineClass(dir, path.join(dir, 'raft.ts'), 'Raft', raft.Raft),
    RSM: machineClass(dir, path.join(dir, 'rsm.ts'), 'RSM', rsm.RSM),
    KVServer: machineClass(dir, path.join(dir, 'server.ts'), 'KVServer', server.KVServer),
    Clerk: machineClass(dir, path.join(dir, 'client.ts'), 'Clerk', client.Clerk),
  };
}
