/**
 * How the tests load lab 7's code from a folder (yours, lab7/, or the reference solution) together with the lab 6
 * and lab 2 code it builds on: the folders lab6/ and lab2/ next to it (yours, or the reference's).
 */
import * as path from 'node:path';
import { codeLoader } from '../suite/loader';
import { machineClass } from '../suite/machines';
import { load as loadLab6 } from '../lab6/load';
import type { Lab7Impl } from './test/harness';

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts', 'grpclerk.ts', 'ctrler.ts', 'client.ts'] as const;

/** The earlier labs lab 7 builds on, and their files it runs: the grader loads these as code under test too. */
export const BUILDS_ON = [
  { lab: 'lab6', files: ['raft.ts', 'rsm.ts', 'server.ts', 'client.ts'] },
  { lab: 'lab2', files: ['server.ts', 'client.ts', 'lock.ts'] },
] as const;

/** Lab 7's code from `dir` (absolute), with lab 6's and lab 2's from the folders beside it. */
export function load(dir: string): Lab7Impl {
  const loader = codeLoader();
  const lab2 = path.join(dir, '..', 'lab2');
  const server = loader.require(path.join(dir, 'server.ts')) as Pick<Lab7Impl, 'ShardServer'>;
  const ctrler = loader.require(path.join(dir, 'ctrler.ts')) as Pick<Lab7Impl, 'ShardCtrler'>;
  const client = loader.require(path.join(dir, 'client.ts')) as Pick<Lab7Impl, 'Clerk'>;
  const kv = loader.require(path.join(lab2, 'server.ts')) as { KVServer: Lab7Impl['ConfigServer'] };
  return {
    // Each shard server, the configuration server, each controller and each clerk is a machine of its own (a clerk
    // holds the controller it was given): clerks or controllers that shared a copy could keep what the groups should
    // hold in a table at its top level.
    ShardServer: machineClass(dir, path.join(dir, 'server.ts'), 'ShardServer', server.ShardServer),
    ShardCtrler: machineClass(dir, path.join(dir, 'ctrler.ts'), 'ShardCtrler', ctrler.ShardCtrler),
    Clerk: machineClass(dir, path.join(dir, 'client.ts'), 'Clerk', client.Clerk),
    ConfigServer: machineClass(dir, path.join(lab2, 'server.ts'), 'KVServer', kv.KVServer),
    lab6: loadLab6(path.join(dir, '..', 'lab6')),
  };
}
