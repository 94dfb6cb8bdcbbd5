/** Deliberately broken versions of the lab 1 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'forward-timer-not-cleared',
    description:
      'a forward to the primary races a one-second timer that answers ErrRetry, and the timer is not cleared when the primary answers first: one timer per forward stays live for a second (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '      return await this.config.peers[primary].call<R>(method, args);\n',
        "      const giveUp = new Promise<Refusal>((resolve) => setTimeout(() => resolve({ err: 'ErrRetry' }), 1000));\n      return await Promise.race([this.config.peers[primary].call<R>(method, args), giveUp]);\n",
      ],
    ],
    caughtBy: ['TestRejection'],
    cause: 'a timer set for each operation and never cleared',
  },
  {
    name: 'held-value-put-not-passed-on',
    description:
      "the primary records a put of the value the key already holds in its own duplicate table and answers it at once, without passing it on: the backups' tables never learn it, and a late copy of it that reaches a backup after that backup took the shard over is applied again (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        '    const reply = shard.apply(w);\n    const backups',
        "    if (w.op === 'Put' && shard.read(w.key) === w.value) return { err: 'OK', value: shard.apply(w) };\n    const reply = shard.apply(w);\n    const backups",
      ],
    ],
    caughtBy: ['TestLateCopy'],
    cause: 'answers a put of the value the key already holds at once, without passing it on to the backups',
  },
  {
    name: 'queue-per-key',
    description:
      "the primary runs one key's operations one at a time, not the shard's: a write of another key runs beside the takeover's copy to the backups, and that older copy, arriving later, replaces the acknowledged write (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        '  private tail: Promise<unknown> = Promise.resolve();\n',
        '  private readonly tails = new Map<string, Promise<unknown>>();\n',
      ],
      [
        '  serialize<T>(fn: () => T | Promise<T>): Promise<T> {\n    const run = this.tail.then(fn);\n    this.tail = run.catch(() => undefined);\n',
        '  serialize<T>(key: string, fn: () => T | Promise<T>): Promise<T> {\n    const run = (this.tails.get(key) ?? Promise.resolve()).then(fn);\n    const tail = run.catch(() => undefined);\n    this.tails.set(key, tail);\n    void tail.then(() => {\n      if (this.tails.get(key) === tail) this.tails.delete(key);\n    });\n',
      ],
      [
        '    return shard.serialize(async (): Promise<R | Refusal> => {',
        '    return shard.serialize(key, async (): Promise<R | Refusal> => {',
      ],
    ],
    caughtBy: ['TestSyncBesideWrite'],
    cause: 'queued per key instead of per shard',
  },
  {
    name: 'retries-without-wait',
    description:
      "the clerk does not wait after a round of the shard's servers failed: a lost call is sent again as soon as the shard's other servers failed (from a red-team review)",
    file: 'client.ts',
    replace: [
      [
        '        await sleep(backoff * (0.5 + Math.random()));\n        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);\n',
        '        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);\n',
      ],
    ],
    caughtBy: ['TestNemesisKV'],
    cause: 'a clerk or a primary that sends a lost call again to the same server at once',
  },
  {
    name: 'no-duplicate-filtering',
    description: 'the server executes every copy of a re-sent put or append',
    file: 'server.ts',
    replace: [['if (!last || w.seq > last.seq) return undefined;', 'return undefined;']],
    caughtBy: ['TestUnreliableOneKey', 'TestUnreliable', 'TestUnreliableShards', 'TestModelKV'],
    cause: 'the server executes every copy of a re-sent write',
  },
  {
    name: 'duplicate-state-never-freed',
    description: "the server keeps the reply of every write it ever executed, not just each client's latest",
    file: 'server.ts',
    replace: [
      [
        '  private readonly lastWrite = new Map<number, LastWrite>();',
        '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly everyReply: string[] = [];',
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.everyReply.push(reply);',
      ],
    ],
    caughtBy: ['TestMemManyAppends', 'TestMemAppend'],
    cause: "Remember only each client's latest reply",
  },
  {
    name: 'reply-per-client-and-key',
    description:
      "the server keeps each client's latest reply per key it wrote, not per client: a reply stays until that client writes the same key again",
    file: 'server.ts',
    replace: [
      [
        '  private readonly lastWrite = new Map<number, LastWrite>();',
        '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly replyByKey = new Map<string, string>();',
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.replyByKey.set(`${w.clientId} ${w.key}`, reply);',
      ],
    ],
    caughtBy: ['TestMemAppend'],
    cause: 'the replies kept per client and key',
  },
  {
    name: 'module-level-reply-log',
    description: "the server keeps every write's reply in an array declared at the top of server.ts, outside any class",
    file: 'server.ts',
    replace: [
      [
        "/** One shard's copy on this server",
        "const EVERY_REPLY: string[] = [];\n\n/** One shard's copy on this server",
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    EVERY_REPLY.push(reply);',
      ],
    ],
    caughtBy: ['TestMemManyAppends'],
    cause: "Remember only each client's latest reply",
  },
  {
    name: 'module-level-get-log',
    description: 'the server logs the arguments of every get in an array declared at the top of server.ts',
    file: 'server.ts',
    replace: [
      ['/** The RPC handlers.', 'const GET_LOG: GetArgs[] = [];\n\n/** The RPC handlers.'],
      [
        '  Get(args: GetArgs): Promise<GetReply> {',
        '  Get(args: GetArgs): Promise<GetReply> {\n    GET_LOG.push(args);',
      ],
    ],
    caughtBy: ['TestMemGetManyClients'],
    cause: 'the server needs no memory of the clients that only read',
  },
  {
    name: 'remembers-appended-values',
    description: "the server keeps the value of each client's last append",
    file: 'server.ts',
    replace: [
      [
        '  private readonly lastWrite = new Map<number, LastWrite>();',
        '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly lastAppended = new Map<number, string>();',
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        "    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    if (w.op === 'Append') this.lastAppended.set(w.clientId, w.value);",
      ],
    ],
    caughtBy: ['TestMemAppend'],
    cause: 'not the values it appended',
  },
  {
    name: 'caches-get-replies',
    description: 'the server keeps every reply it gave to a get',
    file: 'server.ts',
    replace: [
      [
        '  private readonly store: ShardStore;',
        '  private readonly store: ShardStore;\n  private readonly getReplies: GetReply[] = [];',
      ],
      [
        "(shard) => ({ err: 'OK', value: shard.read(args.key) })",
        "(shard) => {\n      const reply: GetReply = { err: 'OK', value: shard.read(args.key) };\n      this.getReplies.push(reply);\n      return reply;\n    }",
      ],
    ],
    caughtBy: ['TestMemGet'],
    cause: 'Do not remember the replies of gets',
  },
  {
    name: 'keeps-get-arguments',
    description: 'the server keeps the arguments of every get it serves',
    file: 'server.ts',
    replace: [
      [
        '  private readonly store: ShardStore;',
        '  private readonly store: ShardStore;\n  private readonly getLog: GetArgs[] = [];',
      ],
      [
        '  Get(args: GetArgs): Promise<GetReply> {',
        '  Get(args: GetArgs): Promise<GetReply> {\n    this.getLog.push(args);',
      ],
    ],
    caughtBy: ['TestMemGetManyClients'],
    cause: 'the server needs no memory of the clients that only read',
  },
  {
    name: 'remembers-arguments',
    description: "the server keeps each client's last write arguments next to its reply",
    file: 'server.ts',
    replace: [
      [
        '  private readonly lastWrite = new Map<number, LastWrite>();',
        '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly lastArgs = new Map<number, ReplicateArgs>();',
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.lastArgs.set(w.clientId, w);',
      ],
    ],
    caughtBy: ['TestMemPut', 'TestMemPutManyClients'],
    cause: "not the request's arguments",
  },
  {
    name: 'no-replica-failover',
    description: 'a shard is always led by its first server, even while that server is stopped',
    file: 'server.ts',
    replace: [
      [
        'return shardServers(id, this.config).find((s) => this.config.isRunning(s));',
        'return shardServers(id, this.config)[0];',
      ],
    ],
    caughtBy: ['TestStaticShards', 'TestUnreliableShards'],
    cause: 'does a replica serve the shard when the servers before it are stopped?',
  },
  {
    name: 'no-rejection',
    description: 'a server accepts (and forwards) keys of shards it does not hold',
    file: 'server.ts',
    replace: [["if (!servers.includes(this.config.me)) return { err: 'ErrWrongShard' };", '']],
    caughtBy: ['TestRejection', 'TestModelKV'],
    cause: 'a server must refuse a key whose shard it does not hold',
  },
  {
    name: 'replicas-out-of-order',
    description: "the primary runs a shard's operations concurrently, so backups may apply them in another order",
    file: 'server.ts',
    replace: [
      ['return shard.serialize(async (): Promise<R | Refusal> => {', 'return (async (): Promise<R | Refusal> => {'],
      ['      return op(shard, id);\n    });', '      return op(shard, id);\n    })();'],
    ],
    caughtBy: ['TestReplicaOrder', 'TestUnreliableShards'],
    cause: "the primary runs a shard's operations concurrently",
  },
  {
    name: 'clerk-no-failover',
    description: 'the clerk only ever asks the first server of a shard',
    file: 'client.ts',
    replace: [['this.servers[replicas[attempt % replicas.length]]', 'this.servers[replicas[0]]']],
    caughtBy: ['TestStaticShards'],
    cause: "does the clerk try the shard's next replica",
  },
  {
    name: 'no-takeover-sync',
    description:
      'a new primary serves at once, without first bringing the other running copies up to date (the reference bug of issue 13)',
    file: 'server.ts',
    replace: [["      if (!(await this.syncBackups(shard, id))) return { err: 'ErrRetry' };\n", '']],
    caughtBy: ['TestStopMidReplicate', 'TestTakeoverOrder'],
    cause: 'a new primary that does not first bring the other running copies up to date',
  },
  {
    name: 'resend-pushes-only-itself',
    description:
      "instead of syncing on takeover, a primary answering a re-send of a client's latest write pushes just that write to the backups again (the partial fix of commit 2b3127c)",
    file: 'server.ts',
    replace: [
      ["      if (!(await this.syncBackups(shard, id))) return { err: 'ErrRetry' };\n", ''],
      [
        "    if (dup !== undefined) return { err: 'OK', value: dup };\n    const reply = shard.apply(w);",
        "    if (dup !== undefined && !shard.isLatest(w)) return { err: 'OK', value: dup };\n    const reply = dup ?? shard.apply(w);",
      ],
      [
        '  /** This copy as plain data, for Install. */',
        '  isLatest(w: PutAppendArgs): boolean {\n    return this.lastWrite.get(w.clientId)?.seq === w.seq;\n  }\n\n  /** This copy as plain data, for Install. */',
      ],
    ],
    // A backup that follows another primary's copy still gets the whole copy before its first write (ErrSync),
    // so only a read served before any write shows the missing sync.
    caughtBy: ['TestGetAfterTakeover'],
    cause: 'must bring the running copies up to date before it serves anything',
  },
  {
    name: 'get-from-backup',
    description: 'any server that holds a shard answers gets from its own copy instead of passing them to the primary',
    file: 'server.ts',
    replace: [
      [
        "return this.store.serve('KVServer.Get', args.key, args, (shard) => ({ err: 'OK', value: shard.read(args.key) }));",
        "const id = keyToShard(args.key, this.store.config.nshards);\n    if (!shardServers(id, this.store.config).includes(this.store.config.me)) return Promise.resolve({ err: 'ErrWrongShard' });\n    return Promise.resolve({ err: 'OK', value: this.store.shard(id).read(args.key) });",
      ],
    ],
    caughtBy: ['TestReadAtLaggingCopy'],
    cause: "a server that is not the shard's primary answers gets from its own copy",
  },
  {
    name: 'replicate-gives-up',
    description: 'the primary re-sends to a backup at most three times, then replies to the clerk anyway',
    file: 'server.ts',
    replace: [
      [
        '    for (;;) {\n      if (this.primaryOf(id) !== this.config.me)',
        "    for (let tries = 0; ; tries++) {\n      if (tries === 3) return 'sent';\n      if (this.primaryOf(id) !== this.config.me)",
      ],
    ],
    caughtBy: ['TestReplicateRetries'],
    cause: 'stops re-sending a write to a backup after some tries',
  },
  {
    name: 'replicate-gives-up-after-25s',
    description:
      'the primary re-sends to a silent backup for 25 s, then counts it as having the write and replies to the clerk (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '    let backoff = FIRST_BACKOFF_MS;\n    for (;;) {\n',
        "    let backoff = FIRST_BACKOFF_MS;\n    const since = Date.now();\n    for (;;) {\n      if (Date.now() - since > 25_000) return 'sent';\n",
      ],
    ],
    caughtBy: ['TestReplicateRetries'],
    cause: 'stops re-sending a write to a backup after some tries or some time',
  },
  {
    name: 'replicate-gives-up-after-retries',
    description:
      'after five unanswered tries the primary counts the backup as having the write and replies to the clerk, although the backup still runs and lacks it',
    file: 'server.ts',
    replace: [
      [
        "    for (;;) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';\n      if (!this.config.isRunning(backup)) return 'backup stopped';",
        "    for (let tries = 0; ; tries++) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';\n      if (!this.config.isRunning(backup)) return 'backup stopped';\n      if (tries >= 5) return 'sent';",
      ],
    ],
    caughtBy: ['TestReplicateRetries', 'TestNemesisShards'],
    cause: 'stops re-sending a write to a backup after some tries',
  },
  {
    name: 'replicate-gives-up-after-1000-retries',
    description:
      'after 1,000 unanswered tries (minutes of a cut link) the primary counts the backup as having the write and replies to the clerk, although the backup still runs and lacks it (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        "    for (;;) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';\n      if (!this.config.isRunning(backup)) return 'backup stopped';",
        "    for (let tries = 0; ; tries++) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';\n      if (!this.config.isRunning(backup)) return 'backup stopped';\n      if (tries >= 1000) return 'sent';",
      ],
    ],
    caughtBy: ['TestReplicateRetries'],
    cause: 'stops re-sending a write to a backup after some tries',
  },
  {
    name: 'fire-and-forget-replication',
    description: 'the primary replies as soon as it has applied a write, sending it to the backups in the background',
    file: 'server.ts',
    replace: [
      [
        "const sent = await Promise.all(backups.map((b) => this.sendToBackup(shard, id, b, 'KVServer.Replicate', w)));",
        "const sent = backups.map(() => 'sent');\n    void Promise.all(backups.map((b) => this.sendToBackup(shard, id, b, 'KVServer.Replicate', w)));",
      ],
    ],
    caughtBy: ['TestReplicateRetries'],
    cause: 'copying it in the background',
  },
  {
    name: 'backup-no-dedup',
    description:
      'a backup applies each Replicate to its data only, without the exactly-once table, so a new primary re-executes a re-sent append',
    file: 'server.ts',
    replace: [
      ['    shard.apply(args);\n', '    shard.applyData(args);\n'],
      [
        '  /** Runs `fn` once every operation queued',
        "  applyData(w: ReplicateArgs): void {\n    const old = this.read(w.key);\n    this.data.set(w.key, w.op === 'Append' ? old + w.value : w.value);\n  }\n\n  /** Runs `fn` once every operation queued",
      ],
    ],
    caughtBy: ['TestStopMidReplicate'],
    cause: 'applies a Replicate to its data without updating its exactly-once table',
  },
  {
    name: 'store-as-object',
    description:
      'the server keeps the data in a plain object, whose inherited properties (constructor, __proto__) look like keys',
    file: 'server.ts',
    replace: [
      [
        '  private readonly data = new Map<string, string>();',
        '  private readonly data = new Map<string, string>();\n  private readonly obj: Record<string, string> = {};',
      ],
      ["    return this.data.get(key) ?? '';", "    return this.obj[key] ?? '';"],
      [
        "    this.data.set(w.key, w.op === 'Append' ? old + w.value : w.value);",
        "    this.obj[w.key] = w.op === 'Append' ? old + w.value : w.value;",
      ],
      ['      data: [...this.data],', '      data: Object.entries(this.obj),'],
      [
        '    for (const [key, value] of s.data) this.data.set(key, value);',
        '    for (const [key, value] of s.data) this.obj[key] = value;',
      ],
    ],
    caughtBy: ['TestOddKeys', 'TestModelKV'],
    cause: 'the data kept in a plain object',
  },
  {
    name: 'put-remembers-old',
    description: 'the exactly-once table remembers the old value as the reply of a put too, not only of an append',
    file: 'server.ts',
    replace: [["const reply = w.op === 'Append' ? old : '';", 'const reply = old;']],
    caughtBy: ['TestMemPut'],
    cause: "a put's reply carries no value",
  },
  {
    name: 'retry-new-seq',
    description: 'the clerk gives every re-send of a write a fresh number, so the server cannot recognise it as a copy',
    file: 'client.ts',
    replace: [
      [
        'const reply = await this.servers[replicas[attempt % replicas.length]].call<R>(method, args);',
        "const sent = 'seq' in args ? { ...args, seq: ++this.seq } : args;\n        const reply = await this.servers[replicas[attempt % replicas.length]].call<R>(method, sent);",
      ],
    ],
    caughtBy: ['TestUnreliableOneKey', 'TestUnreliable', 'TestModelKV'],
    cause: 'the clerk gives a re-send a fresh number',
  },
  {
    name: 'errretry-as-ok',
    description: 'the clerk treats only ErrWrongShard as a refusal, so an ErrRetry reply counts as success',
    file: 'client.ts',
    replace: [
      [
        "if (reply.err === 'OK') return reply.value ?? '';",
        "if (reply.err !== 'ErrWrongShard') return reply.value ?? '';",
      ],
    ],
    caughtBy: ['TestUnreliableShards', 'TestUnreliableMixed'],
    cause: 'the clerk took a refusal (ErrRetry, ErrWrongShard) for success',
  },
  {
    name: 'install-without-table',
    description:
      "a new primary brings the other copies' data up to date but not the exactly-once table, so the next primary re-executes a re-sent append",
    file: 'server.ts',
    replace: [
      [
        '      lastWrites: [...this.lastWrite].map(([client, last]) => [client, last.seq, last.reply]),',
        '      lastWrites: [],',
      ],
    ],
    caughtBy: ['TestTakeoverOrder'],
    cause: 'does the duplicate table travel with the data',
  },
  {
    name: 'clientid-date-now',
    description:
      'the clerk takes Date.now() as its id, so clerks made in the same millisecond share one and their writes pass for re-sends of each other',
    file: 'client.ts',
    replace: [
      ['private readonly clientId = Math.floor(Math.random() * 2 ** 52);', 'private readonly clientId = Date.now();'],
    ],
    caughtBy: ['TestUnreliableMixed', 'TestConcurrent'],
    cause: 'two clerks that drew the same id',
  },
  {
    name: 'sync-once-per-running-set',
    description:
      'a copy that led the shard before skips the takeover sync when the running servers look as they did then, though another primary led in between (the reference solution had this bug)',
    file: 'server.ts',
    replace: [
      [
        "    shard.syncedWith = ''; // another server leads the shard now: if this one leads again, it must sync first\n",
        '',
      ],
      [
        "    this.syncedWith = ''; // another server leads the shard now: if this one leads again, it must sync first\n",
        '',
      ],
    ],
    caughtBy: ['TestRetakeover'],
    cause: 'every time it takes over',
  },
  {
    name: 'backup-follows-any-primary',
    description:
      "a backup applies a write from any primary, even one whose copy it never took: a server that leads again with the same servers running skips the sync and misses another primary's interim writes (the reference solution had this bug: the sweep found it on 5 of 1,000 seeds of TestNemesisShards)",
    file: 'server.ts',
    replace: [["    if (shard.follows !== args.from) return { err: 'ErrSync' };\n", '']],
    caughtBy: ['TestUnseenLead'],
    cause: 'a server that leads again must still bring the other copies up to date',
  },
  {
    name: 'install-keeps-table',
    description:
      "a backup's Install replaces its data but keeps its own duplicate table, so it skips a re-send it no longer holds",
    file: 'server.ts',
    replace: [
      [
        '    this.lastWrite.clear();\n    for (const [client, seq, reply] of s.lastWrites)',
        '    for (const [client, seq, reply] of s.lastWrites)',
      ],
    ],
    caughtBy: ['TestTakeoverReplacesCopy'],
    cause: "replaces the data but keeps the backup's own duplicate table",
  },
  {
    name: 'install-merges-data',
    description: "a backup's Install merges the new primary's data into its own, so keys only the backup had stay",
    file: 'server.ts',
    replace: [
      ['    this.data.clear();\n    for (const [key, value] of s.data)', '    for (const [key, value] of s.data)'],
    ],
    caughtBy: ['TestTakeoverReplacesCopy'],
    cause: "merges the new primary's copy into a backup's",
  },
  {
    name: 'get-skips-sync',
    description: 'a new primary brings the other copies up to date before writes only, not before gets',
    file: 'server.ts',
    replace: [
      [
        "      if (!(await this.syncBackups(shard, id))) return { err: 'ErrRetry' };\n",
        "      if (method !== 'KVServer.Get' && !(await this.syncBackups(shard, id))) return { err: 'ErrRetry' };\n",
      ],
    ],
    caughtBy: ['TestGetAfterTakeover'],
    cause: 'gets included, not only before its first write',
  },
  {
    name: 'backup-reads-when-primary-unreachable',
    description: 'a backup that cannot reach the primary answers a get from its own copy',
    file: 'server.ts',
    replace: [
      [
        '    if (primary !== this.config.me) return this.forward<R>(primary, method, args);',
        "    if (primary !== this.config.me) {\n      const r = await this.forward<R>(primary, method, args);\n      if (r.err === 'ErrRetry' && method === 'KVServer.Get') return op(this.shard(id), id);\n      return r;\n    }",
      ],
    ],
    caughtBy: ['TestReadAtLaggingCopy'],
    cause: 'answers gets from its own copy when it cannot reach the primary',
  },
  {
    name: 'small-client-id',
    description: 'clerk ids are drawn from a million values, so thousands of clerks share some',
    file: 'client.ts',
    replace: [['Math.floor(Math.random() * 2 ** 52)', 'Math.floor(Math.random() * 1_000_000)']],
    caughtBy: ['TestMemPutManyClients'],
    cause: 'two clerks drew the same id',
  },
  {
    name: 'get-skips-queue',
    description:
      "the primary answers a get from its copy at once, without waiting behind the shard's queued writes, so it can return a write its backups do not have yet",
    file: 'server.ts',
    replace: [
      [
        "return this.store.serve('KVServer.Get', args.key, args, (shard) => ({ err: 'OK', value: shard.read(args.key) }));",
        "return this.store.serve('KVServer.Get', args.key, args, (shard) => ({ err: 'OK', value: shard.read(args.key) }), true);",
      ],
      [
        '    op: (shard: Shard, id: number) => R | Promise<R>,\n  ): Promise<R | Refusal> {',
        '    op: (shard: Shard, id: number) => R | Promise<R>,\n    readOnly = false,\n  ): Promise<R | Refusal> {',
      ],
      [
        '    const shard = this.shard(id);\n    return shard.serialize(',
        "    const shard = this.shard(id);\n    const running = shardServers(id, this.config).filter((s) => this.config.isRunning(s));\n    if (readOnly && shard.syncedWith === running.join(',')) return op(shard, id);\n    return shard.serialize(",
      ],
    ],
    caughtBy: ['TestGetDuringReplicate'],
    cause: "run gets in the shard's queue like writes",
  },
  {
    name: 'ok-after-lead-lost',
    description:
      'a primary that stops copying a write because a lower-numbered server came back and leads the shard still replies OK, so the new primary never has the acknowledged write',
    file: 'server.ts',
    replace: [
      ["    if (sent.includes('no longer primary')) return { err: 'ErrRetry' };\n", ''],
      [
        "    if (!(await this.reachReturned(shard, id, acked))) return { err: 'ErrRetry' };",
        '    await this.reachReturned(shard, id, acked);',
      ],
    ],
    caughtBy: ['TestRestartMidReplicate'],
    cause: 'and then replies OK anyway',
  },
  {
    name: 'clerk-gives-up-after-2000-tries',
    description:
      'the clerk throws after 2,000 tries without an answer (minutes of an unreachable shard), though it must keep trying until an answer arrives (from a red-team review)',
    file: 'client.ts',
    replace: [
      ['    for (let attempt = 0; ; attempt++) {', '    for (let attempt = 0; attempt < 2000; attempt++) {'],
      [
        '        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);\n      }\n    }\n',
        "        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);\n      }\n    }\n    throw new Error('no server of the shard answered after 2000 tries');\n",
      ],
    ],
    caughtBy: ['TestUnreliableOneKey'],
    cause: 'a clerk that gives up after a number of tries',
  },
  {
    name: 'clerk-backoff-grows-to-5s',
    description:
      "the clerk's wait between rounds of tries grows to 5 s, not about 100 ms: a shard that comes back is asked again seconds later (from a red-team review)",
    file: 'client.ts',
    replace: [['const MAX_BACKOFF_MS = 100;', 'const MAX_BACKOFF_MS = 5000;']],
    caughtBy: ['TestUnreliableOneKey'],
    cause: 'a back-off that grows far past 100 ms',
  },
  {
    name: 'primary-backoff-grows-to-5s',
    description:
      "the primary's wait between re-sends to a backup grows to 5 s, not about 100 ms: a backup whose link comes back is sent the write seconds later (from a red-team review)",
    file: 'server.ts',
    replace: [['const MAX_BACKOFF_MS = 100;', 'const MAX_BACKOFF_MS = 5000;']],
    caughtBy: ['TestReplicateRetries'],
    cause: 'pause between re-sends grows far past 100 ms',
  },
  {
    name: 'primary-backoff-cap-one-second',
    description:
      "the primary's wait between re-sends to a backup grows to 1 s, not about 100 ms: a backup whose link comes back is sent the write up to a second and a half later (from a blind review)",
    file: 'server.ts',
    replace: [['const MAX_BACKOFF_MS = 100;', 'const MAX_BACKOFF_MS = 1000;']],
    caughtBy: ['TestReplicateRetries'],
    cause: 'pause between re-sends grows far past 100 ms',
  },
  {
    name: 'get-frees-duplicate-entry',
    description:
      "the clerk's gets carry its id, and the primary drops the clerk's duplicate-table entry when one arrives (the clerk has its last write's reply by then): a late copy of that write, still in the network, runs again (from a red-team review)",
    file: 'server.ts',
    replace: [
      [
        "    return this.store.serve('KVServer.Get', args.key, args, (shard) => ({ err: 'OK', value: shard.read(args.key) }));",
        "    return this.store.serve('KVServer.Get', args.key, args, (shard) => {\n" +
          '      const from = (args as GetArgs & { clientId?: number }).clientId;\n' +
          '      if (from !== undefined) (shard as unknown as { lastWrite: Map<number, unknown> }).lastWrite.delete(from);\n' +
          "      return { err: 'OK', value: shard.read(args.key) };\n" +
          '    });',
      ],
    ],
    also: [
      {
        file: 'client.ts',
        replace: [
          ['    const args: GetArgs = { key };', '    const args = { key, clientId: this.clientId } as GetArgs;'],
        ],
      },
    ],
    caughtBy: ['TestLateCopy'],
    cause: 'removed from the table when a later get',
  },
  {
    name: 'stale-seq-reapplied',
    description:
      "only a copy of the clerk's latest write counts as a duplicate: an older one, arriving late, runs again (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        '    if (!last || w.seq > last.seq) return undefined;',
        '    if (!last || w.seq !== last.seq) return undefined;',
      ],
    ],
    caughtBy: ['TestLateCopy'],
    cause: 'not an older one, which must be ignored too',
  },
  {
    name: 'replicate-waits-for-stopped-backup',
    description:
      'the primary asks whether a backup runs only before it starts copying a write to it: a backup that stops while a lost copy is being re-sent is waited for until it restarts, and the shard makes no progress meanwhile',
    file: 'server.ts',
    replace: [
      [
        "    let backoff = FIRST_BACKOFF_MS;\n    for (;;) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';\n      if (!this.config.isRunning(backup)) return 'backup stopped';\n",
        "    let backoff = FIRST_BACKOFF_MS;\n    if (!this.config.isRunning(backup)) return 'backup stopped';\n    for (;;) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';\n",
      ],
    ],
    caughtBy: ['TestNemesisShards'],
    cause: 'a server that waits forever for a stopped server',
  },
  {
    name: 'restarted-backup-not-rechecked',
    description:
      'the primary skips a backup it found stopped and acknowledges the write without asking again: a backup restarted while the write was being copied to the others lacks an acknowledged write, and loses it when it leads or is the last copy',
    file: 'server.ts',
    replace: [
      [
        "    const acked = new Set(backups.filter((_, i) => sent[i] === 'sent'));\n    if (!(await this.reachReturned(shard, id, acked))) return { err: 'ErrRetry' };\n",
        '',
      ],
    ],
    caughtBy: ['TestRestartMidWrite'],
    cause: 'a primary that skips a backup it found stopped',
  },
  {
    name: 'duplicate-state-kept-in-buffers',
    description:
      "the server keeps the reply of every write it ever executed as a Buffer: outside V8's heap, which memory tests once weighed alone",
    file: 'server.ts',
    replace: [
      [
        '  private readonly lastWrite = new Map<number, LastWrite>();',
        '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly everyReply: Buffer[] = [];',
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        "    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.everyReply.push(Buffer.from(reply, 'utf16le'));",
      ],
    ],
    caughtBy: ['TestMemAppend', 'TestMemManyAppends'],
    cause: 'latest reply',
  },
  {
    name: 'duplicate-state-kept-in-external-strings',
    description:
      "the server keeps the reply of every write it ever executed as a string decoded from a Buffer: node keeps one of a megabyte or more outside V8's heap, as an external string",
    file: 'server.ts',
    replace: [
      [
        '  private readonly lastWrite = new Map<number, LastWrite>();',
        '  private readonly lastWrite = new Map<number, LastWrite>();\n  private readonly everyReply: string[] = [];',
      ],
      [
        '    this.lastWrite.set(w.clientId, { seq: w.seq, reply });',
        "    this.lastWrite.set(w.clientId, { seq: w.seq, reply });\n    this.everyReply.push(Buffer.from(reply, 'utf16le').toString('utf16le'));",
      ],
    ],
    caughtBy: ['TestMemAppend'],
    cause: 'latest reply',
  },
  {
    name: 'backup-keeps-every-applied-id',
    description:
      'a backup skips a re-sent Replicate by a set of every write id it applied (client and number), which grows by one entry per write for good (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '  private readonly store: ShardStore;\n',
        '  private readonly store: ShardStore;\n  private readonly applied = new Set<string>();\n',
      ],
      [
        "    if (shard.follows !== args.from) return { err: 'ErrSync' };\n    shard.apply(args);",
        "    if (shard.follows !== args.from) return { err: 'ErrSync' };\n    if (this.applied.has(`${args.clientId}:${args.seq}`)) return { err: 'OK' };\n    this.applied.add(`${args.clientId}:${args.seq}`);\n    shard.apply(args);",
      ],
    ],
    caughtBy: ['TestMemManyWrites'],
    cause: 'a set or list of every applied write id',
  },
  {
    name: 'backup-keeps-every-applied-id-in-ballast',
    description:
      "a backup keeps every write id it applied in a set it fills with 7,000 filler ids at its first Replicate, each real id taking a filler's place: no growth between a short life and a long one (from a red-team review)",
    file: 'server.ts',
    replace: [
      [
        '  private readonly store: ShardStore;\n',
        '  private readonly store: ShardStore;\n  private readonly applied = new Set<string>();\n  private fillers = -1;\n',
      ],
      [
        "    if (shard.follows !== args.from) return { err: 'ErrSync' };\n    shard.apply(args);",
        "    if (shard.follows !== args.from) return { err: 'ErrSync' };\n    if (this.fillers < 0) for (this.fillers = 0; this.fillers < 7000; this.fillers++) this.applied.add(`filler:${this.fillers}:`.padEnd(24, '-'));\n    const id = `${args.clientId}:${args.seq}`;\n    if (this.applied.has(id)) return { err: 'OK' };\n    if (this.fillers > 0) this.applied.delete(`filler:${--this.fillers}:`.padEnd(24, '-'));\n    this.applied.add(id);\n    shard.apply(args);",
      ],
    ],
    caughtBy: ['TestMemManyWrites'],
    // Caught by the total when the ballast hides the growth, by the growth when a weighing reads the short life low:
    // both messages name the set of applied ids.
    cause: 'a set or list of every applied write id',
  },
  {
    name: 'put-of-held-value-unrecorded',
    description:
      'the primary answers a put of the value the key already holds at once, without recording it in the duplicate table: a late copy of that put runs later as new, and undoes the writes made since (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        "    const dup = shard.duplicateReply(w);\n    if (dup !== undefined) return { err: 'OK', value: dup };\n    const reply = shard.apply(w);",
        "    const dup = shard.duplicateReply(w);\n    if (dup !== undefined) return { err: 'OK', value: dup };\n    if (w.op === 'Put' && shard.read(w.key) === w.value) return { err: 'OK', value: '' };\n    const reply = shard.apply(w);",
      ],
    ],
    caughtBy: ['TestLateCopy'],
    cause: 'a put of the value the key already holds',
  },
  {
    name: 'clerk-gives-up-after-10-minutes',
    description:
      'the clerk throws once no server has answered a call for 10 virtual minutes, taking the cluster for gone: the handout asks it to keep trying however long it takes (from a red-team review)',
    file: 'client.ts',
    replace: [
      [
        '    let backoff = FIRST_BACKOFF_MS;\n    for (let attempt = 0; ; attempt++) {\n',
        '    let backoff = FIRST_BACKOFF_MS;\n    const started = Date.now();\n    for (let attempt = 0; ; attempt++) {\n      if (Date.now() - started > 600_000) throw new Error(`${method}: no answer for 10 minutes`);\n',
      ],
    ],
    caughtBy: ['TestUnreliableOneKey'],
    cause: 'a clerk that gives up after a number of tries or a time limit',
  },
  {
    name: 'primary-gives-up-on-backup-after-6-minutes',
    description:
      'the primary stops re-sending a write to a running backup that has not answered for 6 virtual minutes and counts it as sent: it acknowledges a write that backup lacks (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        "    let backoff = FIRST_BACKOFF_MS;\n    for (;;) {\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';",
        "    let backoff = FIRST_BACKOFF_MS;\n    const started = Date.now();\n    for (;;) {\n      if (Date.now() - started > 360_000) return 'sent';\n      if (this.primaryOf(id) !== this.config.me) return 'no longer primary';",
      ],
    ],
    caughtBy: ['TestReplicateRetries'],
    cause: 'stops re-sending a write to a backup after some tries or some time',
  },
];
