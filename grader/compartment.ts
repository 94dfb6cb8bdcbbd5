/**
 * The sandbox's loader for the code under test: after `lockDownRealm()` freezes every JavaScript intrinsic, the
 * student's modules run in one hardened-JavaScript compartment whose only globals are the endowments of
 * `endowments.ts` and whose `require` reaches only the student's own files (any .ts or .js file of the graded
 * folder, wherever it sits) and the kit surface of `kit-surface.ts`: labrpc's errors and the lab's given modules,
 * these too evaluated in the compartment. So student code has no `process`, `require` of its own, `fs`, `crypto`
 * or descriptor, and no object the harness decides a verdict with, except what a test hands it (crossing.ts).
 */
import './fast-freeze'; // before SES, which takes Object.freeze once
import 'ses';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import type { CodeLoader, MachineGrants } from '../suite/loader';
import type { NodeModuleName } from '../suite/types';
import type { EarlierLab } from './earlier-labs';
import { Crossing, guarded } from './crossing';
import { ABSENT_GLOBALS, absentGlobal, compileRefused, RUNTIME_COMPILERS, sandboxGlobals } from './endowments';
import { fsFacade, machineFsFacade } from './fs-facade';
import { GIVEN_MODULES, LABRPC_FOLDER, labrpcFacade, sharedErrorClasses, VALUE_CLASSES } from './kit-surface';
import { readManifest, sha256File, type Manifest } from './manifest';
import { machineNetFacade, netFacade } from './net-guard';
import { hardenNodeObjects } from './node-errors';
import { lockNodePrototypes } from './node-prototypes';
import { guardSymbolRegistry, sealSymbolRegistry } from './symbol-registry';

const tsHook = require('./ts-hook.js') as { compiledCode(cacheDir: string, filename: string): string };

/** Freezes every intrinsic of this realm (SES lockdown), keeping stack traces, the console and node's domains usable. */
export function lockDownRealm(): void {
  // No Buffer of this process comes from node's shared pool any more, so none the code under test makes can
  // see what the harness keeps in one (harden then freezes the size at 0).
  Buffer.poolSize = 0;
  // Symbol.for's registry is one strong table for the process: closed to new keys once the code loads.
  guardSymbolRegistry();
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
  // Node hands its own `inspect` to any `inspect.custom` hook it calls (the console endowment runs none, but node
  // may print a value elsewhere): frozen with its tables, it can be no place for copies of the code to share.
  harden(inspect);
  Object.freeze(inspect.defaultOptions);
  // The options node hands such a hook carry its `stylize` function, one of two of node's own (with colours and
  // without) that every call shares: hardened too (a review hung a table on them through Buffer's inspect method).
  for (const f of stylizeFunctions()) harden(f);
}

/** node's two `stylize` functions, as `inspect` hands them to an `inspect.custom` hook in its options. */
function stylizeFunctions(): Array<(...args: unknown[]) => unknown> {
  const found: Array<(...args: unknown[]) => unknown> = [];
  const hook = {
    [inspect.custom]: (_depth: number, options: { stylize?: (...args: unknown[]) => unknown }) => {
      if (typeof options.stylize === 'function') found.push(options.stylize);
      return '';
    },
  };
  inspect(hook);
  inspect(hook, { colors: true });
  return found;
}

/** Sees what the harness hands the code under test (the kit's reachability test): each value, and whether it is a copy of its own. */
export type Witness = (given: unknown, ownCopy: boolean) => void;

/** What the compartment may load. */
export interface CompartmentOptions {
  /** The folder of the code under test (the student's lab folder or a solution's). */
  readonly implDir: string;
  /** The lab's folder in the kit (lab2/): its given modules (kit-surface.ts) are part of the lab's API. */
  readonly labDir: string;
  /** The kit's labrpc folders (the code under test gets labrpc's facade for them, and for the one beside labDir). */
  readonly kitDirs: readonly string[];
  /** The compile cache of the code under test (grader/ts-hook.js). */
  readonly cacheDir: string;
  /** The node modules the lab's code may import (LabSuite.nodeModules). */
  readonly nodeModules?: readonly NodeModuleName[];
  /** The kit's reachability test only: sees every value handed over. */
  readonly witness?: Witness;
  /** The kit's reachability test only: what the harness gets for a module's exports, before they cross (its spy). */
  readonly spy?: (exports: unknown) => unknown;
  /** Earlier labs the code builds on (LabSuite.buildsOn): their given modules, and their files that are code under test. */
  readonly earlierLabs?: readonly EarlierLab[];
}

/** A hash as the code under test gets it: its update, digest and copy, never node's Hash object (whose prototype the harness's hashes share). */
function hashFacade(hash: crypto.Hash): object {
  const facade: object = harden({
    update: (data: string | NodeJS.ArrayBufferView, encoding?: crypto.Encoding) => {
      if (encoding === undefined) hash.update(data);
      else hash.update(data as string, encoding);
      return facade;
    },
    digest: (encoding?: crypto.BinaryToTextEncoding) =>
      encoding === undefined ? hash.digest() : hash.digest(encoding),
    copy: () => hashFacade(hash.copy()),
  });
  return facade;
}

/** What importing an allowed node module gives: for fs and net a facade (fs-facade.ts, net-guard.ts), for crypto only its hashing, for path a copy. */
function nodeModule(name: NodeModuleName): unknown {
  switch (name) {
    case 'crypto':
      return harden({ createHash: (algorithm: string) => hashFacade(crypto.createHash(algorithm)) });
    case 'net':
      lockNodePrototypes('emitters');
      return netFacade(); // guarded already where the process locked node's prototypes (grader/isolate.ts)
    case 'fs':
      lockNodePrototypes('emitters');
      return fsFacade();
    case 'path':
      return harden({ ...path });
  }
}

/** The node modules one copy of the code under test was given of its own (a machine's network and files). */
interface CopyModules {
  readonly grants: MachineGrants;
  net?: object;
  fs?: object;
}

/** What importing `name` gives a copy made with `grants` (its own network and files; the rest as every copy gets them). */
function machineModule(name: NodeModuleName, copy: CopyModules): unknown {
  if (name === 'net') {
    lockNodePrototypes('emitters');
    return (copy.net ??= machineNetFacade(copy.grants));
  }
  if (name === 'fs') {
    lockNodePrototypes('emitters');
    return (copy.fs ??= machineFsFacade(copy.grants.folder, copy.grants.what));
  }
  return nodeModule(name);
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
      'other node modules, the tests, the tools and the rest of the kit are not available to the code under test. ' +
      'Check the path too: the file must exist (a relative path, from the importing file) in the folder graded.',
  );
}

/**
 * A given module's exports as the code under test shares them: a frozen copy whose values are hardened.
 * (TypeScript re-exports are getters, which harden would leave unvisited: `export { X } from './y'`.)
 */
function hardenedExports(exports: unknown): unknown {
  if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(exports)) copy[key] = (exports as Record<string, unknown>)[key];
  // Kept, so that `import * as m` gets this very copy (TypeScript's __importStar wraps a module without it).
  if ((exports as { __esModule?: unknown }).__esModule === true)
    Object.defineProperty(copy, '__esModule', { value: true });
  return harden(copy);
}

/** The compartment's own globals SES's evaluator treats specially: they keep the descriptors SES gave them. */
const SES_OWN_GLOBALS = new Set(['globalThis', 'eval', 'Function', 'Compartment']);

/**
 * Makes the shared intrinsics on a compartment's global (Array, Object, Number, Promise, Map, JSON, ...) read-only,
 * as the endowments are: SES's evaluator then binds them once as constants, where a writable global costs a trip
 * through its scope proxy at every use (in a locked-down realm about twenty times the lookup itself). Code under
 * test can still add globals of its own; it can no longer replace these.
 */
function constantGlobals(global: object): void {
  for (const name of Object.getOwnPropertyNames(global)) {
    const d = Object.getOwnPropertyDescriptor(global, name);
    if (!d || !('value' in d) || !d.writable || !d.configurable || SES_OWN_GLOBALS.has(name)) continue;
    Object.defineProperty(global, name, {
      value: d.value,
      writable: false,
      enumerable: d.enumerable,
      configurable: false,
    });
  }
}

/** A stand-in for `name` that refuses to compile; Function's keeps Function.prototype, so `instanceof Function` holds. */
function refusingCompiler(name: string): () => never {
  const refuse = function (): never {
    throw compileRefused(name);
  };
  if (name === 'Function') Object.defineProperty(refuse, 'prototype', { value: Function.prototype });
  Object.defineProperty(refuse, 'name', { value: name });
  return refuse;
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
  // No code compiled while the tests run: it would escape the loader's compile, which gives private names (#x) to a
  // module of its own (ts-hook.js). The loader's compartment.evaluate, on the harness's side, is not a global.
  for (const name of RUNTIME_COMPILERS)
    Object.defineProperty(compartment.globalThis, name, {
      value: harden(refusingCompiler(name)),
      writable: false,
      enumerable: false,
      configurable: false,
    });
  constantGlobals(compartment.globalThis);
  // No globals of the code's own either: every copy of the student's modules (each server is one: see
  // suite/machines.ts) shares this global object, which would otherwise be a table they all could write to.
  Object.freeze(compartment.globalThis);
  return compartment;
}

/** The .ts or .js file `base` names (as node would find it: itself, with an extension, or its folder's index), or undefined. */
function resolveCode(base: string): string | undefined {
  const candidates = [base, `${base}.ts`, `${base}.js`, path.join(base, 'index.ts'), path.join(base, 'index.js')];
  return candidates.find((f) => /\.(ts|js)$/.test(f) && isFile(f));
}

/** `base` without a trailing index file or extension (`../labrpc/index.ts` names the folder `../labrpc`). */
function moduleFolder(base: string): string {
  const stripped = base.replace(/\.(ts|js)$/, '');
  return path.basename(stripped) === 'index' ? path.dirname(stripped) : stripped;
}

/**
 * The files of a lab that are the kit's: its given modules (kit-surface.ts), each only if it is what the kit
 * shipped, that is, in a released template (`.kvlabs/manifest.json`), only with the sha256 the manifest lists.
 * Any other file of the lab folder is the student's.
 */
function givenFiles(labDir: string): Set<string> {
  const names = GIVEN_MODULES[path.basename(labDir)] ?? [];
  let manifest: Manifest | undefined;
  try {
    manifest = readManifest(path.dirname(labDir));
  } catch {
    return new Set(); // a damaged manifest: nothing is taken for the kit's (the tamper check says why)
  }
  const out = new Set<string>();
  for (const name of names) {
    const file = path.join(labDir, name);
    if (!isFile(file)) continue;
    const rel = `${path.basename(labDir)}/${name}`;
    if (manifest === undefined || manifest.files[rel] === sha256File(file)) out.add(file);
  }
  return out;
}

/** True for a file of the code under test in `dir` (the student's own, or an earlier lab's it builds on): not its tests. */
function codeUnderTest(file: string, dir: string): boolean {
  return inside(file, dir) && !inside(file, path.join(dir, 'test'));
}

/** Views of module exports for the harness: everything crosses through one Crossing (crossing.ts); one view per module. */
function harnessViews(crossing: Crossing): (exports: unknown) => unknown {
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

/** What verdictCrossing needs of the harness, required at its first use (after the lockdown, as the harness's modules are). */
let verdictModules:
  | { isTestFailure: typeof import('../suite/failure').isTestFailure; World: typeof import('../world').World }
  | undefined;

/** A test's own verdict thrown into the code under test fails the run, whatever that code does with its copy. */
function verdictCrossing(error: unknown): void {
  // Every error the code gets passes here (each lost call's TimeoutError): `require` once, not at each.
  verdictModules ??= {
    isTestFailure: (require('../suite/failure') as typeof import('../suite/failure')).isTestFailure,
    World: (require('../world') as typeof import('../world')).World,
  };
  if (verdictModules.isTestFailure(error)) verdictModules.World.maybeCurrent()?.fail(error);
}

/**
 * The twins of the value classes (kit-surface.ts) of the given modules in `files`: each class's prototype as the
 * harness loaded it, paired both ways with its prototype as the compartment evaluated it (`given`).
 */
function valueTwins(files: readonly string[], given: (file: string) => unknown): (proto: object) => object | undefined {
  let twins: Map<object, object> | undefined;
  return (proto) => {
    if (twins === undefined) {
      twins = new Map();
      for (const file of files) {
        const names = VALUE_CLASSES[path.basename(path.dirname(file))]?.[path.basename(file)] ?? [];
        const harness = require(file) as Record<string, { prototype: object }>;
        const code = given(file) as Record<string, { prototype: object }>;
        for (const name of names) {
          twins.set(harness[name].prototype, code[name].prototype);
          twins.set(code[name].prototype, harness[name].prototype);
        }
      }
    }
    return twins.get(proto);
  };
}

/** What the code under test may import, as a refused import's error says it. */
function allowedImports(
  lab: string,
  earlier: ReadonlyArray<{ labDir: string }>,
  nodeModules: readonly string[],
): string {
  const nodeNames = nodeModules.map((n) => `node:${n}`).join(', ');
  return (
    `your own .ts and .js files, ${LABRPC_FOLDER}'s errors and types, the lab's given modules ` +
    `(${(GIVEN_MODULES[lab] ?? []).map((f) => `${lab}/${f}`).join(', ') || 'none'})` +
    earlier.map((e) => `, your ${path.basename(e.labDir)}/ files and its given modules`).join('') +
    `${nodeNames ? ` and ${nodeNames}` : ''}`
  );
}

/** The crossing of one loader: the labs' value classes (those of their given files) paired with the compartment's. */
function loaderCrossing(
  labDirs: readonly string[],
  given: ReadonlySet<string>,
  givenModule: (file: string) => unknown,
  witness: Witness | undefined,
): Crossing {
  const valueFiles = labDirs.flatMap((dir) =>
    Object.keys(VALUE_CLASSES[path.basename(dir)] ?? {})
      .map((f) => path.join(dir, f))
      .filter((f) => given.has(f)),
  );
  return new Crossing({
    witness,
    sharedErrors: sharedErrorClasses(),
    twin: valueTwins(valueFiles, givenModule),
    onThrown: verdictCrossing,
  });
}

/** A CommonJS module's function, as the compartment evaluates it from the compiled file. */
type ModuleFunction = (
  exports: unknown,
  req: (spec: string) => unknown,
  module: ModuleRecord,
  f: string,
  d: string,
) => void;

/**
 * Each file's module function in `compartment`, evaluated once from its compiled code: a new copy of the module (a
 * server of its own) only calls it again.
 */
function moduleFunctions(compartment: Compartment, cacheDir: string): (file: string) => ModuleFunction {
  const made = new Map<string, ModuleFunction>();
  return (file) => {
    const known = made.get(file);
    if (known) return known;
    const code = tsHook.compiledCode(cacheDir, file);
    const fn = compartment.evaluate(
      `(function (exports, require, module, __filename, __dirname) {${code}\n})\n//# sourceURL=${file}\n`,
      {
        __evadeHtmlCommentTest__: true,
        __evadeImportExpressionTest__: true,
        __rejectSomeDirectEvalExpressions__: false,
      },
    ) as ModuleFunction;
    made.set(file, fn);
    return fn;
  };
}

/** What an import of the code under test names. */
type FoundImport =
  | { readonly kind: 'node'; readonly name: NodeModuleName }
  | { readonly kind: 'labrpc' }
  | { readonly kind: 'given' | 'student'; readonly file: string };

/** Where the code under test's imports may lead. */
interface ImportScope {
  readonly nodeModules: readonly NodeModuleName[];
  readonly labrpcDirs: readonly string[];
  readonly given: ReadonlySet<string>;
  readonly implDir: string;
  readonly earlier: ReadonlyArray<{ readonly codeDir: string }>;
  readonly allowed: string;
}

/**
 * What `spec` names from `file` (a refused import throws), found once per pair: each copy of the student's modules
 * (a client machine in lab 1's 100,000-clerk tests) asks again, and finding it stats files.
 */
function importFinder(scope: ImportScope): (spec: string, file: string) => FoundImport {
  const found = new Map<string, FoundImport>();
  const classify = (spec: string, file: string): FoundImport => {
    const bare = spec.replace(/^node:/, '') as NodeModuleName;
    if (scope.nodeModules.includes(bare)) return { kind: 'node', name: bare };
    if (!spec.startsWith('./') && !spec.startsWith('../')) throw refusedImport(spec, file, scope.allowed);
    const base = path.resolve(path.dirname(file), spec);
    if (scope.labrpcDirs.includes(moduleFolder(base))) return { kind: 'labrpc' };
    const target = resolveCode(base);
    if (target !== undefined && scope.given.has(target)) return { kind: 'given', file: target };
    if (
      target !== undefined &&
      (codeUnderTest(target, scope.implDir) || scope.earlier.some((e) => codeUnderTest(target, e.codeDir)))
    )
      return { kind: 'student', file: target };
    throw refusedImport(spec, file, scope.allowed);
  };
  return (spec, file) => {
    const key = `${file}\0${spec}`;
    let it = found.get(key);
    if (it === undefined) found.set(key, (it = classify(spec, file)));
    return it;
  };
}

/** A loader whose modules run in a new compartment of this (locked-down) realm. */
export function compartmentLoader(options: CompartmentOptions): CodeLoader {
  if (typeof harden !== 'function') throw new Error('compartmentLoader needs lockDownRealm() to have run first.');
  sealSymbolRegistry();
  hardenNodeObjects();
  const implDir = path.resolve(options.implDir);
  const labDir = path.resolve(options.labDir);
  const labrpcDirs = [...options.kitDirs, path.join(path.dirname(labDir), LABRPC_FOLDER)].map((d) => path.resolve(d));
  const earlier = (options.earlierLabs ?? []).map((e) => ({
    labDir: path.resolve(e.labDir),
    codeDir: path.resolve(e.codeDir),
  }));
  const compartment = endowedCompartment();
  const given = givenFiles(labDir);
  for (const e of earlier) for (const file of givenFiles(e.labDir)) given.add(file);
  const givenModules = new Map<string, ModuleRecord>();
  const givenExports = new Map<string, unknown>();
  let labrpc: object | undefined;
  const allowed = allowedImports(path.basename(labDir), earlier, options.nodeModules ?? []);

  /** A given module, evaluated in the compartment once. */
  const givenModule = (target: string): unknown => {
    if (!givenExports.has(target)) givenExports.set(target, hardenedExports(load(target, givenModules)));
    return givenExports.get(target);
  };

  const find = importFinder({ nodeModules: options.nodeModules ?? [], labrpcDirs, given, implDir, earlier, allowed });
  /** The node modules of each copy made with grants of its own, by the copy's cache. */
  const copies = new WeakMap<Map<string, ModuleRecord>, CopyModules>();
  /** The module `spec` names from `file`, loaded (into `cache` when it is the student's own). */
  const resolve = (spec: string, file: string, cache: Map<string, ModuleRecord>): unknown => {
    const it = find(spec, file);
    if (it.kind === 'node') {
      const copy = copies.get(cache);
      return copy ? machineModule(it.name, copy) : nodeModule(it.name);
    }
    if (it.kind === 'labrpc') return (labrpc ??= labrpcFacade());
    return it.kind === 'given' ? givenModule(it.file) : load(it.file, cache);
  };

  const wrapperOf = moduleFunctions(compartment, options.cacheDir);

  /** Loads `file` of the code under test into `cache` (one cache per copy of the student's modules). */
  const load = (file: string, cache: Map<string, ModuleRecord>): unknown => {
    const known = cache.get(file);
    if (known) return known.exports;
    const record: ModuleRecord = { exports: {} };
    cache.set(file, record);
    const wrapper = wrapperOf(file);
    const req = (spec: string): unknown => resolve(String(spec), file, cache);
    try {
      wrapper(record.exports, harden(req), record, file, path.dirname(file));
    } catch (err) {
      cache.delete(file);
      throw err;
    }
    return record.exports;
  };

  const crossing = loaderCrossing([labDir, ...earlier.map((e) => e.labDir)], given, givenModule, options.witness);
  const view = harnessViews(crossing);
  const shared = new Map<string, ModuleRecord>();
  const spied = options.spy ?? ((exports: unknown): unknown => exports);
  return {
    require: (file) => view(spied(load(path.resolve(file), shared))),
    fresh: (_folder, run, grants) => {
      const own = new Map<string, ModuleRecord>();
      if (grants) copies.set(own, { grants });
      return run((file) => view(spied(load(path.resolve(file), own))));
    },
  };
}
