/** Deliberately broken versions of the lab 1 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../../tester/mutants';

export const mutants: Mutant[] = [
  {
    name: 'no-duplicate-filtering',
    description: 'the server executes every copy of a re-sent put or append',
    file: 'server.ts',
    replace: [['if (!last || w.seq > last.seq) return undefined;', 'return undefined;']],
    caughtBy: ['TestUnreliableOneKey', 'TestUnreliable', 'TestUnreliableShards'],
  },
  {
    name: 'duplicate-state-never-freed',
    description: 'the server keeps the reply of every write it ever executed, not just each client\'s latest',
    file: 'server.ts',
    replace: [
      ['  private readonly lastWrite = new Map<number, LastWrite>();', '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly everyReply: string[] = [];'],
      ['    this.lastWrite.set(w.clientId, { seq: w.seq, reply });', '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.everyReply.push(reply);'],
    ],
    caughtBy: ['TestMemManyAppends', 'TestMemAppend'],
  },
  {
    name: 'module-level-reply-log',
    description: 'the server keeps every write\'s reply in an array declared at the top of server.ts, outside any class',
    file: 'server.ts',
    replace: [
      ["/** One shard's copy on this server", "const EVERY_REPLY: string[] = [];\n\n/** One shard's copy on this server"],
      ['    this.lastWrite.set(w.clientId, { seq: w.seq, reply });', '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    EVERY_REPLY.push(reply);'],
    ],
    caughtBy: ['TestMemManyAppends'],
  },
  {
    name: 'module-level-get-log',
    description: 'the server logs the arguments of every get in an array declared at the top of server.ts',
    file: 'server.ts',
    replace: [
      ["/** The RPC handlers.", "const GET_LOG: GetArgs[] = [];\n\n/** The RPC handlers."],
      ['  Get(args: GetArgs): Promise<GetReply> {', '  Get(args: GetArgs): Promise<GetReply> {\n    GET_LOG.push(args);'],
    ],
    caughtBy: ['TestMemGetManyClients'],
  },
  {
    name: 'remembers-appended-values',
    description: 'the server keeps the value of each client\'s last append',
    file: 'server.ts',
    replace: [
      ['  private readonly lastWrite = new Map<number, LastWrite>();', '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly lastAppended = new Map<number, string>();'],
      ['    this.lastWrite.set(w.clientId, { seq: w.seq, reply });', "    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    if (w.op === 'Append') this.lastAppended.set(w.clientId, w.value);"],
    ],
    caughtBy: ['TestMemAppend'],
  },
  {
    name: 'caches-get-replies',
    description: 'the server keeps every reply it gave to a get',
    file: 'server.ts',
    replace: [
      ['  private readonly store: ShardStore;', '  private readonly store: ShardStore;\n  private readonly getReplies: GetReply[] = [];'],
      ["(shard) => ({ err: 'OK', value: shard.read(args.key) })", "(shard) => {\n      const reply: GetReply = { err: 'OK', value: shard.read(args.key) };\n      this.getReplies.push(reply);\n      return reply;\n    }"],
    ],
    caughtBy: ['TestMemGet'],
  },
  {
    name: 'keeps-get-arguments',
    description: 'the server keeps the arguments of every get it serves',
    file: 'server.ts',
    replace: [
      ['  private readonly store: ShardStore;', '  private readonly store: ShardStore;\n  private readonly getLog: GetArgs[] = [];'],
      ['  Get(args: GetArgs): Promise<GetReply> {', '  Get(args: GetArgs): Promise<GetReply> {\n    this.getLog.push(args);'],
    ],
    caughtBy: ['TestMemGetManyClients'],
  },
  {
    name: 'remembers-arguments',
    description: 'the server keeps each client\'s last write arguments next to its reply',
    file: 'server.ts',
    replace: [
      ['  private readonly lastWrite = new Map<number, LastWrite>();', '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly lastArgs = new Map<number, ReplicateArgs>();'],
      ['    this.lastWrite.set(w.clientId, { seq: w.seq, reply });', '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.lastArgs.set(w.clientId, w);'],
    ],
    caughtBy: ['TestMemPut', 'TestMemPutManyClients'],
  },
  {
    name: 'no-replica-failover',
    description: 'a shard is always led by its first server, even while that server is stopped',
    file: 'server.ts',
    replace: [['const primary = servers.find((s) => this.config.isRunning(s));', 'const primary = servers[0];']],
    caughtBy: ['TestStaticShards', 'TestUnreliableShards'],
  },
  {
    name: 'no-rejection',
    description: 'a server accepts (and forwards) keys of shards it does not hold',
    file: 'server.ts',
    replace: [["if (!servers.includes(this.config.me)) return { err: 'ErrWrongShard' };", '']],
    caughtBy: ['TestRejection'],
  },
  {
    name: 'replicas-out-of-order',
    description: 'the primary runs a shard\'s operations concurrently, so backups may apply them in another order',
    file: 'server.ts',
    replace: [['return shard.serialize(() => op(shard, id));', 'return op(shard, id);']],
    caughtBy: ['TestUnreliableShards'],
  },
  {
    name: 'clerk-no-failover',
    description: 'the clerk only ever asks the first server of a shard',
    file: 'client.ts',
    replace: [['this.servers[replicas[attempt % replicas.length]]', 'this.servers[replicas[0]]']],
    caughtBy: ['TestStaticShards'],
  },
];
