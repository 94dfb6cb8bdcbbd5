/**
 * The kit's red-team attacks, as code a student could write, kept in one place: each is added to a lab folder of
 * student files (a skeleton's or a reference's), for the tests that grade it in plain, Classroom and batch mode.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Lab 2's clerk, first of all: a network of its own, through which it would patch the world's run and the network's luck. */
const NETWORK_ATTACK = `
import * as kitRpc from '../labrpc';
function attack(): void {
  try {
    const Network = (kitRpc as unknown as { Network: new () => { world: { rng: object } } }).Network;
    const world = new Network().world;
    const worldProto = Object.getPrototypeOf(world) as { run: unknown };
    worldProto.run = async (): Promise<void> => undefined;
    (Object.getPrototypeOf(world.rng) as { chance: unknown }).chance = (): boolean => false;
    console.log('attack: the world was patched');
  } catch (err) {
    console.log(\`attack refused: \${(err as Error).message}\`);
  }
}
`;

/** A helper file of the student's, in the lab folder: node's module cache would hold the world's module. */
const HELPER = `/** A helper the clerk imports: it reports what it can reach, and patches the world if it can. */
export function attack(): void {
  const seen: string[] = [];
  try {
    seen.push(\`process: \${typeof (globalThis as { process?: unknown }).process}\`);
  } catch (err) {
    seen.push(\`process: \${(err as Error).name}\`);
  }
  const req = require as unknown as { cache?: Record<string, { exports: Record<string, { prototype: object }> }> };
  seen.push(\`require.cache: \${typeof req.cache}\`);
  try {
    require('node:fs');
    seen.push('node:fs: loaded');
  } catch {
    seen.push('node:fs: refused');
  }
  seen.push(\`Buffer pool: \${Buffer.from('x').buffer.byteLength}\`);
  for (const [file, mod] of Object.entries(req.cache ?? {}))
    if (file.endsWith('world.ts') && mod.exports.World)
      (mod.exports.World.prototype as { run: unknown }).run = async (): Promise<void> => undefined;
  console.log(\`helper sees \${seen.join(', ')}\`);
}
`;

/** Lab 2's server, from its first instance on: 3 GiB of typed arrays kept on the global (outside V8's heap). */
const HOARD = `
  private readonly hoard: Uint8Array[] = [];
  constructor() {
    while (this.hoard.length < 48) this.hoard.push(new Uint8Array(64 << 20).fill(1));
  }`;

/** The attacks on lab 2: a live harness object (a Network of its own), a helper file outside the compartment, memory. */
export type Lab2Attack = 'network' | 'helper' | 'hoard' | 'node-tables';

/** What each lab 2 attack prints (or, for the hoard, the failure each test gets) when the sandbox holds. */
export const LAB2_REFUSED: Readonly<Record<Lab2Attack, RegExp>> = {
  network: /attack refused: labrpc's Network is not available/,
  helper: /helper sees process: ReferenceError, require\.cache: undefined, node:fs: refused, Buffer pool: 1/,
  hoard: /^Out of memory: the test's process held \d+ MB of memory in all/,
  'node-tables': /node tables refused: stylize, error class, converter\n/,
};

/**
 * The node-tables attack (a review's, rewritten): three objects of node's that every machine of a process shares,
 * each reached from an endowment, would hold a table two servers could share, or one that outlives its server: the
 * `stylize` function node hands an inspect hook (through Buffer's inspect method), the prototype of an error class
 * (Buffer's swap16 on one byte) and the prototype of ICU's Converter (a UTF-16 TextDecoder's handle).
 */
const NODE_TABLES_ATTACK = `
function attack(): void {
  const INSPECT = Symbol.for('nodejs.util.inspect.custom');
  const routes: Array<[string, () => object]> = [
    ['stylize', () => {
      let got: object = {};
      const b = Object.assign(Buffer.alloc(0), {
        x: { [INSPECT]: (_depth: number, o: { stylize: object }) => ((got = o.stylize), '') },
      });
      (Buffer.prototype as unknown as Record<symbol, (this: Buffer, d: number, o: object) => string>)[INSPECT].call(b, 2, {});
      return got;
    }],
    ['error class', () => {
      try {
        Buffer.alloc(1).swap16();
      } catch (e) {
        return Object.getPrototypeOf(e) as object;
      }
      return {};
    }],
    ['converter', () => {
      const d = new TextDecoder('utf-16le') as unknown as Record<symbol, unknown>;
      const handle = Object.getOwnPropertySymbols(d).map((k) => d[k]).find((v) => typeof v === 'object' && v !== null);
      return Object.getPrototypeOf(handle) as object;
    }],
  ];
  const refused: string[] = [];
  for (const [name, reach] of routes) {
    try {
      Object.defineProperty(reach(), '__table', { value: new Map(), configurable: true });
      console.log(\`node table: wrote on \${name}\`);
    } catch {
      refused.push(name);
    }
  }
  console.log(\`node tables refused: \${refused.join(', ')}\`);
}
`;

/** The line of lab 2's server.ts (skeleton and reference alike) after which the hoard's constructor goes. */
export const SERVER_CLASS_LINE = 'export class KVServer implements KVService {';

/** The hoard as a replacement of SERVER_CLASS_LINE. */
export const HOARD_REPLACEMENT: readonly [string, string] = [SERVER_CLASS_LINE, `${SERVER_CLASS_LINE}${HOARD}`];

/** Adds `attack` to the lab 2 folder `lab` (a skeleton's files or a reference's, imports relative to the lab folder). */
export function addLab2Attack(lab: string, attack: Lab2Attack): void {
  const edit = (file: string, change: (code: string) => string): void => {
    const before = fs.readFileSync(path.join(lab, file), 'utf8');
    const after = change(before);
    if (after === before) throw new Error(`the ${attack} attack found nothing to change in ${file}`);
    fs.writeFileSync(path.join(lab, file), after);
  };
  if (attack === 'hoard') return edit('server.ts', (code) => code.replace(...HOARD_REPLACEMENT));
  edit('client.ts', (code) => {
    const calling = code.replace(/constructor\(([^)]*)\) \{/, 'constructor($1) {\n    attack();');
    return calling === code
      ? code
      : `${calling}\n${attack === 'network' ? NETWORK_ATTACK : attack === 'node-tables' ? NODE_TABLES_ATTACK : "import { attack } from './helper';\n"}`;
  });
  if (attack === 'helper') fs.writeFileSync(path.join(lab, 'helper.ts'), HELPER);
}

/**
 * Lab 2's lock and clerk (the reference's, changed): the clerk answers one key without an RPC, so that the recording
 * clerk's check throws the harness's verdict into the lock; the lock catches it and, if it can, makes `instanceof`
 * of the verdict's class answer false, then hangs in a release of a lock it does not hold. The hang scores only if
 * the verdict's class could be changed.
 */
const VERDICT_POISON = `
async function poison(ck: KVClerk): Promise<void> {
  try {
    await ck.get('__poison__');
  } catch (err) {
    const ctor = (err as { constructor: object }).constructor;
    try {
      Object.defineProperty(ctor, Symbol.hasInstance, { value: () => false });
      console.log(\`poison: \${(err as Error).name}'s class now denies its instances\`);
    } catch (refused) {
      console.log(\`poison refused: \${(err as Error).name}, \${String(refused)}\`);
    }
  }
}
`;

/** Adds the verdict poison (VERDICT_POISON) to a lab 2 folder holding the reference's lock and clerk. */
export function addVerdictPoison(lab: string): void {
  const edit = (file: string, from: RegExp, to: string, tail = ''): void => {
    const before = fs.readFileSync(path.join(lab, file), 'utf8');
    const after = before.replace(from, to);
    if (after === before) throw new Error(`the verdict poison found nothing to change in ${file}`);
    fs.writeFileSync(path.join(lab, file), after + tail);
  };
  edit(
    'client.ts',
    /async get\(key: string\): Promise<GetResult> \{/,
    "async get(key: string): Promise<GetResult> {\n    if (key === '__poison__') return { err: 'ErrNoKey' };",
  );
  edit(
    'lock.ts',
    /async release\(\): Promise<void> \{/,
    'async release(): Promise<void> {\n    if (!this.held) {\n      await poison(this.ck);\n' +
      '      await new Promise(() => undefined);\n    }',
    VERDICT_POISON,
  );
}

/** What the verdict poison prints when the sandbox holds: the error it caught is a fresh one, its class frozen. */
export const VERDICT_POISON_REFUSED = /poison refused: TestFailure, TypeError: Cannot define property/;

/**
 * Lab 7's controller (the skeleton's, replaced): it writes onto the prototype of the configuration the tester hands
 * initConfig and, only if that worked, keeps the configuration in memory for query(), which TestInitQuery5A would
 * take for a stored one. So it scores only if the kit's ShardConfig reached it.
 */
export const KIT_PROTOTYPE_CTRLER = `/** A controller that writes onto the kit's ShardConfig, if it is handed one. */
import type { ClientEnd } from '../labrpc';
import type { Controller, MakeEnd } from './rpc';
import type { ShardConfig } from './shardcfg';

let kept: ShardConfig | undefined;

export class ShardCtrler implements Controller {
  constructor(_kv: ClientEnd, _makeEnd: MakeEnd) {}

  async initConfig(cfg: ShardConfig): Promise<void> {
    try {
      (Object.getPrototypeOf(cfg) as Record<string, unknown>).marked = true;
      kept = cfg;
      console.log('prototype: written');
    } catch (refused) {
      console.log(\`prototype refused: \${String(refused)}\`);
      throw refused;
    }
  }

  async query(): Promise<ShardConfig> {
    if (kept) return kept;
    throw new Error('TODO: ShardCtrler.query is not implemented yet');
  }

  async initController(): Promise<void> {
    throw new Error('TODO: ShardCtrler.initController is not implemented yet');
  }

  async changeConfigTo(next: ShardConfig): Promise<void> {
    throw new Error(\`TODO: ShardCtrler.changeConfigTo is not implemented yet (configuration \${next.num})\`);
  }
}
`;

/** What KIT_PROTOTYPE_CTRLER prints when the sandbox holds: the prototype it was handed is frozen. */
export const KIT_PROTOTYPE_REFUSED = /prototype refused: TypeError: Cannot add property marked/;

/**
 * Lab 7's controller as a function that returns an object literal of methods (not a class's object): the harness
 * calls those methods as it would a class's, so their arguments must cross as well. It keeps the configuration
 * initConfig is handed only if that is the harness's ShardConfig (not the compartment's own class), and query()
 * then answers with it, which TestInitQuery5A would take for a stored one.
 */
export const PLAIN_OBJECT_CTRLER = `/** A controller made of an object literal, keeping the harness's ShardConfig if it is handed one. */
import type { ClientEnd } from '../labrpc';
import type { MakeEnd } from './rpc';
import { ShardConfig } from './shardcfg';

let kept: ShardConfig | undefined;

export function ShardCtrler(_kv: ClientEnd, _makeEnd: MakeEnd) {
  return {
    initConfig: async (cfg: ShardConfig): Promise<void> => {
      if (Object.getPrototypeOf(cfg) === ShardConfig.prototype) {
        console.log('harness object refused: a ShardConfig of the compartment’s own class');
        throw new Error('TODO');
      }
      kept = cfg;
      console.log('harness object: reached');
    },
    query: async (): Promise<ShardConfig> => {
      if (kept) return kept;
      throw new Error('TODO: ShardCtrler.query is not implemented yet');
    },
    initController: async (): Promise<void> => {
      throw new Error('TODO: ShardCtrler.initController is not implemented yet');
    },
    changeConfigTo: async (): Promise<void> => {
      throw new Error('TODO: ShardCtrler.changeConfigTo is not implemented yet');
    },
  };
}
`;

/** What PLAIN_OBJECT_CTRLER prints when the sandbox holds. */
export const PLAIN_OBJECT_REFUSED = /harness object refused: a ShardConfig of the compartment’s own class/;

/**
 * Each way lab 5's code could reach a port or a descriptor it was not given, by label, with what its refusal must
 * name: the usual calls (a classmate's `port`, a port to listen on, a Unix socket), every option or argument that
 * brings a descriptor or a handle (to the classes, their `constructor`, connect and listen), and node's TCP handle
 * itself, reached through a server's `_handle`. `net` names node:net as the code imported it.
 */
export function dialRoutes(
  port: number,
  net = 'net',
): ReadonlyArray<readonly [label: string, attempt: string, names: string]> {
  const handleOf = `(() => { const s = ${net}.createServer(); s.listen(0); return (s as unknown as { _handle: { constructor: new (t: number) => Record<string, (...a: unknown[]) => unknown> } })._handle; })()`;
  // A handle of its own, made with a server's handle's constructor (refused), or a server's handle itself.
  const raw = `new (${handleOf}).constructor(1)`;
  return [
    [
      'connect',
      `${net}.connect({ port: ${port}, host: '127.0.0.1' }).on('error', () => undefined).end('SET k stolen\\r\\n')`,
      `port ${port}`,
    ],
    ['createConnection', `${net}.createConnection(${port}, 'localhost').on('error', () => undefined)`, `port ${port}`],
    ['Socket#connect', `new ${net}.Socket().connect(${port}).on('error', () => undefined)`, `port ${port}`],
    [
      'listen',
      `${net}.createServer().listen(${port + 1}, '127.0.0.1').on('error', () => undefined)`,
      `port ${port + 1}`,
    ],
    [
      'path',
      `${net}.connect({ path: '/var/run/docker.sock' }).on('error', () => undefined)`,
      'the option "path" to connect',
    ],
    ['Socket fd', `new ${net}.Socket({ fd: 0 }).destroy()`, 'the option "fd" to new net.Socket'],
    [
      'Socket number',
      `new (${net}.Socket as unknown as new (fd: number) => ${net}.Socket)(1).destroy()`,
      'a descriptor, 1, to new net.Socket',
    ],
    [
      'constructor fd',
      `(new (Object.getPrototypeOf(new ${net}.Socket()).constructor)({ fd: 0 }) as ${net}.Socket).destroy()`,
      'the option "fd" to new net.Socket',
    ],
    ['Socket handle', `new ${net}.Socket({ handle: ${raw} } as never).destroy()`, 'a TCP handle of its own'],
    [
      'createConnection fd',
      `${net}.createConnection({ fd: 0, port: ${port} } as never).destroy()`,
      'the option "fd" to connect',
    ],
    ['listen fd', `new ${net}.Server().listen({ fd: 0 } as never).close()`, 'the option "fd" to listen'],
    [
      'listen handle',
      `${net}.createServer().listen({ handle: ${handleOf} } as never).close()`,
      'the option "handle" to listen',
    ],
    [
      'handle bind',
      `((h) => [h.bind('127.0.0.1', ${port + 2}), h.listen(511), h.close()])(${raw})`,
      'a TCP handle of its own',
    ],
    ['handle open', `((h) => [h.open(0), h.close()])(${handleOf})`, 'open the descriptor 0'],
  ];
}

/** Lab 5 code that, at load, tries each of `dialRoutes(port)`, printing `ATTACK <label>: <what happened>`. */
export function dialAttack(port: number): string {
  const attempts = dialRoutes(port, 'dialNet')
    .map(([label, attempt]) => `  [${JSON.stringify(label)}, () => ${attempt}],`)
    .join('\n');
  return `
import * as dialNet from 'node:net';
for (const [label, attempt] of [
${attempts}
] as Array<[string, () => unknown]>) {
  try {
    attempt();
    console.log(\`ATTACK \${label}: not refused\`);
  } catch (e) {
    console.log(\`ATTACK \${label}: \${(e as Error).message}\`);
  }
}
`;
}

/** The lines of `output` that say how each of `dialRoutes(port)` went, and the routes that were not refused as they must be. */
export function dialNotRefused(output: string, port: number): string[] {
  return dialRoutes(port)
    .map(([label, , names]) => {
      const line = output.split('\n').find((l) => l.startsWith(`ATTACK ${label}: `)) ?? `(no line for ${label})`;
      return line.includes('Refused: your code') && line.includes(names) ? '' : line;
    })
    .filter((l) => l !== '');
}

/**
 * The shared-table fakes: clerks that answer from a table shared by every clerk of the module, never from the
 * servers, and send one junk RPC per operation (a KVServer.Get of the key "") so that "the clerk sent an RPC" holds.
 * Lab 2's comes with a lock kept in a module-level table and the reference server; lab 7's with a controller that
 * keeps the configuration in a module variable, shard servers that answer every Get and Put ErrWrongGroup and a Raft
 * whose getState is a constant. Their honest score is 0.
 */
const TABLE_CLERK_LAB2 = `/** A fake: answers from a table shared by every clerk of the module; sends one junk RPC per call. */
import { ClientEnd } from '../labrpc';
import type { GetResult, KVClerk, PutResult, Version } from './rpc';

const table = new Map<string, { value: string; version: number }>();

export class Clerk implements KVClerk {
  private readonly server: ClientEnd;

  constructor(server: ClientEnd) {
    this.server = server;
  }

  private junk(): void {
    try {
      const p = this.server.call('KVServer.Get', { key: '' }) as Promise<unknown>;
      p.then(undefined, () => undefined);
    } catch {
      /* ignore */
    }
  }

  async get(key: string): Promise<GetResult> {
    this.junk();
    const e = table.get(key);
    if (!e) return { err: 'ErrNoKey' } as GetResult;
    return { err: 'OK', value: e.value, version: e.version } as GetResult;
  }

  async put(key: string, value: string, version: Version): Promise<PutResult> {
    this.junk();
    const e = table.get(key);
    if (!e) {
      if (version !== 0) return 'ErrNoKey';
      table.set(key, { value, version: 1 });
      return 'OK';
    }
    if (e.version !== version) return 'ErrVersion';
    table.set(key, { value, version: version + 1 });
    return 'OK';
  }
}
`;

const TABLE_LOCK_LAB2 = `/** A fake: a lock in a module-level table; one clerk get per acquire attempt. */
import type { DistributedLock, KVClerk } from './rpc';

const holders = new Map<string, object>();

export class Lock implements DistributedLock {
  private readonly ck: KVClerk;
  private readonly name: string;
  private readonly me = {};

  constructor(ck: KVClerk, name: string) {
    this.ck = ck;
    this.name = name;
  }

  async acquire(timeoutMs = Infinity): Promise<boolean> {
    const start = Date.now();
    for (;;) {
      await this.ck.get(this.name);
      const h = holders.get(this.name);
      if (h === undefined || h === this.me) {
        holders.set(this.name, this.me);
        return true;
      }
      if (Date.now() - start >= timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async release(): Promise<void> {
    await this.ck.get(this.name);
    if (holders.get(this.name) === this.me) holders.delete(this.name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (holders.get(this.name) === this.me) await this.release();
  }
}
`;

const TABLE_CLERK_LAB7 = `/** A fake: one table shared by every clerk; one junk RPC per call. */
import type { GetResult, PutResult, Version } from '../lab6/kvapi';
import type { Controller, MakeEnd, ShardClerk } from './rpc';

export const table = new Map<string, { value: string; version: number }>();

export class Clerk implements ShardClerk {
  private readonly makeEnd: MakeEnd;
  private readonly ctrler: Controller;
  constructor(ctrler: Controller, makeEnd: MakeEnd) {
    this.ctrler = ctrler;
    this.makeEnd = makeEnd;
  }
  private async junk(): Promise<void> {
    const cfg = await this.ctrler.query();
    const gid = cfg.shards[0];
    const end = this.makeEnd(cfg.servers(gid)[0]);
    end.call('KVServer.Get', { key: '' }).then(undefined, () => undefined);
  }
  async get(key: string): Promise<GetResult> {
    await this.junk();
    const e = table.get(key);
    return e ? { err: 'OK', value: e.value, version: e.version } : { err: 'ErrNoKey' };
  }
  async put(key: string, value: string, version: Version): Promise<PutResult> {
    await this.junk();
    const e = table.get(key);
    if (!e) {
      if (version !== 0) return 'ErrNoKey';
      table.set(key, { value, version: 1 });
      return 'OK';
    }
    if (e.version !== version) return 'ErrVersion';
    table.set(key, { value, version: version + 1 });
    return 'OK';
  }
}
`;

const MEMORY_CTRLER_LAB7 = `/** A fake: the configuration lives in a module variable; lab 2's server is never used. */
import type { ClientEnd } from '../labrpc';
import type { Controller, MakeEnd } from './rpc';
import type { ShardConfig } from './shardcfg';
import { table } from './client';

const STORED: { cfg?: ShardConfig } = {};

export class ShardCtrler implements Controller {
  constructor(_kv: ClientEnd, _makeEnd: MakeEnd) {}
  async initConfig(cfg: ShardConfig): Promise<void> {
    STORED.cfg = cfg;
    table.clear();
  }
  async query(): Promise<ShardConfig> {
    if (!STORED.cfg) throw new Error('no config');
    return STORED.cfg;
  }
  async initController(): Promise<void> {}
  async changeConfigTo(next: ShardConfig): Promise<void> {
    if (STORED.cfg && next.num !== STORED.cfg.num + 1) return;
    STORED.cfg = next;
  }
}
`;

/** A fake of a lab, by the lab it is graded in. */
export type SharedTableFake =
  | 'lab2'
  | 'lab7'
  | 'echo-lab2'
  | 'echo-lab2-global'
  | 'echo-lab7'
  | 'shared-log-lab6'
  | 'echo-lab1'
  | 'hint-lab2'
  | 'hint-lab7'
  | 'liar-lab4'
  | 'timing-lab6'
  | 'pinned-lab2'
  | 'pinged-lab1'
  | 'registry-lab2'
  | 'tablelock-lab2'
  | 'in-memory-lab5'
  | 'twofaced-lab2'
  | 'dense-lab6'
  | 'stamped-lab2'
  | 'twofaced-lab4'
  | 'unsaid-lab3'
  | 'zombie-lab5'
  | 'lockviaclerk-lab2'
  | 'attic-lab7'
  | 'slotswap-lab7'
  | 'renamed-term-lab6'
  | 'numbered-lab3'
  | 'backdoor-lab5'
  | 'renamed-rpc-lab6'
  | 'optimistic-lab6'
  | 'decoy-lab2'
  | 'decoy-lab3'
  | 'decoy-lab1'
  | 'decoy-lab6'
  | 'timer-decoy-lab6'
  | 'decoy-lab7'
  | 'probe-lab6'
  | 'tagged-lab7'
  | 'slowretry-lab2';

/** The lab folders a student root needs for each fake (lab 7 builds on lab 6 and lab 2). */
export const SHARED_TABLE_LABS: Readonly<Record<SharedTableFake, readonly string[]>> = {
  lab2: ['lab2'],
  lab7: ['lab2', 'lab6', 'lab7'],
  'echo-lab2': ['lab2'],
  'echo-lab2-global': ['lab2'],
  'echo-lab7': ['lab2', 'lab6', 'lab7'],
  'shared-log-lab6': ['lab6'],
  'echo-lab1': ['lab1'],
  'hint-lab2': ['lab2'],
  'hint-lab7': ['lab2', 'lab6', 'lab7'],
  'liar-lab4': ['lab4'],
  'timing-lab6': ['lab6'],
  'pinned-lab2': ['lab2'],
  'pinged-lab1': ['lab1'],
  'registry-lab2': ['lab2'],
  'tablelock-lab2': ['lab2'],
  'in-memory-lab5': ['lab5'],
  'twofaced-lab2': ['lab2'],
  'dense-lab6': ['lab6'],
  'stamped-lab2': ['lab2'],
  'twofaced-lab4': ['lab4'],
  'unsaid-lab3': ['lab3'],
  'zombie-lab5': ['lab5'],
  'lockviaclerk-lab2': ['lab2'],
  'attic-lab7': ['lab2', 'lab6', 'lab7'],
  'slotswap-lab7': ['lab2', 'lab6', 'lab7'],
  'renamed-term-lab6': ['lab6'],
  'numbered-lab3': ['lab3'],
  'backdoor-lab5': ['lab5'],
  'renamed-rpc-lab6': ['lab6'],
  'optimistic-lab6': ['lab6'],
  'decoy-lab2': ['lab2'],
  'decoy-lab3': ['lab3'],
  'decoy-lab1': ['lab1'],
  'decoy-lab6': ['lab6'],
  'timer-decoy-lab6': ['lab6'],
  'decoy-lab7': ['lab2', 'lab6', 'lab7'],
  'probe-lab6': ['lab6'],
  'tagged-lab7': ['lab2', 'lab6', 'lab7'],
  'slowretry-lab2': ['lab2'],
};

/** The lab each fake is graded in. */
export const FAKE_LAB: Readonly<Record<SharedTableFake, string>> = {
  lab2: 'lab2',
  lab7: 'lab7',
  'echo-lab2': 'lab2',
  'echo-lab2-global': 'lab2',
  'echo-lab7': 'lab7',
  'shared-log-lab6': 'lab6',
  'echo-lab1': 'lab1',
  'hint-lab2': 'lab2',
  'hint-lab7': 'lab7',
  'liar-lab4': 'lab4',
  'timing-lab6': 'lab6',
  'pinned-lab2': 'lab2',
  'pinged-lab1': 'lab1',
  'registry-lab2': 'lab2',
  'tablelock-lab2': 'lab2',
  'in-memory-lab5': 'lab5',
  'twofaced-lab2': 'lab2',
  'dense-lab6': 'lab6',
  'stamped-lab2': 'lab2',
  'twofaced-lab4': 'lab4',
  'unsaid-lab3': 'lab3',
  'zombie-lab5': 'lab5',
  'lockviaclerk-lab2': 'lab2',
  'attic-lab7': 'lab7',
  'slotswap-lab7': 'lab7',
  'renamed-term-lab6': 'lab6',
  'numbered-lab3': 'lab3',
  'backdoor-lab5': 'lab5',
  'renamed-rpc-lab6': 'lab6',
  'optimistic-lab6': 'lab6',
  'decoy-lab2': 'lab2',
  'decoy-lab3': 'lab3',
  'decoy-lab1': 'lab1',
  'decoy-lab6': 'lab6',
  'timer-decoy-lab6': 'lab6',
  'decoy-lab7': 'lab7',
  'probe-lab6': 'lab6',
  'tagged-lab7': 'lab7',
  'slowretry-lab2': 'lab2',
};

/** The echo fakes' files (fixtures/echo): clerks that work out every answer from a table their module shares and send it in an extra field, to servers that echo it. */
const ECHO_FIXTURES = path.join(__dirname, 'fixtures', 'echo');

/** The hint fake's files (fixtures/hint): each answer sent ahead to the server, in an RPC the lab allows. */
const HINT_FIXTURES = path.join(__dirname, 'fixtures', 'hint');

/** Copies a reference solution's file into a student root, its imports made the lab folder's own. */
function referenceFile(kit: string, root: string, lab: string, file: string): void {
  const code = fs.readFileSync(path.join(kit, 'solutions', lab, file), 'utf8');
  fs.writeFileSync(path.join(root, lab, file), code.replaceAll(`'../../${lab}/`, "'./").replaceAll("'../../", "'../"));
}

/** The files of a lab's reference solution that a student root holds (the ones a student writes). */
const REFERENCE_FILES: Readonly<Record<'lab1' | 'lab2' | 'lab5' | 'lab6' | 'lab7', readonly string[]>> = {
  lab1: ['client.ts', 'server.ts'],
  lab2: ['client.ts', 'server.ts', 'lock.ts'],
  lab5: ['server.ts', 'persistence.ts', 'client.ts'],
  lab6: ['raft.ts', 'rsm.ts', 'server.ts', 'client.ts'],
  lab7: ['ctrler.ts', 'grpclerk.ts', 'server.ts', 'client.ts'],
};

/** Copies the whole reference solution of each lab into a student root (referenceFile for each of its files). */
function referenceLabs(kit: string, root: string, ...labs: Array<keyof typeof REFERENCE_FILES>): void {
  for (const lab of labs) for (const f of REFERENCE_FILES[lab]) referenceFile(kit, root, lab, f);
}

/** Changes `from` to `to` in `file` of a student root, failing if `from` is not there. */
type Edit = (file: string, from: string, to: string) => void;

/**
 * Writes an echo fake into `root`: lab 2's (its clerk and server from fixtures/echo, a server id from a global of
 * the code's own, or with `echo-lab2` none, and the answer in an extra field), or lab 7's (lab 2's reference with
 * its server kept in a module variable the shard servers read, lab 6's skeleton Raft answering a constant state, a
 * controller that moves no shard, and the echo clerk and servers).
 */
function addEchoFake(
  root: string,
  kit: string,
  fake: 'echo-lab2' | 'echo-lab2-global' | 'echo-lab7',
  edit: Edit,
): void {
  if (fake !== 'echo-lab7') {
    for (const f of ['client.ts', 'server.ts'])
      fs.copyFileSync(path.join(ECHO_FIXTURES, 'lab2', f), path.join(root, 'lab2', f));
    referenceFile(kit, root, 'lab2', 'lock.ts');
    if (fake === 'echo-lab2-global') return;
    edit(path.join('lab2', 'client.ts'), "(await this.send<{ sid: string }>('KVServer.Hello', {})).sid", "'one'");
    edit(
      path.join('lab2', 'server.ts'),
      'String(((globalThis as any).__echoServers = ((globalThis as any).__echoServers ?? 0) + 1))',
      'String(Math.random())',
    );
    return;
  }
  for (const f of fs.readdirSync(path.join(ECHO_FIXTURES, 'lab7')))
    fs.copyFileSync(path.join(ECHO_FIXTURES, 'lab7', f), path.join(root, 'lab7', f));
  referenceLabs(kit, root, 'lab2');
  edit(
    path.join('lab2', 'server.ts'),
    'export class KVServer implements KVService {',
    'export const LATEST: { server?: KVServer } = {};\n\nexport class KVServer implements KVService {\n' +
      '  constructor() {\n    LATEST.server = this;\n  }\n',
  );
  edit(path.join('lab6', 'raft.ts'), '  getState(): RaftState {', `  getState(): RaftState {\n${CONSTANT_STATE}`);
}

/**
 * Writes a fake that holds something the tests must not let it hold: lab 1's and lab 2's servers keeping every reply
 * or value alive past their removal (through a call always on its way, a timer, or the realm's symbol registry),
 * lab 2's Locks keeping who holds what in a table their module shares, or lab 6's clerks telling a server that
 * stores nothing each answer in the timing of their copies.
 */
function addHeldFake(
  root: string,
  kit: string,
  fake:
    | 'pinged-lab1'
    | 'pinned-lab2'
    | 'registry-lab2'
    | 'stamped-lab2'
    | 'tablelock-lab2'
    | 'lockviaclerk-lab2'
    | 'timing-lab6',
  edit: Edit,
): void {
  if (fake !== 'pinged-lab1' && fake !== 'timing-lab6') return addLab2HeldFake(root, kit, fake, edit);
  if (fake === 'pinged-lab1') {
    // Lab 1's reference with every reply kept (mutant duplicate-state-never-freed), each server always with a call to
    // itself on its way (no timer): the network's queue would hold the server past its removal.
    referenceLabs(kit, root, 'lab1');
    const server = path.join('lab1', 'server.ts');
    edit(
      server,
      '  private readonly lastWrite = new Map<number, LastWrite>();',
      '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly everyReply: string[] = [];',
    );
    edit(
      server,
      '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
      '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.everyReply.push(reply);',
    );
    edit(
      server,
      '    this.store = new ShardStore(config);\n  }',
      '    this.store = new ShardStore(config);\n    const self = config.peers[config.me];\n' +
        "    const again = (): void => void self.call('KVServer.Ping', {}).then(again, again);\n    again();\n  }\n\n" +
        '  Ping(): Record<string, never> {\n    return {};\n  }',
    );
    return;
  }
  if (fake === 'timing-lab6') {
    // Lab 6's clerks on one shared table spelling each answer out to a server that stores nothing, in the gaps
    // between copies of the call's own RPC that the server refuses with ErrWrongLeader (the rest the skeleton).
    for (const f of ['client.ts', 'server.ts'])
      fs.copyFileSync(path.join(__dirname, 'fixtures', 'timing', 'lab6', f), path.join(root, 'lab6', f));
    return;
  }
}

/** The lab 2 fakes of addHeldFake: servers that keep every value out of the weighing, and Locks that share a table. */
function addLab2HeldFake(
  root: string,
  kit: string,
  fake: 'pinned-lab2' | 'registry-lab2' | 'stamped-lab2' | 'tablelock-lab2' | 'lockviaclerk-lab2',
  edit: Edit,
): void {
  if (fake === 'pinned-lab2') {
    // Lab 2's reference clerk and lock with a server that keeps every value, held past its removal by a timer.
    fs.copyFileSync(
      path.join(__dirname, 'fixtures', 'pinned', 'lab2', 'server.ts'),
      path.join(root, 'lab2', 'server.ts'),
    );
    for (const f of ['client.ts', 'lock.ts']) referenceFile(kit, root, 'lab2', f);
    return;
  }
  if (fake === 'stamped-lab2') {
    // Lab 2's reference clerk and lock with a server that keeps every value in a private field on Array.prototype.
    fs.copyFileSync(
      path.join(__dirname, 'fixtures', 'stamped', 'lab2', 'server.ts'),
      path.join(root, 'lab2', 'server.ts'),
    );
    for (const f of ['client.ts', 'lock.ts']) referenceFile(kit, root, 'lab2', f);
    return;
  }
  if (fake === 'registry-lab2') {
    // Lab 2's reference clerk and lock with a server that keeps every value in the realm's symbol registry.
    fs.copyFileSync(
      path.join(__dirname, 'fixtures', 'registry', 'lab2', 'server.ts'),
      path.join(root, 'lab2', 'server.ts'),
    );
    for (const f of ['client.ts', 'lock.ts']) referenceFile(kit, root, 'lab2', f);
    return;
  }
  if (fake === 'lockviaclerk-lab2') {
    // Lab 2's reference with Locks on a table of the clerks' module, reached through a function passed as a version.
    fs.copyFileSync(
      path.join(__dirname, 'fixtures', 'lockviaclerk', 'lab2', 'lock.ts'),
      path.join(root, 'lab2', 'lock.ts'),
    );
    for (const f of ['client.ts', 'server.ts']) referenceFile(kit, root, 'lab2', f);
    edit(
      path.join('lab2', 'client.ts'),
      'export class Clerk implements KVClerk {',
      'const LOCKS = new Map<string, object>();\n\nexport class Clerk implements KVClerk {',
    );
    edit(
      path.join('lab2', 'client.ts'),
      '    const args: PutArgs = { key, value, version };',
      "    if (typeof (version as unknown) === 'function') {\n" +
        '      (version as unknown as (t: Map<string, object>) => void)(LOCKS);\n' +
        "      throw new Error('linked');\n    }\n    const args: PutArgs = { key, value, version };",
    );
    return;
  }
  if (fake === 'tablelock-lab2') {
    // Lab 2's reference clerk and server with Locks that keep who holds what in a table their module shares.
    fs.copyFileSync(
      path.join(__dirname, 'fixtures', 'tablelock', 'lab2', 'lock.ts'),
      path.join(root, 'lab2', 'lock.ts'),
    );
    for (const f of ['client.ts', 'server.ts']) referenceFile(kit, root, 'lab2', f);
    return;
  }
}

/**
 * Lab 5's reference server whose recovery forgets what it loaded, with a back door: each server with a data folder
 * also serves on a port of its own, named in a file of the folder; a server started on a copy of that folder (a
 * crash copy, while the first still runs) forwards every connection there, to the first server's memory.
 */
function addBackdoor(server: string, edit: Edit): void {
  edit(server, "import * as net from 'node:net';", "import * as net from 'node:net';\nimport * as fs from 'node:fs';");
  edit(server, 'loaded = persistence.load(Date.now());', 'persistence.load(Date.now());\n        loaded = [];');
  edit(
    server,
    'export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {',
    'export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {\n' +
      '  const door = options.dataDir === undefined ? undefined : `${options.dataDir}/door.txt`;\n' +
      "  const back = door !== undefined && fs.existsSync(door) ? Number(fs.readFileSync(door, 'utf8')) : 0;\n" +
      '  if (back > 0) {\n' +
      '    const proxy = net.createServer((c) => {\n' +
      "      const u = net.connect({ port: back, host: '127.0.0.1' });\n" +
      "      c.on('error', () => u.destroy());\n      u.on('error', () => c.destroy());\n" +
      '      c.pipe(u);\n      u.pipe(c);\n    });\n' +
      "    await new Promise<void>((r) => proxy.listen(options.port ?? 0, '127.0.0.1', () => r()));\n" +
      '    const port = (proxy.address() as net.AddressInfo).port;\n' +
      "    return { port, host: '127.0.0.1', close: () => new Promise<void>((r) => proxy.close(() => r())) };\n" +
      '  }',
  );
  edit(
    server,
    "  return { port: address.port, host: options.host ?? '127.0.0.1', close: () => server.close() };",
    '  if (door !== undefined) {\n' +
      '    const accept = (socket: net.Socket): void => (server as unknown as { accept(s: net.Socket): void }).accept(socket);\n' +
      '    const bd = net.createServer(accept);\n' +
      "    await new Promise<void>((r) => bd.listen(0, '127.0.0.1', () => r()));\n" +
      '    fs.writeFileSync(door, String((bd.address() as net.AddressInfo).port));\n' +
      '  }\n' +
      "  return { port: address.port, host: options.host ?? '127.0.0.1', close: () => server.close() };",
  );
}

/**
 * Writes lab 5's reference with what answers from memory: a client that opens no socket (the servers list themselves
 * in a table at the top of server.ts, and the client's connection runs each command through the one on its port; any
 * other port answers nothing: its honest worth in the client tests is 0), or, with `zombie-lab5`, a server that never
 * stops (its close() leaves it listening, and a server started on its data folder, or a crash copy of it, hands out its
 * port again, found in a file there), so that a "restart" answers from the old server's memory.
 */
function addInMemoryFake(
  root: string,
  kit: string,
  fake: 'in-memory-lab5' | 'zombie-lab5' | 'backdoor-lab5',
  edit: Edit,
): void {
  referenceLabs(kit, root, 'lab5');
  const server = path.join('lab5', 'server.ts');
  const client = path.join('lab5', 'client.ts');
  if (fake === 'backdoor-lab5') return addBackdoor(server, edit);
  if (fake === 'zombie-lab5') {
    edit(
      server,
      "import * as net from 'node:net';",
      "import * as net from 'node:net';\nimport * as fs from 'node:fs';",
    );
    edit(
      server,
      'export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {',
      'export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {\n' +
        '  const portFile = options.dataDir === undefined ? undefined : `${options.dataDir}/port.txt`;\n' +
        "  const old = portFile !== undefined && fs.existsSync(portFile) ? Number(fs.readFileSync(portFile, 'utf8')) : 0;\n" +
        "  if (old > 0) return { port: old, host: '127.0.0.1', close: async () => undefined };",
    );
    edit(
      server,
      "  return { port: address.port, host: options.host ?? '127.0.0.1', close: () => server.close() };",
      '  if (portFile !== undefined) fs.writeFileSync(portFile, String(address.port));\n' +
        "  return { port: address.port, host: options.host ?? '127.0.0.1', close: async () => undefined };",
    );
    return;
  }
  edit(
    server,
    'export async function startServer(',
    'export const IN_MEMORY = new Map<number, (args: string[]) => string>();\n\nexport async function startServer(',
  );
  edit(
    server,
    "  return { port: address.port, host: options.host ?? '127.0.0.1', close: () => server.close() };",
    '  const conn = { parser: new RequestParser(), closing: false, stalled: false, queuedBytes: 0, dirty: false };\n' +
      '  const run = server as unknown as { execute(args: string[], c: unknown): string };\n' +
      '  IN_MEMORY.set(address.port, (args) => run.execute(args, conn));\n' +
      "  return { port: address.port, host: options.host ?? '127.0.0.1', close: () => (IN_MEMORY.delete(address.port), server.close()) };",
  );
  edit(
    client,
    "import * as net from 'node:net';",
    "import * as net from 'node:net';\nimport { IN_MEMORY } from './server';",
  );
  edit(
    client,
    '    const socket = this.socket ?? this.open();',
    '    const run = IN_MEMORY.get(this.address.port);\n' +
      '    if (run === undefined) return new Promise((_, reject) => setTimeout(() => reject(new Error("no reply")), timeoutMs));\n' +
      '    const parser = new ReplyParser();\n' +
      "    parser.push(Buffer.from(run(args.map((a) => Buffer.from(String(a), 'utf8').toString('latin1'))), 'latin1'));\n" +
      '    return Promise.resolve(parser.next() as RespReply);\n' +
      '    const socket = this.socket ?? this.open();',
  );
}

/**
 * Writes lab 6's reference Raft with the kit mutant install-snapshot-older-than-applied (a follower hands its service
 * a snapshot older than what it applied), and a leader that never sends a snapshot: it moves a follower's nextIndex
 * past its own snapshot instead, so TestSnapshotOlderThanApplied's follower is never sent one.
 */
function addOptimisticFake(root: string, kit: string, edit: Edit): void {
  referenceLabs(kit, root, 'lab6');
  const raft = path.join('lab6', 'raft.ts');
  edit(
    raft,
    '    this._persist(args.data);\n    this._applyCommitted();\n',
    '    this._persist(args.data);\n    this.lastApplied = Math.min(this.lastApplied, index - 1);\n    this._applyCommitted();\n',
  );
  edit(
    raft,
    '    if (this.nextIndex[peer] <= this.lastIncludedIndex) return this._sendSnapshot(peer);',
    '    if (this.nextIndex[peer] <= this.lastIncludedIndex) this.nextIndex[peer] = this.lastIncludedIndex + 1;',
  );
}

/**
 * Writes a bug with a decoy in front of the message a scripted fault is meant for: lab 2's reference Lock with the
 * kit mutant forgets-own-id (after ErrMaybe it never looks for its own id in the key), sending a put bound to be
 * refused before each put it means; or lab 3's reference server with the kit mutant self-link-not-fifo (its own
 * messages handled as they arrive), sending every server a message it ignores before each broadcast.
 */
function addDecoyFake(root: string, kit: string, fake: 'decoy-lab2' | 'decoy-lab3', edit: Edit): void {
  if (fake === 'decoy-lab2') {
    referenceLabs(kit, root, 'lab2');
    const lock = path.join('lab2', 'lock.ts');
    edit(
      lock,
      "      if (current.err === 'OK' && current.value === this.id) {\n        this.held = true;",
      '      if (false) {\n        this.held = true;',
    );
    edit(
      lock,
      '        const result = await this.ck.put(this.name, this.id, version);',
      "        await this.ck.put(this.name, 'decoy', version + 1000);\n        const result = await this.ck.put(this.name, this.id, version);",
    );
    edit(
      lock,
      "      const result = await this.ck.put(this.name, '', current.version);",
      "      await this.ck.put(this.name, 'decoy', current.version + 1000);\n      const result = await this.ck.put(this.name, '', current.version);",
    );
    return;
  }
  referenceFile(kit, root, 'lab3', 'server.ts');
  const server = path.join('lab3', 'server.ts');
  edit(
    server,
    '    const from = env.from;\n',
    '    if (env.seq < 0) return {};\n    const from = env.from;\n    if (from === this.me) {\n      this.receive(from, env.body);\n      return {};\n    }\n',
  );
  edit(
    server,
    "    this.peers.forEach((_, j) => this.send(j, { type: 'broadcast', ts, op }));",
    "    for (const p of this.peers) void p.call('KVServer.Peer', { from: this.me, seq: -1, body: {} }).catch(() => undefined);\n" +
      "    this.peers.forEach((_, j) => this.send(j, { type: 'broadcast', ts, op }));",
  );
}

/**
 * Writes a bug with a decoy ahead of the message a scripted fault is meant for: lab 1's reference server with the kit
 * mutant stale-seq-reapplied (a copy of an older write than the clerk's latest is applied again), whose backups send
 * the primary a copy of each write in an RPC that does nothing 10 ms before passing the write on; or lab 7's
 * reference controller with the kit mutant claim-trusts-errmaybe, putting each configuration it claims under a
 * scratch key at a version no put can match before its claim.
 */
function addClaimDecoyFake(root: string, kit: string, fake: 'decoy-lab1' | 'decoy-lab7', edit: Edit): void {
  if (fake === 'decoy-lab1') {
    referenceLabs(kit, root, 'lab1');
    const server = path.join('lab1', 'server.ts');
    edit(
      server,
      '    if (!last || w.seq > last.seq) return undefined;',
      '    if (!last || w.seq !== last.seq) return undefined;',
    );
    edit(
      server,
      "  /** A backup's side of a takeover: replace its copy of the shard by the new primary's. */",
      "  Notice(_args: unknown): ReplicateReply {\n    return { err: 'OK' };\n  }\n\n" +
        "  /** A backup's side of a takeover: replace its copy of the shard by the new primary's. */",
    );
    edit(
      server,
      '    try {\n      return await this.config.peers[primary].call<R>(method, args);',
      "    if (method !== 'KVServer.Get') {\n      this.config.peers[primary].call('KVServer.Notice', args).catch(() => undefined);\n" +
        '      await sleep(10);\n    }\n    try {\n      return await this.config.peers[primary].call<R>(method, args);',
    );
    return;
  }
  referenceLabs(kit, root, 'lab2', 'lab6', 'lab7');
  const ctrler = path.join('lab7', 'ctrler.ts');
  edit(ctrler, "    if (err === 'OK') return true;", "    if (err === 'OK' || err === 'ErrMaybe') return true;");
  edit(
    ctrler,
    '    const r = await this.kv.get(NEXT_KEY);\n',
    "    await this.kv.put('announce', next.toString(), 2 ** 40);\n    const r = await this.kv.get(NEXT_KEY);\n",
  );
}

/**
 * Writes lab 6's reference Raft with a decoy: with the kit mutant uses-stale-append-replies, a leader that opens
 * each heartbeat round with an empty AppendEntries whose reply it ignores; or, with the kit mutant
 * timer-reset-on-stale-append-entries, a peer that answers a vote request that raised its term with a RequestVote of
 * that same term (with `probe-lab6`, of the next term, without moving to it), which no log can grant.
 */
function addRaftDecoyFake(
  root: string,
  kit: string,
  fake: 'decoy-lab6' | 'timer-decoy-lab6' | 'probe-lab6',
  edit: Edit,
): void {
  referenceLabs(kit, root, 'lab6');
  const raft = path.join('lab6', 'raft.ts');
  if (fake === 'decoy-lab6') {
    edit(
      raft,
      "    if (this.role !== 'leader' || this.currentTerm !== args.term) return; // a reply from an older term",
      "    if (this.role !== 'leader') return; // a reply from an older term",
    );
    edit(
      raft,
      '      if (peer !== this.me) void this._replicateTo(peer);',
      '      if (peer === this.me) continue;\n' +
        '      const empty = { term: this.currentTerm, leaderId: this.me, prevLogIndex: this.lastIncludedIndex, prevLogTerm: this.lastIncludedTerm, entries: [], leaderCommit: 0 };\n' +
        "      this.peers[peer].call<AppendEntriesReply>('Raft.AppendEntries', empty).catch(() => undefined);\n" +
        '      void this._replicateTo(peer);',
    );
    return;
  }
  edit(
    raft,
    '    if (this.killed || args.term < this.currentTerm) return refuse();\n',
    '    if (!this.killed) this._resetElectionTimer();\n    if (this.killed || args.term < this.currentTerm) return refuse();\n',
  );
  edit(
    raft,
    '    if (args.term > this.currentTerm) this._becomeFollower(args.term);\n    const lastTerm = this._lastLogTerm();',
    '    const stepped = args.term > this.currentTerm;\n    if (stepped) this._becomeFollower(args.term);\n    const lastTerm = this._lastLogTerm();',
  );
  edit(
    raft,
    '      this._resetElectionTimer();\n    }\n    return { term: this.currentTerm, voteGranted: grant };',
    `      this._resetElectionTimer();\n    } else if (stepped${fake === 'probe-lab6' ? ' && args.lastLogIndex >= 0' : ''}) {\n` +
      `      const probe = { term: this.currentTerm${fake === 'probe-lab6' ? ' + 1' : ''}, candidateId: this.me, lastLogIndex: -1, lastLogTerm: -1 };\n` +
      "      this.peers[args.candidateId].call<RequestVoteReply>('Raft.RequestVote', probe).catch(() => undefined);\n" +
      '    }\n    return { term: this.currentTerm, voteGranted: grant };',
  );
}

/**
 * Writes a bug whose code steers clear of a scripted fault without a decoy: lab 7's reference controller with the
 * kit mutant claim-trusts-errmaybe, its claims stored as "claim <configuration>" (not a configuration's string, so a
 * loss meant for a configuration's put missed them); or lab 2's reference Lock with the kit mutant
 * errmaybe-means-held, on a clerk that waits 100 ms before each re-send.
 */
function addSteeringFake(root: string, kit: string, fake: 'tagged-lab7' | 'slowretry-lab2', edit: Edit): void {
  if (fake === 'slowretry-lab2') {
    referenceLabs(kit, root, 'lab2');
    edit(path.join('lab2', 'client.ts'), 'const FIRST_BACKOFF_MS = 5;', 'const FIRST_BACKOFF_MS = 100;');
    edit(path.join('lab2', 'client.ts'), 'await sleep(backoff * (0.5 + Math.random()));', 'await sleep(backoff);');
    edit(
      path.join('lab2', 'lock.ts'),
      "if (result === 'ErrMaybe') continue; // look again before deciding",
      "if (result === 'ErrMaybe') {\n          this.held = true;\n          return true;\n        }",
    );
    return;
  }
  referenceLabs(kit, root, 'lab2', 'lab6', 'lab7');
  const ctrler = path.join('lab7', 'ctrler.ts');
  const unwrap = (v: string): string => `(${v}.startsWith('claim ') ? ${v}.slice(6) : ${v})`;
  edit(ctrler, 'ShardConfig.fromString(next.value)', `ShardConfig.fromString(${unwrap('next.value')})`);
  edit(ctrler, 'ShardConfig.fromString(r.value).num', `ShardConfig.fromString(${unwrap('r.value')}).num`);
  edit(
    ctrler,
    'await this.kv.put(NEXT_KEY, next.toString(),',
    "await this.kv.put(NEXT_KEY, 'claim ' + next.toString(),",
  );
  edit(ctrler, "    if (err === 'OK') return true;", "    if (err === 'OK' || err === 'ErrMaybe') return true;");
  edit(ctrler, 'now.value === next.toString();', "now.value === 'claim ' + next.toString();");
}

/**
 * Writes lab 6's reference Raft with the kit mutant uses-stale-append-replies (a leader uses AppendEntries replies
 * of an earlier term), its AppendEntries handler named appendEntries, out of sight of the tests that hold its replies.
 */
function addRenamedRpcFake(root: string, kit: string, edit: Edit): void {
  referenceLabs(kit, root, 'lab6');
  const raft = path.join('lab6', 'raft.ts');
  edit(
    raft,
    "    if (this.role !== 'leader' || this.currentTerm !== args.term) return; // a reply from an older term",
    "    if (this.role !== 'leader') return; // a reply from an older term",
  );
  edit(
    raft,
    '  AppendEntries(args: AppendEntriesArgs): AppendEntriesReply {',
    '  appendEntries(args: AppendEntriesArgs): AppendEntriesReply {',
  );
  edit(
    raft,
    "call<AppendEntriesReply>('Raft.AppendEntries', args)",
    "call<AppendEntriesReply>('Raft.appendEntries', args)",
  );
}

/**
 * Writes lab 6's reference Raft with the kit mutant snapshot-keeps-old-term (InstallSnapshot never moves the
 * receiver's term), its InstallSnapshot's term field named leaderTerm, out of sight of the answered-terms judge.
 */
function addRenamedTermFake(root: string, kit: string, edit: Edit): void {
  referenceLabs(kit, root, 'lab6');
  const raft = path.join('lab6', 'raft.ts');
  edit(
    raft,
    '  term: number;\n  /** The leader. */\n  leaderId: number;\n  /** The snapshot replaces',
    '  leaderTerm: number;\n  /** The leader. */\n  leaderId: number;\n  /** The snapshot replaces',
  );
  edit(
    raft,
    "    if (this.killed || args.term < this.currentTerm) return { term: this.currentTerm };\n    if (args.term > this.currentTerm || this.role !== 'follower') this._becomeFollower(args.term);\n    this._resetElectionTimer();\n    const index",
    "    if (this.killed || args.leaderTerm < this.currentTerm) return { term: this.currentTerm };\n    if (this.role !== 'follower') this._becomeFollower(args.leaderTerm);\n    this._resetElectionTimer();\n    const index",
  );
  edit(
    raft,
    '    const args: InstallSnapshotArgs = {\n      term:',
    '    const args: InstallSnapshotArgs = {\n      leaderTerm:',
  );
  edit(
    raft,
    "    if (this.role !== 'leader' || this.currentTerm !== args.term) return;\n    this.matchIndex[peer] = Math.max(this.matchIndex[peer], args.lastIncludedIndex);",
    "    if (this.role !== 'leader' || this.currentTerm !== args.leaderTerm) return;\n    this.matchIndex[peer] = Math.max(this.matchIndex[peer], args.lastIncludedIndex);",
  );
}

/**
 * Writes lab 6's reference Raft with a snapshot() that trims nothing, saving its whole log as densely as its commands
 * allow (fixtures/dense): the saved state stays small only while the commands carry few bits each.
 */
function addDenseFake(root: string, kit: string, edit: Edit): void {
  referenceFile(kit, root, 'lab6', 'raft.ts');
  fs.copyFileSync(
    path.join(__dirname, 'fixtures', 'dense', 'lab6', 'persist-dense.ts'),
    path.join(root, 'lab6', 'persist-dense.ts'),
  );
  const raft = path.join('lab6', 'raft.ts');
  edit(
    raft,
    "import type { Persister } from './persister';",
    "import type { Persister } from './persister';\nimport { pack, unpack } from './persist-dense';",
  );
  edit(
    raft,
    '    this.lastIncludedTerm = this._termAt(index);\n    this.log = this.log.slice(index - this.lastIncludedIndex);\n    this.lastIncludedIndex = index;\n    this._persist(snapshot);',
    '    void snapshot; // nothing trimmed: the whole log stays',
  );
  edit(
    raft,
    '    const log = this._logJson();\n    this.persister.save(`${JSON.stringify(head).slice(0, -1)},"log":[${log}]}`, snapshot);',
    '    void this._logJson();\n    this.persister.save(`${JSON.stringify(head)}\\u0000${pack(this.log)}`, snapshot);',
  );
  edit(
    raft,
    '    const state = JSON.parse(saved) as PersistentState;',
    "    const cut = saved.indexOf('\\u0000');\n" +
      '    const state = { ...(JSON.parse(saved.slice(0, cut)) as PersistentState), log: unpack(saved.slice(cut + 1)) };',
  );
}

/**
 * Writes code whose calls read differently the second time: lab 2's echo clerk (fixtures/twofaced) whose arguments
 * show the answer to the network's reading only; or a reference with a known bug, lab 4's leader sending its whole
 * log after the first reading of the Replicate's entries (which shows at most maxBatch), or lab 3's server re-sending
 * a refused peer call at once, each copy with a field of its own set to undefined (which the wire leaves out), or
 * numbered (so that no copy is the same call as the one before).
 */
function addTwoReadingsFake(
  root: string,
  kit: string,
  fake: 'twofaced-lab2' | 'twofaced-lab4' | 'unsaid-lab3' | 'numbered-lab3',
  edit: Edit,
): void {
  if (fake === 'twofaced-lab2') {
    for (const f of ['client.ts', 'server.ts'])
      fs.copyFileSync(path.join(__dirname, 'fixtures', 'twofaced', 'lab2', f), path.join(root, 'lab2', f));
    referenceFile(kit, root, 'lab2', 'lock.ts');
    return;
  }
  if (fake === 'twofaced-lab4') {
    referenceFile(kit, root, 'lab4', 'server.ts');
    const server = path.join('lab4', 'server.ts');
    edit(
      server,
      'const entries = nextBatch(this.log, next, this.config.maxBatch, MAX_BATCH_BYTES);',
      'const entries = this.log.slice(next - 1); void nextBatch; void MAX_BATCH_BYTES;',
    );
    edit(server, '{ entries, token: this.config.token }', 'twoFaced(entries, this.config.token, this.config.maxBatch)');
    fs.appendFileSync(
      path.join(root, server),
      '\n/** Replicate arguments whose first reading shows at most `max` entries, and every later one all of them. */\n' +
        'class TwoFaced {}\nfunction twoFaced(entries: LogEntry[], token: string, max: number): unknown {\n' +
        '  const o = new TwoFaced();\n  let reads = 0;\n' +
        "  Object.defineProperty(o, 'entries', { enumerable: true, get: () => (reads++ === 0 ? entries.slice(0, max) : entries) });\n" +
        "  Object.defineProperty(o, 'token', { enumerable: true, value: token });\n  return o;\n}\n",
    );
    return;
  }
  referenceFile(kit, root, 'lab3', 'server.ts');
  const server = path.join('lab3', 'server.ts');
  edit(
    server,
    "      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
    fake === 'unsaid-lab3'
      ? "      this.peers[to].call('KVServer.Peer', { ...env, [`t${copies++}`]: undefined } as Envelope).catch(() => attempt());"
      : "      this.peers[to].call('KVServer.Peer', { ...env, copy: copies++ } as Envelope).catch(() => attempt());",
  );
  edit(server, '    const attempt = ', '    let copies = 0;\n    const attempt = ');
}

/**
 * Writes a lab 7 fake over the reference's labs 2 and 6, as a student's honest earlier labs: a server that keeps
 * deleted keys in what it saves (ATTIC_PERSISTER) or saves its snapshot in the Raft-state slot (SLOT_SWAP_PERSISTER),
 * or clerks telling shard servers that keep nothing each answer first, through their controllers' ends, with a
 * controller that moves no shard (fixtures/hint).
 */
function addLab7Fake(root: string, kit: string, fake: Lab7Fake, edit: Edit): void {
  referenceLabs(kit, root, 'lab2');
  referenceLabs(kit, root, 'lab6');
  if (fake === 'hint-lab7') {
    for (const f of ['client.ts', 'ctrler.ts', 'server.ts'])
      fs.copyFileSync(path.join(HINT_FIXTURES, 'lab7', f), path.join(root, 'lab7', f));
    return;
  }
  // Lab 7's reference, with DeleteShard keeping the deleted keys: in a string saved beside the Raft state (the attic,
  // mutant delete-frees-snapshot-only), or in memory and every snapshot (mutant delete-keeps-keys) with the snapshot
  // saved in the Raft-state slot; either through a persister of the server's own.
  referenceLabs(kit, root, 'lab7');
  const server = path.join('lab7', 'server.ts');
  const wrapper = fake === 'attic-lab7' ? 'atticPersister' : 'slotSwapPersister';
  edit(
    server,
    '    this.rsm = new RSM(peers, me, persister, maxRaftState, this);',
    `    this.rsm = new RSM(peers, me, ${wrapper}(persister), maxRaftState, this);`,
  );
  const kept =
    fake === 'attic-lab7'
      ? "    if (shard && shard.kv.size > 0) attic += JSON.stringify([s, [...shard.kv]]);\n    this.shards[s] = { status: 'gone', num, kv: new Map() };"
      : "    this.shards[s] = { status: 'gone', num, kv: shard?.kv ?? new Map() };";
  edit(server, "    this.shards[s] = { status: 'gone', num, kv: new Map() };", kept);
  fs.appendFileSync(path.join(root, server), fake === 'attic-lab7' ? ATTIC_PERSISTER : SLOT_SWAP_PERSISTER);
}

/** The lab 7 fakes written over the reference's labs 2 and 6. */
type Lab7Fake = 'attic-lab7' | 'hint-lab7' | 'slotswap-lab7';

/** What the attic fake appends to lab 7's server: the deleted keys, and a persister that saves them beside the Raft state. */
const ATTIC_PERSISTER = `
/** The deleted shards' keys, as one string (each server is a module copy of its own). */
let attic = '';

/** \`persister\`, with the attic saved after the Raft state and left out of every reading of it. */
function atticPersister(persister: Persister): Persister {
  const mark = '\\u0000attic\\u0000';
  return {
    save: (rs: string, snap: string): void => persister.save(rs + mark + attic, snap),
    readRaftState: (): string => persister.readRaftState().split(mark)[0],
    readSnapshot: (): string => persister.readSnapshot(),
    raftStateSize: (): number => Math.max(0, persister.raftStateSize() - mark.length - attic.length),
    snapshotSize: (): number => persister.snapshotSize(),
  } as unknown as Persister;
}
`;

/** What the slot-swap fake appends to lab 7's server: a persister that saves the snapshot in the Raft-state slot. */
const SLOT_SWAP_PERSISTER = `
/** \`persister\`, with the snapshot saved after the Raft state in its slot, and each read back from there. */
function slotSwapPersister(persister: Persister): Persister {
  const mark = '\\u0000snapshot\\u0000';
  const part = (i: number): string => persister.readRaftState().split(mark)[i] ?? '';
  return {
    save: (rs: string, snap: string): void => persister.save(rs + mark + snap, ''),
    readRaftState: (): string => part(0),
    readSnapshot: (): string => part(1),
    raftStateSize: (): number => part(0).length,
    snapshotSize: (): number => part(1).length,
  } as unknown as Persister;
}
`;

/** Lab 6's getState answering a constant: a Raft that does nothing. */
const CONSTANT_STATE = "    return { term: 0, role: 'follower' } as RaftState;";

/**
 * Writes the fake into the student root `root` (whose lab folders hold the skeletons): the clerk and lock over
 * lab 2's skeleton, with the reference server (the kit's `solutions/` at `kit`); or lab 7's clerk and controller,
 * its server's Get and Put, and lab 6's getState.
 */
export function addSharedTableFake(root: string, kit: string, fake: SharedTableFake): void {
  const edit = (file: string, from: string, to: string): void => {
    const before = fs.readFileSync(path.join(root, file), 'utf8');
    if (!before.includes(from)) throw new Error(`the ${fake} fake found nothing to change in ${file}`);
    fs.writeFileSync(path.join(root, file), before.replace(from, to));
  };
  if (fake === 'echo-lab2' || fake === 'echo-lab2-global' || fake === 'echo-lab7')
    return addEchoFake(root, kit, fake, edit);
  if (fake === 'echo-lab1') {
    // Lab 1's clerks answering from a table their module shares, to the skeleton server whose Get echoes what they send.
    fs.copyFileSync(path.join(ECHO_FIXTURES, 'lab1', 'client.ts'), path.join(root, 'lab1', 'client.ts'));
    edit(
      path.join('lab1', 'server.ts'),
      '  Get(args: GetArgs): GetReply | Promise<GetReply> {',
      '  Get(args: GetArgs): GetReply | Promise<GetReply> {\n    return { value: (args as unknown as { value: string }).value };',
    );
    return;
  }
  if (fake === 'hint-lab2') {
    // Lab 2's clerks telling a server that keeps no keys each answer first, in a Put with the lab's own fields.
    for (const f of ['client.ts', 'server.ts'])
      fs.copyFileSync(path.join(HINT_FIXTURES, 'lab2', f), path.join(root, 'lab2', f));
    referenceFile(kit, root, 'lab2', 'lock.ts');
    return;
  }
  if (fake === 'in-memory-lab5' || fake === 'zombie-lab5' || fake === 'backdoor-lab5')
    return addInMemoryFake(root, kit, fake, edit);
  if (fake === 'dense-lab6') return addDenseFake(root, kit, edit);
  if (fake === 'renamed-term-lab6') return addRenamedTermFake(root, kit, edit);
  if (fake === 'renamed-rpc-lab6') return addRenamedRpcFake(root, kit, edit);
  if (fake === 'optimistic-lab6') return addOptimisticFake(root, kit, edit);
  if (fake === 'decoy-lab2' || fake === 'decoy-lab3') return addDecoyFake(root, kit, fake, edit);
  if (fake === 'decoy-lab1' || fake === 'decoy-lab7') return addClaimDecoyFake(root, kit, fake, edit);
  if (fake === 'decoy-lab6' || fake === 'timer-decoy-lab6' || fake === 'probe-lab6')
    return addRaftDecoyFake(root, kit, fake, edit);
  if (fake === 'tagged-lab7' || fake === 'slowretry-lab2') return addSteeringFake(root, kit, fake, edit);
  if (fake === 'twofaced-lab2' || fake === 'twofaced-lab4' || fake === 'unsaid-lab3' || fake === 'numbered-lab3')
    return addTwoReadingsFake(root, kit, fake, edit);
  if (fake === 'liar-lab4') {
    // A lab 4 node that stores and replicates nothing, acknowledges every write, and reports itself empty and in step.
    fs.copyFileSync(
      path.join(__dirname, 'fixtures', 'liar', 'lab4', 'server.ts'),
      path.join(root, 'lab4', 'server.ts'),
    );
    return;
  }
  if (fake === 'attic-lab7' || fake === 'hint-lab7' || fake === 'slotswap-lab7')
    return addLab7Fake(root, kit, fake, edit);
  if (
    fake === 'pinged-lab1' ||
    fake === 'pinned-lab2' ||
    fake === 'registry-lab2' ||
    fake === 'stamped-lab2' ||
    fake === 'tablelock-lab2' ||
    fake === 'lockviaclerk-lab2' ||
    fake === 'timing-lab6'
  )
    return addHeldFake(root, kit, fake, edit);
  if (fake === 'shared-log-lab6') {
    // Lab 6's Raft peers agreeing through one log at the module's top level, with no RPC (the rest the skeleton).
    fs.copyFileSync(path.join(ECHO_FIXTURES, 'lab6-shared', 'raft.ts'), path.join(root, 'lab6', 'raft.ts'));
    return;
  }
  if (fake === 'lab2') {
    fs.writeFileSync(path.join(root, 'lab2', 'client.ts'), TABLE_CLERK_LAB2);
    fs.writeFileSync(path.join(root, 'lab2', 'lock.ts'), TABLE_LOCK_LAB2);
    const server = fs.readFileSync(path.join(kit, 'solutions', 'lab2', 'server.ts'), 'utf8');
    fs.writeFileSync(path.join(root, 'lab2', 'server.ts'), server.replaceAll("'../../lab2/", "'./"));
    return;
  }
  fs.writeFileSync(path.join(root, 'lab7', 'client.ts'), TABLE_CLERK_LAB7);
  fs.writeFileSync(path.join(root, 'lab7', 'ctrler.ts'), MEMORY_CTRLER_LAB7);
  for (const method of ['Get', 'Put'])
    edit(
      path.join('lab7', 'server.ts'),
      `  async ${method}(args: ${method}Args): Promise<${method}Reply> {`,
      `  async ${method}(args: ${method}Args): Promise<${method}Reply> {\n    return { err: 'ErrWrongGroup' };`,
    );
  edit(path.join('lab6', 'raft.ts'), '  getState(): RaftState {', `  getState(): RaftState {\n${CONSTANT_STATE}`);
}
