/**
 * The kit surface the code under test may import, declared in one place: labrpc's errors (its ends come from the
 * tests), and each lab's given modules, which the compartment evaluates itself. Nothing here is or can make an
 * object of the harness (a world, a network, a random stream, a recorder, a tester, the clock).
 */
import type { RpcUsageError, SerializationError, TimeoutError } from '../labrpc/errors';

/** The kit folder the code under test imports as `../labrpc` (from its lab folder; `../../labrpc` from solutions/labN/). */
export const LABRPC_FOLDER = 'labrpc';

/**
 * Each lab's given modules (files of the lab folder, not the student's to write): the code under test may import
 * them, and gets them evaluated inside its compartment, from the kit's own files (in a released template, from
 * files whose sha256 its manifest lists). A lab folder's other files are the student's, wherever they sit.
 */
export const GIVEN_MODULES: Readonly<Record<string, readonly string[]>> = {
  lab1: ['rpc.ts'],
  lab2: ['rpc.ts', 'with-lock.ts'],
  lab3: ['rpc.ts'],
  lab4: ['rpc.ts', 'delayed-end.ts'],
  lab5: ['glob.ts', 'info.ts', 'int64.ts', 'resp.ts', 'types.ts'],
  lab6: ['kvapi.ts', 'persister.ts', 'raftapi.ts', 'rsmapi.ts'],
  lab7: ['rpc.ts', 'shardcfg.ts'],
};

/** labrpc's exports that belong to the harness, each with what to do instead: reading one says so. */
const HARNESS_ONLY: Readonly<Record<string, string>> = {
  Network: 'the tests build the network; your code gets its ends from the test (constructor arguments, configs)',
  ClientEnd: 'ends are made by the tests and handed to your code; use `ClientEnd` as a type only (import type)',
  Server: 'the tests register your server on their network',
  Service: 'the tests wrap your server in a service',
  FAULTS: "the network's fault rates are the tests'",
  encode: 'the network copies every message itself; use JSON.stringify or structuredClone for copies of your own',
};

/** What labrpc's errors module exports (the classes every end's calls reject with, the harness's own). */
interface LabrpcErrors {
  readonly TimeoutError: typeof TimeoutError;
  readonly RpcUsageError: typeof RpcUsageError;
  readonly SerializationError: typeof SerializationError;
}

/**
 * labrpc as the code under test imports it, hardened: its error classes (the very ones its calls reject with, so
 * `instanceof TimeoutError` holds) and, for the harness's names, a getter whose error says what to use instead.
 * Read after lockdown, so the classes extend the realm's tamed intrinsics.
 */
export function labrpcFacade(): object {
  const errors = require('../labrpc/errors') as LabrpcErrors;
  const facade: Record<string, unknown> = {
    TimeoutError: errors.TimeoutError,
    RpcUsageError: errors.RpcUsageError,
    SerializationError: errors.SerializationError,
  };
  Object.defineProperty(facade, '__esModule', { value: true });
  for (const [name, instead] of Object.entries(HARNESS_ONLY))
    Object.defineProperty(facade, name, {
      get: () => {
        throw new Error(
          `labrpc's ${name} is not available to your code when the grader runs it: ${instead}. ` +
            'Your code may import TimeoutError, RpcUsageError and SerializationError from labrpc, and its types.',
        );
      },
      enumerable: false,
    });
  return harden(facade);
}

/**
 * The given modules' value classes: an object of one crosses between the harness and the code under test as a copy
 * made of the other side's class (the harness's ShardConfig reaches the code as the compartment's, and back).
 */
export const VALUE_CLASSES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  lab7: { 'shardcfg.ts': ['ShardConfig'] },
};

/** labrpc's error classes, which both sides hold (hardened by labrpcFacade): a harness error of one crosses as one. */
export function sharedErrorClasses(): ReadonlyArray<abstract new (...args: never[]) => Error> {
  const errors = require('../labrpc/errors') as LabrpcErrors;
  return harden([errors.TimeoutError, errors.RpcUsageError, errors.SerializationError]);
}
