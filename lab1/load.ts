/** How the tests, the tools and the demo load lab 1's code from a folder: yours (lab1/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass } from '../suite/machines';
import type { Lab1Impl } from './test/harness';

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts', 'client.ts'] as const;

/** Lab 1's code from `dir` (absolute), ready for a test or a tool. */
export function load(dir: string): Lab1Impl {
  const loader = codeLoader();
  const server = loader.require(path.join(dir, 'server.ts')) as { KVServer: Lab1Impl['KVServer'] };
  const client = loader.require(path.join(dir, 'client.ts')) as { Clerk: Lab1Impl['Clerk'] };
  const serverFile = path.join(dir, 'server.ts');
  const clientFile = path.join(dir, 'client.ts');
  const fresh = (clerksShareCopy = false) =>
    loader.fresh(dir, (req) => {
      const copy = (req(serverFile) as { KVServer: Lab1Impl['KVServer'] }).KVServer;
      const clerk = (req(clientFile) as { Clerk: Lab1Impl['Clerk'] }).Clerk;
      return {
        KVServer: machineClass(dir, serverFile, 'KVServer', copy),
        // Each clerk is a client machine of its own too: lab 1's protocol is the student's, so clerks sharing a
        // table could send a server the answers to echo; on machines of their own they cannot share one. The
        // memory tests with 100,000 clerks, which weigh the servers, share the test's copy (a copy per clerk
        // doubled their time).
        Clerk: clerksShareCopy ? clerk : machineClass(dir, clientFile, 'Clerk', clerk),
      };
    });
  return {
    KVServer: machineClass(dir, serverFile, 'KVServer', server.KVServer),
    Clerk: machineClass(dir, clientFile, 'Clerk', client.Clerk),
    fresh,
  };
}
