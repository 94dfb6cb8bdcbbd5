/** Deliberately broken versions of the lab 2 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../../tester/mutants';

export const mutants: Mutant[] = [
  {
    name: 'no-retry',
    description: 'the clerk gives up after the first lost message instead of re-sending',
    file: 'client.ts',
    replace: [['if (!(err instanceof TimeoutError)) throw err;', 'throw err;']],
    caughtBy: ['TestUnreliableNet', 'TestHighDropRate', 'TestOneClientUnreliable', 'TestManyClientsUnreliable'],
  },
  {
    name: 'no-errmaybe',
    description: 'a re-sent put that gets ErrVersion is reported as ErrVersion, not ErrMaybe',
    file: 'client.ts',
    replace: [["if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';", '']],
    caughtBy: ['TestUnreliableNet'],
  },
  {
    name: 'version-off-by-one',
    description: 'a new key is created at version 0 instead of 1',
    file: 'server.ts',
    replace: [['this.data.set(args.key, { value: args.value, version: 1 });', 'this.data.set(args.key, { value: args.value, version: 0 });']],
    caughtBy: ['TestReliablePut'],
  },
  {
    name: 'version-check-off-by-one',
    description: 'the server also accepts a put made one version behind the key\'s',
    file: 'server.ts',
    replace: [['if (entry.version !== args.version) return', 'if (entry.version !== args.version && entry.version !== args.version + 1) return']],
    caughtBy: ['TestReliablePut', 'TestPutConcurrentReliable'],
  },
  {
    name: 'dispose-does-nothing',
    description: 'leaving an `await using` block does not release the lock',
    file: 'lock.ts',
    replace: [['    if (this.held) await this.release();', '']],
    caughtBy: ['TestReliableBasic'],
  },
  {
    name: 'lock-ignores-versions',
    description: 'the lock writes its id with whatever version it guesses, without checking it saw the key free at that version',
    file: 'lock.ts',
    replace: [["const result = await this.ck.put(this.name, this.id, version);", "const again = await this.ck.get(this.name);\n        const result = await this.ck.put(this.name, this.id, again.err === 'OK' ? again.version : 0);"]],
    caughtBy: ['TestManyClientsReliable', 'TestManyClientsUnreliable'],
  },
  {
    name: 'lock-steals',
    description: 'the lock takes the key whether or not someone holds it',
    file: 'lock.ts',
    replace: [["const free = current.err === 'ErrNoKey' || current.value === '';", 'const free = true;']],
    caughtBy: ['TestReliableBasic', 'TestReliableNested', 'TestManyClientsReliable'],
  },
  {
    name: 'per-client-cache',
    description: 'the server remembers a reply per request, as a duplicate-detection table would',
    file: 'server.ts',
    replace: [
      ['  private readonly data = new Map<string, Entry>();', '  private readonly data = new Map<string, Entry>();\n  private readonly seen = new Map<string, PutReply>();'],
      ["      this.data.set(args.key, { value: args.value, version: 1 });\n      return { err: 'OK' };", "      this.data.set(args.key, { value: args.value, version: 1 });\n      this.seen.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n      return { err: 'OK' };"],
      ["    entry.version += 1;\n    return { err: 'OK' };", "    entry.version += 1;\n    this.seen.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n    return { err: 'OK' };"],
    ],
    caughtBy: ['TestMemPutManyClientsReliable'],
  },
  {
    name: 'module-level-cache',
    description: 'the server remembers a reply per request in a table declared at the top of server.ts, outside the class',
    file: 'server.ts',
    replace: [
      ["      this.data.set(args.key, { value: args.value, version: 1 });\n      return { err: 'OK' };", "      this.data.set(args.key, { value: args.value, version: 1 });\n      SEEN.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n      return { err: 'OK' };"],
      ["    entry.version += 1;\n    return { err: 'OK' };", "    entry.version += 1;\n    SEEN.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n    return { err: 'OK' };"],
      ['export class KVServer', 'const SEEN = new Map<string, PutReply>();\n\nexport class KVServer'],
    ],
    caughtBy: ['TestMemPutManyClientsReliable'],
  },
];
