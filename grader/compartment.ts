/**
 * The sandbox's loader for the code under test: after `lockDownRealm()` freezes every JavaScript intrinsic, the
 * student's modules run in one hardened-JavaScript compartment whose only globals are the endowments of
 * `endowments.ts` and whose `require` reaches only the student's own files and the lab's student-facing kit
 * modules (hardened). So student code has no `process`, `require` of its own, `fs`, `crypto` or descriptor, and
 * no object the harness decides a verdict with, except what a test hands it.
 */
import 'ses';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CodeLoader } from '../suite/loader';
import type { NodeModuleName } from '../suite/types';
import type { EarlierLab } from './earlier-labs';
import { Crossing, guarded } from './crossing';
import { ABSENT_GLOBALS, absentGlobal, sandboxGlobals } from './endowments';
import { lockNodePrototypes } from './node-prototypes';

const tsHook = require('./ts-hook.js') as { compiledCode(cacheDir: string, filename: string): string };

/** Freezes every intrinsic of this realm (SES lockdown), keeping stack traces, the console and node's domains usable. */
export function lockDownRealm(): void {
  lockdown({
    errorTaming: 'unsafe',
    stackFiltering: 'verbose',
    consoleTaming: 'unsafe',
    overrideTaming: 'moderate',
    errorTrapping: 'none',
    unhandledRejectionTrapping: 'none',
    evalTaming: 'safe-eval',
    domainTaming: 'unsafe',
    localeTaming: 'unsafe',
    reporting: 'none',
  });
}

/** What the compartment may load. */
export interface CompartmentOptions {
  /** The folder of the code under test (the student's lab folder or a solution's). */
  readonly implDir: string;
  /** The lab's folder in the kit (lab2/): its modules outside test/ and tools/ are the lab's student-facing API. */
  readonly labDir: string;
  /** The kit's folders whose modules the code under test may import besides the lab's (labrpc/). */
  readonly kitDirs: readonly string[];
  /** The compile cache of the code under test (grader/ts-hook.js). */
  readonly cacheDir: string;
  /** The node modules the lab's code may import (LabSuite.nodeModules). */
  readonly nodeModules?: readonly NodeModuleName[];
  /** Earlier labs the code builds on (LabSuite.buildsOn): their given modules, and their files that are code under test. */
  readonly earlierLabs?: readonly EarlierLab[];
}

/** What importing an allowed node module gives: the module itself, or for crypto only its hashing. */
function nodeModule(name: NodeModuleName): unknown {
  switch (name) {
    case 'crypto':
      return harden({ createHash: crypto.createHash });
    case 'net':
      lockNodePrototypes('emitters');
      return net;
    case 'fs':
      lockNodePrototypes('emitters');
      return fs;
    case 'path':
      return harden({ ...path });
  }
}

/** A module of the code under test, as CommonJS sees it. */
interface ModuleRecord {
  exports: unknown;
}

/** True when `file` is inside `dir`. */
function inside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** True for a regular file this process may read (node's permission model throws on the others, even for existsSync). */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The error a refused import throws, naming what was asked for and what is allowed. */
function refusedImport(spec: string, from: string, allowed: string): Error {
  return new Error(
    `${path.basename(from)} imports "${spec}", which the grader's sandbox does not provide to this lab's code. ` +
      `Import only ${allowed}; ` +
      'other node modules, the tests and the tools are not available to the code under test.',
  );
}

/**
 * A kit module's exports as the code under test gets them: a frozen copy whose values are hardened. (TypeScript
 * re-exports are getters, which harden would leave unvisited: `export { ClientEnd } from './network'`.)
 */
function hardenedExports(exports: unknown): unknown {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(exports)) copy[key] = (exports as Record<string, unknown>)[key];
  return harden(copy);
}

/** A new compartment whose globals are only the endowments (read-only) and the absent ones' explaining getters. */
function endowedCompartment(): Compartment {
  const compartment = new Compartment({ __options__: true });
  // Defined read-only, the endowments are constants to SES's evaluator (writable globals cost a proxy trap per lookup).
  for (const [name, value] of Object.entries(sandboxGlobals()))
    Object.defineProperty(compartment.globalThis, name, {
      value: harden(value),
      writable: false,
      enumerable: false,
      configurable: false,
    });
  for (const name of ABSENT_GLOBALS)
    Object.defineProperty(compartment.globalThis, name, {
      get: harden(() => {
        throw absentGlobal(name);
      }),
      enumerable: false,
      configurable: false,
    });
  return compartment;
}

/** The absolute .ts file a relative `spec` names from `from`, or undefined. */
function resolveTs(spec: string, from: string): string | undefined {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [base, `${base}.ts`, path.join(base, 'index.ts')].find((f) => f.endsWith('.ts') && isFile(f));
}

/** Views of module exports for the harness: each function hands its arguments over (crossing.ts); one view per module. */
function harnessViews(): (exports: unknown) => unknown {
  const crossing = new Crossing();
  const views = new WeakMap<object, unknown>();
  return (exports) => {
    if (exports === null || typeof exports !== 'object') return guarded(exports, crossing);
    if (!views.has(exports)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(exports)) out[key] = guarded((exports as Record<string, unknown>)[key], crossing);
      views.set(exports, out);
    }
    return views.get(exports);
  };
}

/** A loader whose modules run in a new compartment of this (locked-down) realm. */
export function compartmentLoader(options: CompartmentOptions): CodeLoader {
  if (typeof harden !== 'function') throw new Error('compartmentLoader needs lockDownRealm() to have run first.');
  const implDir = path.resolve(options.implDir);
  const labDir = path.resolve(options.labDir);
  const kitDirs = options.kitDirs.map((d) => path.resolve(d));
  const earlier = (options.earlierLabs ?? []).map((e) => ({
    labDir: path.resolve(e.labDir),
    codeDir: path.resolve(e.codeDir),
    files: e.files,
  }));
  /** True for a file of an earlier lab's code under test (lab6/raft.ts, imported by lab7/server.ts's RSM). */
  const earlierCode = (file: string): boolean =>
    earlier.some((e) => path.dirname(file) === e.codeDir && e.files.includes(path.basename(file)));
  const compartment = endowedCompartment();
  const hostRequire = createRequire(path.join(labDir, 'load.ts'));
  const kitExports = new Map<string, unknown>();
  const nodeNames = (options.nodeModules ?? []).map((n) => `node:${n}`).join(', ');
  const allowed =
    `your own files, the lab's modules (${kitDirs.map((d) => `${path.basename(d)}/`).join(', ')}, ` +
    `${path.basename(labDir)}/*.ts)` +
    earlier
      .map((e) => `, your ${path.basename(e.labDir)}/ files (${e.files.join(', ')}) and its given files`)
      .join('') +
    `${nodeNames ? ` and ${nodeNames}` : ''}`;

  /** A kit module the code under test may import, hardened; undefined for a file that is not one. */
  const kitModule = (file: string): { exports: unknown } | undefined => {
    const given = (dir: string): boolean =>
      inside(file, dir) && !['test', 'tools', 'real'].some((d) => inside(file, path.join(dir, d)));
    const kit = given(labDir) || earlier.some((e) => given(e.labDir)) || kitDirs.some((d) => inside(file, d));
    if (!kit || path.basename(file) === 'load.ts') return undefined;
    if (!kitExports.has(file)) kitExports.set(file, hardenedExports(hostRequire(file)));
    return { exports: kitExports.get(file) };
  };

  /** Loads `file` of the code under test into `cache` (one cache per copy of the student's modules). */
  const load = (file: string, cache: Map<string, ModuleRecord>): unknown => {
    const known = cache.get(file);
    if (known) return known.exports;
    const record: ModuleRecord = { exports: {} };
    cache.set(file, record);
    const code = tsHook.compiledCode(options.cacheDir, file);
    const wrapper = compartment.evaluate(
      `(function (exports, require, module, __filename, __dirname) {${code}\n})\n//# sourceURL=${file}\n`,
      {
        __evadeHtmlCommentTest__: true,
        __evadeImportExpressionTest__: true,
        __rejectSomeDirectEvalExpressions__: false,
      },
    ) as (exports: unknown, req: (spec: string) => unknown, module: ModuleRecord, f: string, d: string) => void;
    const req = (spec: string): unknown => {
      const bare = String(spec).replace(/^node:/, '') as NodeModuleName;
      if (options.nodeModules?.includes(bare)) return nodeModule(bare);
      const target = resolveTs(String(spec), file);
      if (target && earlierCode(target)) return load(target, cache);
      const kit = target ? kitModule(target) : undefined;
      if (kit) return kit.exports;
      if (target && inside(target, implDir) && !inside(target, path.join(implDir, 'test'))) return load(target, cache);
      throw refusedImport(String(spec), file, allowed);
    };
    try {
      wrapper(record.exports, harden(req), record, file, path.dirname(file));
    } catch (err) {
      cache.delete(file);
      throw err;
    }
    return record.exports;
  };

  const view = harnessViews();
  const shared = new Map<string, ModuleRecord>();
  return {
    require: (file) => view(load(path.resolve(file), shared)),
    fresh: (_folder, run) => {
      const own = new Map<string, ModuleRecord>();
      return run((file) => view(load(path.resolve(file), own)));
    },
  };
}
