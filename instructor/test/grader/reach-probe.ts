/**
 * `node -r ./grader/register.js instructor/test/grader/reach-probe.ts labN:TestA,TestB ...`, run by reachability.test.ts
 * in a process of its own (it locks the realm down): walks everything the code under test of lab N can touch —
 * the compartment's globals, every kit module it may import, what their functions return (at load time and while
 * a test runs), and each value a short real test of the reference hands it, by any route (reach-spy.ts: arguments
 * of its functions and of its objects' methods and callbacks, what the harness's calls return, throw or reject
 * with) — and prints one JSON line per lab.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compartmentLoader, lockDownRealm, type Witness } from '../../../grader/compartment';
import { earlierLabs } from '../../../grader/earlier-labs';
import { GIVEN_MODULES } from '../../../grader/kit-surface';
import { lockNodePrototypes } from '../../../grader/node-prototypes';
import type { LabSuite } from '../../../suite/types';
import { walk, type Root } from './reach';
import { spy } from './reach-spy';

/** What the probe prints. */
export interface ProbeReport {
  readonly lab: string;
  /** The files the suite loads from the student's folder (LabSuite.implFiles). */
  readonly implFiles: readonly string[];
  readonly findings: ReturnType<typeof walk>['findings'];
  readonly objects: number;
  /** How many distinct objects the tests handed the code under test. */
  readonly handed: number;
  /** How the code received them (reach-spy.ts's words: `argument 0 of (new ShardCtrler()).initConfig()`), each once. */
  readonly routes: readonly string[];
  /** Each test run with the reference, and its status. */
  readonly tests: ReadonlyArray<{ name: string; status: string; message: string }>;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The most handed values kept for the walk (a memory test hands over a hundred thousand ends of one shape). */
const MAX_HANDED = 5000;

/**
 * The probe's calls of node's classes, a part of its `results()` (which defines `out` and `note`): every static and
 * prototype method of the classes the code gets, on instances of several kinds (one holding a value with an inspect
 * hook, the wrong receiver), with arguments of several kinds.
 */
const NODE_CLASS_CALLS = `
  // Every static and prototype method of node's classes the code gets, called on instances of several kinds (one
  // holding a value with an inspect hook, the wrong receiver) with arguments of several kinds: what each returns or
  // throws, and what node hands an inspect hook, are walked; an instance's own internals are made with it.
  const INSPECT = Symbol.for('nodejs.util.inspect.custom');
  const hooked = () => ({ [INSPECT]: Object.freeze((...args) => { out.push(["an inspect hook's arguments", args]); return ''; }) });
  const withHook = (o) => Object.assign(o, { x: hooked() });
  const decoders = ['utf-8', 'utf-16le', 'latin1', 'gbk'].map((e) => new TextDecoder(e));
  const receivers = {
    Buffer: [withHook(Buffer.alloc(1)), Buffer.alloc(9)],
    TextEncoder: [new TextEncoder()],
    TextDecoder: decoders,
    URL: [new URL('http://a/b?c=d')],
    URLSearchParams: [new URLSearchParams('a=1')],
  };
  const argSets = [[], [hooked()], [-1], [2 ** 53], ['zzz'], [Symbol()], [{ [Symbol.iterator]: 5 }], [[[1]]],
    [Buffer.alloc(0)], [{}], [null], [2, { colors: true }], [2, {}], [Buffer.alloc(1), 5]];
  for (const [name, C] of Object.entries(receivers)) {
    const Class = globalThis[name];
    for (const made of C) {
      out.push(['new ' + name, made]);
      for (const key of Reflect.ownKeys(made)) {
        if (key === 'x') continue; // the hook this probe hung on it
        const held = Reflect.getOwnPropertyDescriptor(made, key);
        if (held && typeof held.value === 'object' && held.value !== null) out.push([name + ' instance internals', held.value]);
      }
    }
    const calls = [
      ...Reflect.ownKeys(Class).map((k) => [Class, k, [Class]]),
      ...Reflect.ownKeys(Class.prototype).map((k) => [Class.prototype, k, [...C, {}]]),
    ];
    for (const [holder, key, thisValues] of calls) {
      const d = Reflect.getOwnPropertyDescriptor(holder, key);
      const fn = d && d.value;
      if (typeof fn !== 'function' || key === 'constructor') continue;
      for (const self of thisValues) for (const args of argSets) note(name + '.' + String(key) + '()', () => Reflect.apply(fn, self, args));
    }
  }
`;

/** The probe's source: it reaches for every module the lab's code may import and calls what they export. */
function probeSource(dir: string, lab: string, nodeModules: readonly string[]): string {
  const rel = (p: string): string => JSON.stringify(`./${path.relative(dir, p).split(path.sep).join('/')}`);
  const given = (GIVEN_MODULES[lab] ?? []).map((f) => `${JSON.stringify(f)}: require(${rel(path.join(ROOT, lab, f))})`);
  const node = nodeModules
    .filter((n) => n === 'crypto' || n === 'path' || n === 'fs')
    .map((n) => `'node:${n}': require('node:${n}')`);
  return `
const modules = { labrpc: require(${rel(path.join(ROOT, 'labrpc'))}), ${[...given, ...node].join(', ')} };
function results() {
  const out = [];
  const note = (name, f) => {
    try {
      const v = f();
      if (v && typeof v.then === 'function') v.then(undefined, () => undefined);
      out.push([name, v]);
    } catch (e) {
      out.push([name + ' threw', e]);
    }
  };
  note('setTimeout', () => setTimeout(() => undefined, 1));
  note('setInterval', () => { const h = setInterval(() => undefined, 1000); clearInterval(h); return h; });
  note('setImmediate', () => setImmediate(() => undefined));
  note('new Date', () => new Date());
  note('Date()', () => Date());
  note('Date.now', () => Date.now());
  note('performance.now', () => performance.now());
  note('Math.random', () => Math.random());
  note('crypto.randomUUID', () => crypto.randomUUID());
  note('crypto.getRandomValues', () => crypto.getRandomValues(new Uint8Array(4)));
  note('structuredClone', () => structuredClone({ a: [1, { b: 2 }] }));
  note('Buffer.from', () => Buffer.from('x'));
  note('Buffer.allocUnsafe', () => Buffer.allocUnsafe(4));
  note('Buffer.concat', () => Buffer.concat([Buffer.from('a'), Buffer.from('b')]));
  note('TextEncoder', () => new TextEncoder().encode('x'));
  note('URL', () => new URL('http://example.com/a?b=c'));
  if (modules['node:crypto']) note('createHash', () => modules['node:crypto'].createHash('sha1').update('x'));
  // node's own errors and iterators the endowments lead to (grader/node-errors.ts): each a class of node's.
  note('Buffer.alloc(-1)', () => Buffer.alloc(-1));
  note('buffer.readUInt8(9)', () => Buffer.from('a').readUInt8(9));
  note('Buffer.from(Symbol())', () => Buffer.from(Symbol()));
  note('buffer.toString("zzz")', () => Buffer.alloc(1).toString('zzz'));
  note('new TextDecoder("zzz")', () => new TextDecoder('zzz'));
  note('structuredClone(() => 1)', () => structuredClone(() => 1));
  note('new URLSearchParams().entries()', () => new URLSearchParams('a=1').entries());
  note('queueMicrotask(5)', () => queueMicrotask(5));
  if (modules['node:crypto']) note('hash.update(5)', () => modules['node:crypto'].createHash('sha1').update(5));
${NODE_CLASS_CALLS}  for (const [file, mod] of Object.entries(modules))
    if (!file.startsWith('node:')) for (const [key, v] of Object.entries(mod))
      if (typeof v === 'function') {
        note(file + '.' + key + '()', () => v());
        note('new ' + file + '.' + key + '()', () => new v());
      }
  return out;
}
/** What each kind of callback is called with (its \`this\` and arguments), where no world runs: node's own timers. */
async function callbacks() {
  const out = [];
  const called = (name, set) =>
    new Promise((resolve) => set(function (...args) { out.push(['this of a ' + name + ' callback', this], [name + ' callback arguments', args]); resolve(); }));
  await called('setTimeout', (f) => setTimeout(f, 0));
  await called('setImmediate', (f) => setImmediate(f));
  await called('setInterval', (f) => { const h = setInterval(function (...a) { clearInterval(h); f.apply(this, a); }, 1); });
  await called('queueMicrotask', (f) => queueMicrotask(f));
  return out;
}
module.exports = { surface: () => ({ globals: globalThis, modules, results: results() }), callbacks };
`;
}

/** Every value, getter and setter the compartment's global object holds. */
function globalRoots(when: string, globals: object): Root[] {
  return Reflect.ownKeys(globals).flatMap((key) => {
    if (key === 'globalThis') return [];
    const d = Reflect.getOwnPropertyDescriptor(globals, key);
    const name = `${when}:${String(key)}`;
    return d ? [d.value, d.get, d.set].map((value, i) => ({ name: `${['', 'get ', 'set '][i]}${name}`, value })) : [];
  });
}

/** The roots of one look at the surface: the globals, the modules, and each call's result (its own). */
function surfaceRoots(
  when: string,
  surface: { globals: unknown; modules: unknown; results: [string, unknown][] },
): Root[] {
  return [
    // The compartment's global object is the code's own (one per compartment, never read by the harness): the
    // walk starts at what it holds.
    ...globalRoots(when, surface.globals as object),
    ...Object.entries(surface.modules as Record<string, unknown>).map(([name, value]) => ({
      name: `${when}:import ${name}`,
      value,
    })),
    ...surface.results.map(([name, value]) => ({ name: `${when}:${name}`, value, ownCopy: true })),
  ];
}

/**
 * The roots of the probe's own look at what the code can touch: a file of the code's that reaches for every module
 * it may import and calls what they export, at load (node's timers, and what they call a callback with) and in a
 * world (the world's timers).
 */
async function probeRoots(
  lab: string,
  labDir: string,
  kitDirs: string[],
  nodeModules: NonNullable<LabSuite<unknown>['nodeModules']>,
): Promise<Root[]> {
  const { World } = require('../../../world') as typeof import('../../../world');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-reach-'));
  const roots: Root[] = [];
  try {
    fs.writeFileSync(path.join(dir, 'probe.ts'), probeSource(dir, lab, nodeModules));
    // The probe's exports as the compartment made them, before they cross (a crossing would hand the walk copies).
    let raw: unknown;
    const spy = (exports: unknown): unknown => ((raw = exports), exports);
    const probe = compartmentLoader({ implDir: dir, labDir, kitDirs, cacheDir: '', nodeModules, spy });
    probe.require(path.join(dir, 'probe.ts'));
    const { surface, callbacks } = raw as {
      surface: () => Parameters<typeof surfaceRoots>[1];
      callbacks: () => Promise<Array<[string, unknown]>>;
    };
    roots.push(...surfaceRoots('load', surface()));
    // Outside any world the timers are node's: what node calls a callback with is the code's to walk.
    // (An arguments array is made afresh for the call: the code's own, though what it holds is walked.)
    roots.push(
      ...(await callbacks()).map(([name, value]) => ({
        name: `load:${name}`,
        value,
        ownCopy: name.endsWith('arguments'),
      })),
    );
    await new World({ seed: 1 }).run(() => roots.push(...surfaceRoots('test', surface())));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return roots;
}

async function main(lab: string, testNames: readonly string[]): Promise<ProbeReport> {
  // After the lockdown, as in the grader's test process.
  const { suite } = require(path.join(ROOT, lab, 'test', 'suite.ts')) as { suite: LabSuite<unknown> };
  const { runNamedTest } = require('../../../suite') as typeof import('../../../suite');
  const { useLoader } = require('../../../suite/loader') as typeof import('../../../suite/loader');
  const labDir = path.join(ROOT, lab);
  const kitDirs = [path.join(ROOT, 'labrpc')];
  const nodeModules = suite.nodeModules ?? [];
  if (nodeModules.length > 0) lockNodePrototypes('all'); // as isolate.ts does where the code gets node modules

  const roots: Root[] = await probeRoots(lab, labDir, kitDirs, nodeModules);

  // What the code receives is seen from its side of the boundary (reach-spy.ts); the crossing's witness only says
  // which of those values are copies of the code's own.
  const copies = new WeakSet<object>();
  const witness: Witness = (given, ownCopy) => {
    if (ownCopy && typeof given === 'object' && given !== null) copies.add(given);
  };
  const handed = new Map<unknown, string>();
  const note = (received: unknown, how: string): void => {
    if (received === null || (typeof received !== 'object' && typeof received !== 'function')) return;
    if (handed.size < MAX_HANDED && !handed.has(received)) handed.set(received, how);
  };
  const suitePath = path.join(labDir, 'test', 'suite.ts');
  useLoader(
    compartmentLoader({
      implDir: path.join(ROOT, 'solutions', lab),
      labDir,
      kitDirs,
      cacheDir: '',
      nodeModules,
      witness,
      spy: spy(note),
      earlierLabs: earlierLabs(suite, path.join(ROOT, 'solutions', lab), suitePath),
    }),
  );
  const impl = suite.load(path.join(ROOT, 'solutions', lab));
  const tests: Array<{ name: string; status: string; message: string }> = [];
  for (const name of testNames) {
    const test = suite.tests.find((t) => t.name === name);
    if (!test) throw new Error(`${lab} has no test ${name}`);
    const outcome = await runNamedTest(test, impl, 1);
    tests.push({ name, status: outcome.status, message: outcome.message ?? '' });
  }
  let i = 0;
  for (const [value, how] of handed)
    roots.push({
      name: `handed#${i++} (${how})`,
      value,
      ownCopy: typeof value === 'object' && value !== null && copies.has(value),
    });
  const walked = walk(roots);
  return {
    lab,
    implFiles: suite.implFiles,
    findings: walked.findings.slice(0, 40),
    objects: walked.objects,
    handed: handed.size,
    routes: [...new Set(handed.values())].sort(),
    tests,
  };
}

/** Probes each `labN:TestA,TestB` argument in turn (one process, one compartment per lab), one line each. */
async function probeAll(args: readonly string[]): Promise<void> {
  lockDownRealm();
  for (const arg of args) {
    const [lab, tests = ''] = arg.split(':');
    process.stdout.write(`${JSON.stringify(await main(lab, tests.split(',').filter(Boolean)))}\n`);
  }
}

probeAll(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
