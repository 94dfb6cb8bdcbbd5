/** How the tests, the tools and the demo load lab 2's code from a folder: yours (lab2/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass } from '../suite/machines';
import type { Lab2Impl } from './test/harness';

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts', 'client.ts', 'lock.ts'] as const;

/** Lab 2's code from `dir` (absolute), ready for a test or a tool. */
export function load(dir: string): Lab2Impl {
  const loader = codeLoader();
  const server = loader.require(path.join(dir, 'server.ts')) as { KVServer: Lab2Impl['KVServer'] };
  const client = loader.require(path.join(dir, 'client.ts')) as { Clerk: Lab2Impl['Clerk'] };
  const lock = loader.require(path.join(dir, 'lock.ts')) as { Lock: Lab2Impl['Lock'] };
  const freshKVServer = () =>
    loader.fresh(dir, (req) => (req(path.join(dir, 'server.ts')) as { KVServer: Lab2Impl['KVServer'] }).KVServer);
  const freshClerk = () =>
    loader.fresh(dir, (req) => (req(path.join(dir, 'client.ts')) as { Clerk: Lab2Impl['Clerk'] }).Clerk);
  // Each Lock made outside the tests is a machine of its own (a fresh copy of lock.ts); the tests make the Locks of
  // one clerk from one copy (freshLock), as one program would, and the Locks of different clerks from different
  // copies: so they could not keep who holds what in a table at its top level instead of in the service. The clerks
  // share one copy (the clerk rules hold each result to a reply of the server's), and a test that weighs the server
  // loads them from a copy of its own.
  const Lock = machineClass(dir, path.join(dir, 'lock.ts'), 'Lock', lock.Lock);
  const freshLock = () =>
    loader.fresh(dir, (req) => (req(path.join(dir, 'lock.ts')) as { Lock: Lab2Impl['Lock'] }).Lock);
  return { KVServer: server.KVServer, Clerk: client.Clerk, Lock, freshKVServer, freshClerk, freshLock };
}
