/** Puts a process the grader started for a test (a lab's kit script) in the sandbox's shape before it loads the code under test: realm locked down, kit frames hidden, the code loaded in a compartment. */
import path from 'node:path';
import type { NodeModuleName } from '../suite/types';
import { useLoader } from '../suite/loader';
import { compartmentLoader, lockDownRealm } from './compartment';
import { hideHarness } from './hide-harness';
import { guardNetwork } from './net-guard';
import { lockNodePrototypes } from './node-prototypes';

/** What a kit script isolates. */
export interface IsolationOptions {
  /** The folder of the code under test. */
  readonly implDir: string;
  /** The lab's folder in the kit (its student-facing modules may be imported). */
  readonly labDir: string;
  /** The node modules the lab's code may import (lab 5's net, fs, path, crypto); none by default. */
  readonly nodeModules?: readonly NodeModuleName[];
}

/**
 * Locks the realm down (and, where the code gets node modules, every node prototype it can reach: no judge shares
 * this process), hides the kit's frames from stack traces, and makes the suite's loader evaluate the code under
 * test in a hardened compartment, as the grader's test process does.
 */
export function isolateCodeUnderTest(options: IsolationOptions): void {
  lockDownRealm();
  // Before node's prototypes are locked: the port guard sits on net.Socket's and net.Server's.
  if (options.nodeModules?.includes('net')) guardNetwork();
  if ((options.nodeModules ?? []).length > 0) lockNodePrototypes('all');
  hideHarness(options.implDir);
  useLoader(
    compartmentLoader({
      implDir: options.implDir,
      labDir: options.labDir,
      kitDirs: [path.join(__dirname, '..', 'labrpc')],
      cacheDir: process.env.KVLABS_TS_CACHE ?? '',
      nodeModules: options.nodeModules ?? [],
    }),
  );
}
