/**
 * Deliberately broken versions of the lab 7 reference: the classic mistakes of a shard group, its controller and
 * its clerk; each must fail a named test.
 */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'wrong-group-pause-doubles',
    description:
      'the clerk doubles its pause after each ErrWrongGroup of a call (50, 100, 200 ms ... up to 10 s): a call that meets a moving shard a few times waits seconds after the move is done (from a red-team review)',
    file: 'client.ts',
    replace: [
      [
        "    for (;;) {\n      const r = await (await this.owner(key)).get(key);\n      if (r.err !== 'ErrWrongGroup') return r;\n      await this.refresh();",
        "    for (let pause = WRONG_GROUP_PAUSE_MS; ; pause = Math.min(2 * pause, 10_000)) {\n      const r = await (await this.owner(key)).get(key);\n      if (r.err !== 'ErrWrongGroup') return r;\n      await this.refresh(pause);",
      ],
      [
        "    for (let tries = 1; ; tries++) {\n      const err = await (await this.owner(key)).put(key, value, version);\n      if (err === 'ErrVersion' && tries > 1) return 'ErrMaybe';\n      if (err !== 'ErrWrongGroup') return err;\n      await this.refresh();",
        "    for (let tries = 1, pause = WRONG_GROUP_PAUSE_MS; ; tries++, pause = Math.min(2 * pause, 10_000)) {\n      const err = await (await this.owner(key)).put(key, value, version);\n      if (err === 'ErrVersion' && tries > 1) return 'ErrMaybe';\n      if (err !== 'ErrWrongGroup') return err;\n      await this.refresh(pause);",
      ],
      [
        '  private async refresh(): Promise<void> {\n    await sleep(WRONG_GROUP_PAUSE_MS);',
        '  private async refresh(pause = WRONG_GROUP_PAUSE_MS): Promise<void> {\n    await sleep(pause);',
      ],
    ],
    caughtBy: ['TestPartitionRecoveryUnreliableNoClerk5C'],
    cause: 'a pause that grows with each',
  },
  {
    name: 'freeze-keeps-serving',
    description:
      'FreezeShard hands the keys over but the old owner goes on serving the shard: its later writes are lost',
    file: 'server.ts',
    replace: [["    if (shard.status === 'serving') shard.status = 'frozen';\n", '']],
    caughtBy: ['TestJoinBasic5A', 'TestJoinLeaveBasic5A', 'TestManyJoinLeaveReliable5A'],
    cause: 'a shard served by a group that froze it',
  },
  {
    name: 'freeze-returns-no-keys',
    description:
      'FreezeShard returns an empty state: the shard arrives at its new owner without its keys (a lost shard)',
    file: 'server.ts',
    replace: [["    return { err: 'OK', state: JSON.stringify(encoded) };", "    return { err: 'OK', state: '[]' };"]],
    caughtBy: ['TestJoinBasic5A', 'TestJoinLeaveBasic5A', 'TestManyJoinLeaveReliable5A'],
    cause: 'FreezeShard must return them',
  },
  {
    name: 'install-resets-versions',
    description: 'InstallShard restores the values but starts every key again at version 1',
    file: 'server.ts',
    replace: [
      [
        '      (JSON.parse(state) as Encoded).map(([k, value, version]) => [k, { value, version }]),',
        '      (JSON.parse(state) as Encoded).map(([k, value]) => [k, { value, version: 1 }]),',
      ],
    ],
    caughtBy: ['TestJoinLeaveBasic5A', 'TestManyJoinLeaveReliable5A'],
    cause: 'InstallShard restore them, versions included',
  },
  {
    name: 'delete-keeps-keys',
    description: 'DeleteShard marks the shard gone but keeps its keys in memory (and in every snapshot)',
    file: 'server.ts',
    replace: [
      [
        "    this.shards[s] = { status: 'gone', num, kv: new Map() };",
        "    this.shards[s] = { status: 'gone', num, kv: shard?.kv ?? new Map() };",
      ],
    ],
    caughtBy: ['TestDeleteBasic5A', 'TestMemDeletedShard5A', 'TestNemesisShardsSnapshots5C'],
    cause: 'keys are kept after the delete',
  },
  {
    name: 'install-record-kept-after-delete',
    description:
      'a repeated InstallShard is recognised by a record of the last install applied per shard (its number and state, kept in the snapshot), which DeleteShard never clears: a group that received a shard and gave it away keeps its keys in memory and in every snapshot (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '  private shards: Array<Shard | undefined>;\n',
        '  private shards: Array<Shard | undefined>;\n' +
          '  private installs: Array<{ num: number; state: string } | null> = Array.from({ length: NSHARDS }, () => null);\n',
      ],
      [
        "    if (shard && num === shard.num && shard.status === 'serving') return { err: 'OK' };\n",
        "    if (this.installs[s]?.num === num) return { err: 'OK' };\n    this.installs[s] = { num, state };\n",
      ],
      [
        '    return JSON.stringify(\n      this.shards.map(',
        '    return JSON.stringify([\n      this.installs,\n      this.shards.map(',
      ],
      [
        '[...sh.kv].map(([k, e]) => [k, e.value, e.version])] : null)),\n    );',
        '[...sh.kv].map(([k, e]) => [k, e.value, e.version])] : null)),\n    ]);',
      ],
      [
        "    const data = JSON.parse(snapshot) as Array<[Shard['status'], number, Encoded] | null>;",
        '    const [installs, data] = JSON.parse(snapshot) as [\n' +
          '      Array<{ num: number; state: string } | null>,\n' +
          "      Array<[Shard['status'], number, Encoded] | null>,\n" +
          '    ];\n    this.installs = installs;',
      ],
    ],
    caughtBy: ['TestDeleteBasic5A', 'TestMemDeletedShard5A'],
    cause: 'the last InstallShard state',
  },
  {
    name: 'ctrler-never-deletes',
    description: 'the controller freezes and installs but never calls DeleteShard: moved shards stay in memory',
    file: 'ctrler.ts',
    replace: [
      [
        "    if (from !== 0 && (await this.group(from, old).deleteShard(s, next.num, done))?.err !== 'OK') return false;\n",
        '',
      ],
    ],
    caughtBy: ['TestDeleteBasic5A', 'TestMemDeletedShard5A', 'TestNemesisShardsSnapshots5C'],
    cause: 'not called by the controller',
  },
  {
    name: 'frozen-shard-serves-gets',
    description:
      'Get is answered for a frozen or deleted shard too (only Put checks that the group serves it): stale reads',
    file: 'server.ts',
    replace: [
      [
        "    if (shard?.status !== 'serving') return { err: 'ErrWrongGroup' };",
        "    if (shard === undefined || (o.op === 'put' && shard.status !== 'serving')) return { err: 'ErrWrongGroup' };",
      ],
    ],
    caughtBy: [
      'TestManyJoinLeaveReliable5A',
      'TestJoinLeaveBasic5A',
      'TestJoinBasic5A',
      'TestManyConcurrentClerkReliable5A',
    ],
    cause: 'a shard served by a group that froze it',
  },
  {
    name: 'snapshot-forgets-status',
    description:
      'the snapshot restores every shard it holds as served: after a restart a group serves the shards it froze',
    file: 'server.ts',
    replace: [['        ? { status: d[0], num: d[1], kv:', "        ? { status: 'serving', num: d[1], kv:"]],
    caughtBy: ['TestShutdown5A'],
    cause: 'each shard’s status lost in the snapshot',
  },
  {
    name: 'clerk-keeps-old-config',
    description: 'on ErrWrongGroup the clerk waits and tries the same group again without reading the configuration',
    file: 'client.ts',
    replace: [
      [
        '    this.cfg = await this.ctrler.query();\n  }',
        '    this.cfg = this.cfg ?? (await this.ctrler.query());\n  }',
      ],
    ],
    caughtBy: ['TestJoinBasic5A', 'TestOneConcurrentClerkReliable5A'],
    cause: 'never reads the configuration again after ErrWrongGroup',
  },
  {
    name: 'no-recovery',
    description:
      'initController does nothing: a change a failed controller left half done stays so (frozen shards nobody serves)',
    file: 'ctrler.ts',
    replace: [['    if (cfg.num === old.num + 1) await this.finish(old, cfg, version);\n', '    void cfg;\n']],
    caughtBy: ['TestRecoverCtrler5B'],
    cause: 'initController not looking for it',
  },
  {
    name: 'next-stored-after-moves',
    description:
      'the controller stores the configuration it moves to only after the moves: a controller that fails midway leaves no trace of them',
    file: 'ctrler.ts',
    replace: [
      [
        '    if (!(await this.claim(next))) return;\n    await this.finish(old, next, version);',
        '    await this.finish(old, next, version);\n    if (!(await this.claim(next))) return;',
      ],
    ],
    caughtBy: ['TestRecoverCtrler5B'],
    cause: 'the configuration being moved to not stored before the first move',
  },
  {
    name: 'publish-before-moves',
    description:
      'the controller stores the new configuration before it moves the shards: clerks and the next controller take the move for done',
    file: 'ctrler.ts',
    replace: [
      [
        '    const moved = await Promise.all(moves.map((s) => this.move(s, old, next)));\n    if (moved.includes(false)) return;\n',
        '    await this.kv.put(CONFIG_KEY, next.toString(), version);\n    const moved = await Promise.all(moves.map((s) => this.move(s, old, next)));\n    if (moved.includes(false)) return;\n',
      ],
    ],
    caughtBy: ['TestRecoverCtrler5B'],
    cause: 'the configuration stored before its moves finished',
  },
  // ---- Shard groups: the rules of a frozen shard, configuration numbers, snapshots ----
  {
    name: 'frozen-shard-serves-puts',
    description: 'a frozen shard is served like one the group owns (gets and puts): writes after the freeze are lost',
    file: 'server.ts',
    replace: [
      [
        "    if (shard?.status !== 'serving') return { err: 'ErrWrongGroup' };",
        "    if (shard === undefined || shard.status === 'gone') return { err: 'ErrWrongGroup' };",
      ],
    ],
    caughtBy: ['TestWriteAcrossFreeze5A'],
    cause: 'a frozen shard still taking puts',
  },
  {
    name: 'put-checked-on-arrival',
    description:
      "Put checks that the group serves the key's shard when the RPC arrives, not when doOp applies it: a put already in the log behind a freeze is applied to the frozen shard",
    file: 'server.ts',
    replace: [
      [
        "    return this.run<PutReply>({ op: 'put', key: args.key, value: args.value, version: args.version });",
        "    if (this.shards[key2shard(args.key)]?.status !== 'serving') return Promise.resolve({ err: 'ErrWrongGroup' });\n    return this.run<PutReply>({ op: 'put', key: args.key, value: args.value, version: args.version });",
      ],
      [
        "    if (shard?.status !== 'serving') return { err: 'ErrWrongGroup' };",
        "    if (shard === undefined || (o.op === 'get' && shard.status !== 'serving')) return { err: 'ErrWrongGroup' };",
      ],
    ],
    caughtBy: ['TestWriteAcrossFreeze5A'],
    cause: 'checked in the RPC handler',
  },
  {
    name: 'old-install-accepted',
    description:
      'InstallShard does not compare its number with the one the shard has seen: a late copy of an old move installs stale keys over a newer move',
    file: 'server.ts',
    replace: [
      [
        "    const shard = this.shards[s];\n    if (shard && num < shard.num) return { err: 'ErrOldConfig' };\n    if (shard && num === shard.num",
        '    const shard = this.shards[s];\n    if (shard && num === shard.num',
      ],
    ],
    caughtBy: ['TestLateInstall5A', 'TestNemesisShardsSnapshots5C'],
    cause: 'InstallShard not comparing its number',
  },
  {
    name: 'install-overwrites-served-shard',
    description:
      'a repeated InstallShard of a shard the group already serves at that number installs the state again, overwriting the writes made since',
    file: 'server.ts',
    replace: [["    if (shard && num === shard.num && shard.status === 'serving') return { err: 'OK' };\n", '']],
    caughtBy: ['TestRecoverCtrler5B', 'TestNemesisShards5C', 'TestNemesisShardsSnapshots5C'],
    cause: 'installs its state again over the writes made since',
  },
  {
    name: 'restore-forgets-numbers',
    description:
      'restore() puts every shard back at the first configuration number: after a restart from a snapshot, a late copy of an old move is taken as new',
    file: 'server.ts',
    replace: [['        ? { status: d[0], num: d[1], kv:', '        ? { status: d[0], num: NUM_FIRST, kv:']],
    caughtBy: ['TestLateInstall5A', 'TestNemesisShardsSnapshots5C'],
    cause: 'not in the snapshot (lost at a restart)',
  },
  {
    name: 'restore-drops-frozen-keys',
    description:
      "restore() keeps the keys of served shards only: a frozen shard's keys are lost at a restart from a snapshot, and the move that finishes it hands over nothing",
    file: 'server.ts',
    replace: [
      [
        'kv: new Map(d[2].map(([k, value, version]) => [k, { value, version }])) }',
        "kv: new Map(d[0] === 'serving' ? d[2].map(([k, value, version]) => [k, { value, version }]) : []) }",
      ],
    ],
    caughtBy: ['TestNemesisShardsSnapshots5C'],
    cause: 'a frozen shard’s keys lost at a restart',
  },
  {
    name: 'delete-frees-snapshot-only',
    description:
      "DeleteShard marks the shard gone and the snapshot leaves gone shards' keys out, but the keys stay in memory",
    file: 'server.ts',
    replace: [
      [
        "    this.shards[s] = { status: 'gone', num, kv: new Map() };",
        "    this.shards[s] = { status: 'gone', num, kv: shard?.kv ?? new Map() };",
      ],
      [
        '      this.shards.map((sh) => (sh ? [sh.status, sh.num, [...sh.kv].map(',
        "      this.shards.map((sh) => (sh ? [sh.status, sh.num, [...(sh.status === 'gone' ? [] : sh.kv)].map(",
      ],
    ],
    caughtBy: ['TestMemDeletedShard5A'],
    cause: 'left out of the snapshot only',
  },
  {
    name: 'get-answered-without-log',
    description:
      "Get is answered from the server's own state without going through the RSM: a server that does not lead (or no longer does) answers stale values",
    file: 'server.ts',
    replace: [
      [
        "    return this.run<GetReply>({ op: 'get', key: args.key });",
        "    return Promise.resolve(this.keyOp({ op: 'get', key: args.key }) as GetReply);",
      ],
    ],
    caughtBy: ['TestNemesisShards5C', 'TestNemesisShardsSnapshots5C'],
    cause: 'without going through the RSM',
  },
  {
    name: 'put-ignores-version',
    description: "Put overwrites an existing key whatever version it names (lab 2's version check left out)",
    file: 'server.ts',
    replace: [["    if (entry.version !== o.version) return { err: 'ErrVersion' };\n", '']],
    caughtBy: ['TestManyConcurrentClerkReliable5A', 'TestOneConcurrentClerkUnreliable5A'],
    cause: 'a put applied whatever its version',
  },
  {
    name: 'state-in-plain-object',
    description:
      'InstallShard rebuilds the keys in a plain object: a key named "__proto__" sets its prototype instead and is lost in the move',
    file: 'server.ts',
    replace: [
      [
        '    const kv = new Map<string, Entry>(\n      (JSON.parse(state) as Encoded).map(([k, value, version]) => [k, { value, version }]),\n    );',
        '    const byKey: Record<string, Entry> = {};\n    for (const [k, value, version] of JSON.parse(state) as Encoded) byKey[k] = { value, version };\n    const kv = new Map<string, Entry>(Object.entries(byKey));',
      ],
    ],
    caughtBy: ['TestNemesisShards5C', 'TestNemesisShardsSnapshots5C'],
    cause: 'keys kept in a plain object',
  },
  // ---- The controller: claims, fences, recovery ----
  {
    name: 'claim-without-number-check',
    description:
      'the controller puts the next configuration at the version it just read without checking that no controller claimed that number yet (a lock taken without looking at the version): two controllers publish different configurations with one number',
    file: 'ctrler.ts',
    replace: [["    if (r.err === 'OK' && ShardConfig.fromString(r.value).num >= next.num) return false;\n", '']],
    caughtBy: ['TestConcurrentReliable5C', 'TestAcquireLockConcurrentUnreliable5C'],
    cause: 'both moved shards for configurations of one number',
  },
  {
    name: 'claim-over-pending-number',
    description:
      'the claim refuses only a higher number: a controller overwrites a next configuration of the same number that another controller claimed and is moving to',
    file: 'ctrler.ts',
    replace: [
      [
        'ShardConfig.fromString(r.value).num >= next.num) return false;',
        'ShardConfig.fromString(r.value).num > next.num) return false;',
      ],
    ],
    caughtBy: ['TestConcurrentReliable5C', 'TestAcquireLockConcurrentUnreliable5C'],
    cause: 'both moved shards for configurations of one number',
  },
  {
    name: 'claim-trusts-errmaybe',
    description:
      "a claim answered ErrMaybe counts as won without reading the key again: on a lossy network another controller's claim may be the one that took effect",
    file: 'ctrler.ts',
    replace: [["    if (err === 'OK') return true;", "    if (err === 'OK' || err === 'ErrMaybe') return true;"]],
    caughtBy: ['TestLostClaim5C'],
    cause: 'an ErrMaybe answer to a claim taken as a win',
  },
  {
    name: 'superseded-ctrler-stores',
    description:
      'a controller stores its configuration at the version it reads at the end, whatever its moves said: one cut off and reconnected stores an old configuration over a newer one',
    file: 'ctrler.ts',
    replace: [
      ['    if (moved.includes(false)) return;\n', '    void moved;\n'],
      [
        '    await this.kv.put(CONFIG_KEY, next.toString(), version);',
        '    await this.kv.put(CONFIG_KEY, next.toString(), (await this.read(CONFIG_KEY)).version);',
      ],
    ],
    caughtBy: ['TestPartitionRecoveryReliableNoClerk5C'],
    cause: 'storing its configuration over a newer one',
  },
  {
    name: 'recovery-stores-without-moves',
    description:
      'initController stores the next configuration a failed controller left without doing its moves: shards it had frozen stay frozen, nobody serves them',
    file: 'ctrler.ts',
    replace: [
      [
        '    if (cfg.num === old.num + 1) await this.finish(old, cfg, version);',
        '    if (cfg.num === old.num + 1) await this.kv.put(CONFIG_KEY, cfg.toString(), version);',
      ],
    ],
    caughtBy: ['TestRecoverCtrler5B', 'TestPartitionControllerJoin5C'],
    cause: 'without doing its moves',
  },
  {
    name: 'delete-before-install',
    description:
      'the controller deletes a shard at its old owner before installing it at the new one: a controller that fails between the two loses the keys, only it had them',
    file: 'ctrler.ts',
    replace: [
      [
        "    if (to !== 0 && (await this.group(to, next).installShard(s, state, next.num, done))?.err !== 'OK') return false;\n    if (from !== 0 && (await this.group(from, old).deleteShard(s, next.num, done))?.err !== 'OK') return false;",
        "    if (from !== 0 && (await this.group(from, old).deleteShard(s, next.num, done))?.err !== 'OK') return false;\n    if (to !== 0 && (await this.group(to, next).installShard(s, state, next.num, done))?.err !== 'OK') return false;",
      ],
    ],
    caughtBy: ['TestPartitionControllerJoin5C'],
    cause: 'deleted at its old owner before it was installed at the new one',
  },
  {
    name: 'query-cached',
    description: "query() returns the configuration the controller read first: a clerk's controller never sees a move",
    file: 'ctrler.ts',
    replace: [
      [
        '    return (await this.read(CONFIG_KEY)).cfg;',
        '    return (this.cached ??= (await this.read(CONFIG_KEY)).cfg);',
      ],
      [
        '  private readonly groups = new Map<Gid, GroupClerk>();',
        '  private readonly groups = new Map<Gid, GroupClerk>();\n  private cached: ShardConfig | undefined;',
      ],
    ],
    caughtBy: ['TestJoinBasic5A'],
    cause: 'query() returns a copy it kept',
  },
  // ---- The clerks ----
  {
    name: 'clerk-waits-on-gone-group',
    description:
      'a get or put waits on a group that does not answer for as long as it takes, without reading the configuration again: a group that left and was shut down holds the clerk for ever',
    file: 'client.ts',
    replace: [['        PATIENCE_ROUNDS,\n', '        Infinity,\n']],
    caughtBy: ['TestPartitionRecoveryUnreliableNoClerk5C', 'TestPartitionRecoveryReliableNoClerk5C'],
    cause: 'a clerk waiting for ever on such a group',
  },
  {
    name: 'clerk-patience-twenty-rounds',
    description:
      'a get or put gives up on a group that does not answer only after 20 rounds of its servers (several seconds), not about a second: a clerk whose configuration names a group that left and was shut down stalls long after the keys moved',
    file: 'client.ts',
    replace: [['const PATIENCE_ROUNDS = 3;', 'const PATIENCE_ROUNDS = 20;']],
    caughtBy: ['TestProgressShutdown5A'],
    cause: 'for many more rounds than a few',
  },
  {
    name: 'clerk-errversion-across-groups',
    description:
      "a put re-sent to the shard's new owner and answered ErrVersion returns ErrVersion, though its first copy may have taken effect at the old owner (ErrMaybe across groups)",
    file: 'client.ts',
    replace: [["      if (err === 'ErrVersion' && tries > 1) return 'ErrMaybe';\n", '']],
    caughtBy: ['TestPutAcrossMove5A'],
    cause: '"sent more than once" counted per group',
  },
  {
    name: 'group-clerk-no-errmaybe',
    description: "the group clerk returns ErrVersion for a put it re-sent: lab 2's ErrMaybe rule left out",
    file: 'grpclerk.ts',
    replace: [["    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';\n", '']],
    caughtBy: ['TestManyJoinLeaveUnreliable5A', 'TestManyConcurrentClerkUnreliable5A'],
    cause: 'ErrVersion passed on after a lost reply',
  },
  // ---- Found by an independent writer of bugs: a number forgotten, a repeat refused, a restart mid-move, a busy loop ----
  {
    name: 'delete-forgets-number',
    description:
      'DeleteShard forgets the shard altogether, its configuration number too: a late copy of an older move finds no number to compare with and is carried out',
    file: 'server.ts',
    replace: [["    this.shards[s] = { status: 'gone', num, kv: new Map() };", '    this.shards[s] = undefined;']],
    caughtBy: ['TestLateInstall5A', 'TestNemesisShards5C', 'TestNemesisShardsSnapshots5C'],
    cause: 'that number not kept for a shard frozen or deleted',
  },
  {
    name: 'freeze-keeps-number',
    description:
      'FreezeShard stops serving the shard but does not record its configuration number: a late copy of the InstallShard that brought the shard here, arriving between the freeze and the delete, installs the old keys and serves them again',
    file: 'server.ts',
    replace: [['    shard.num = num;\n    this.shards[s] = shard;', '    this.shards[s] = shard;']],
    caughtBy: ['TestLateInstall5A'],
    cause: 'that number not kept for a shard frozen or deleted',
  },
  {
    name: 'store-at-current-version',
    description:
      'the controller stores the configuration at the version the key holds after the moves, read again, not at the one read before them: one cut off after its moves and reconnected after others changed the configuration twice stores an old configuration over the newest',
    file: 'ctrler.ts',
    replace: [
      [
        '    await this.kv.put(CONFIG_KEY, next.toString(), version);',
        '    await this.kv.put(CONFIG_KEY, next.toString(), (await this.read(CONFIG_KEY)).version);',
      ],
    ],
    caughtBy: ['TestLateStore5C'],
    cause: 'the configuration stored at a version read again after the moves',
  },
  {
    name: 'claim-exact-number',
    description:
      'the claim gives up only when the stored claim has exactly the number asked for, not a higher one: a controller whose reads came late writes its older claim over a newer one and moves shards for it',
    file: 'ctrler.ts',
    replace: [
      [
        "    if (r.err === 'OK' && ShardConfig.fromString(r.value).num >= next.num) return false;",
        "    if (r.err === 'OK' && ShardConfig.fromString(r.value).num === next.num) return false;",
      ],
    ],
    caughtBy: ['TestStaleClaim5C'],
    cause: 'not only exactly its number',
  },
  {
    name: 'giveup-after-number-passed',
    description:
      'a controller waiting on a group that does not answer gives up only once the stored configuration has passed its number, not once it has reached it: one whose change another controller finished, and whose group is down, waits for ever',
    file: 'ctrler.ts',
    replace: [
      [
        '    const done = async (): Promise<boolean> => (await this.read(CONFIG_KEY)).cfg.num >= next.num;',
        '    const done = async (): Promise<boolean> => (await this.read(CONFIG_KEY)).cfg.num > next.num;',
      ],
    ],
    caughtBy: ['TestStuckJoinGroupDown5C'],
    cause: 'give up once the stored configuration has reached your number',
  },
  {
    name: 'no-owner-installs-anyway',
    description:
      'a shard whose new owner is 0 (the last group left) is installed at group 0 like any other: the install goes to a group with no servers and never returns',
    file: 'ctrler.ts',
    replace: [
      [
        '    if (to !== 0 && (await this.group(to, next).installShard(s, state, next.num, done))',
        '    if ((await this.group(to, next).installShard(s, state, next.num, done))',
      ],
    ],
    caughtBy: ['TestEmptyConfig5A'],
    cause: 'a shard whose new owner is 0 (nobody) sent to group 0',
  },
  {
    name: 'delete-checks-served-only',
    description:
      'DeleteShard compares its number only when the shard is served: a late copy of an old delete empties a shard that came back and was frozen again for a newer move, and the repeated freeze hands over nothing',
    file: 'server.ts',
    replace: [
      [
        "    if (shard && num < shard.num) return { err: 'ErrOldConfig' };\n    if (shard?.status === 'serving' && shard.num === num) return { err: 'OK' };\n    this.shards[s] = { status: 'gone', num, kv: new Map() };",
        "    if (shard?.status === 'serving') return { err: shard.num > num ? 'ErrOldConfig' : 'OK' };\n    this.shards[s] = { status: 'gone', num: Math.max(num, shard?.num ?? 0), kv: new Map() };",
      ],
    ],
    caughtBy: ['TestLateDelete5A'],
    cause: 'when the shard is frozen or gone',
  },
  {
    name: 'giveup-not-while-deleting',
    description:
      'a controller gives up on a group that does not answer while it freezes and installs, but not while it deletes: one whose leave another controller finished, and whose leaving group is shut down, waits on its DeleteShard for ever',
    file: 'ctrler.ts',
    replace: [['deleteShard(s, next.num, done)', 'deleteShard(s, next.num, async () => false)']],
    caughtBy: ['TestStuckDeleteAfterLeave5C'],
    cause: 'give up once the stored configuration has reached your number',
  },
  {
    name: 'giveup-not-while-freezing',
    description:
      'a controller gives up on a group that does not answer while it installs and deletes, but not while it freezes: one whose leave another controller finished, and whose leaving group is shut down, waits on its FreezeShard for ever',
    file: 'ctrler.ts',
    replace: [['freezeShard(s, next.num, done)', 'freezeShard(s, next.num, async () => false)']],
    caughtBy: ['TestStuckFreezeAfterLeave5C'],
    cause: 'give up once the stored configuration has reached your number',
  },
  {
    name: 'freeze-repeat-refused',
    description:
      'FreezeShard refuses a number equal to the one the shard has seen, not only a lower one: a repeated freeze (a re-send after a lost reply, a controller finishing a change) is answered ErrOldConfig and the move given up',
    file: 'server.ts',
    replace: [
      [
        "    if (num < shard.num) return { err: 'ErrOldConfig' };\n    if (shard.status === 'serving') shard.status = 'frozen';",
        "    if (num <= shard.num) return { err: 'ErrOldConfig' };\n    if (shard.status === 'serving') shard.status = 'frozen';",
      ],
    ],
    caughtBy: ['TestManyJoinLeaveUnreliable5A', 'TestRecoverCtrler5B', 'TestConcurrentReliable5C'],
    cause: 'a repeated shard RPC refused',
  },
  {
    name: 'snapshot-drops-frozen-shards',
    description:
      'the snapshot saves only the shards the group serves: a server restarted in the middle of a move has forgotten the frozen shard, its keys and its number, and a repeated freeze hands over nothing',
    file: 'server.ts',
    replace: [
      [
        '      this.shards.map((sh) => (sh ? [sh.status, sh.num,',
        "      this.shards.map((sh) => (sh?.status === 'serving' ? [sh.status, sh.num,",
      ],
    ],
    caughtBy: ['TestLateInstall5A', 'TestNemesisShardsSnapshots5C'],
    cause: 'not in the snapshot (lost at a restart)',
  },
  {
    name: 'wrong-group-decided-in-handler',
    description:
      "Get and Put check that the group serves the key's shard when the RPC arrives, and doOp only that the shard exists: an operation in the log behind a freeze is applied to the frozen shard",
    file: 'server.ts',
    replace: [
      [
        '  Get(args: GetArgs): Promise<GetReply> {\n',
        "  async Get(args: GetArgs): Promise<GetReply> {\n    if (this.shards[key2shard(args.key)]?.status !== 'serving') return { err: 'ErrWrongGroup' };\n",
      ],
      [
        '  Put(args: PutArgs): Promise<PutReply> {\n',
        "  async Put(args: PutArgs): Promise<PutReply> {\n    if (this.shards[key2shard(args.key)]?.status !== 'serving') return { err: 'ErrWrongGroup' };\n",
      ],
      [
        "    if (shard?.status !== 'serving') return { err: 'ErrWrongGroup' };",
        "    if (!shard) return { err: 'ErrWrongGroup' };",
      ],
    ],
    caughtBy: ['TestWriteAcrossFreeze5A', 'TestShutdown5A'],
    cause: 'checked in the RPC handler',
  },
  {
    name: 'clerk-no-pause-after-wrong-group',
    description:
      'after ErrWrongGroup the clerk reads the configuration again at once: while a shard is frozen and its move not stored, every clerk on it loops on the group and on the configuration server as fast as they answer',
    file: 'client.ts',
    replace: [['    await sleep(WRONG_GROUP_PAUSE_MS);\n', '    void WRONG_GROUP_PAUSE_MS;\n    void sleep;\n']],
    caughtBy: ['TestManyConcurrentClerkReliable5A', 'TestOneConcurrentClerkReliable5A'],
    cause: 'reads the configuration again at once after ErrWrongGroup',
  },
  {
    name: 'config-stored-pretty',
    description:
      "initConfig stores the configuration as indented JSON rather than cfg.toString(): query still parses it, but lab 2's server does not hold what the handout says",
    file: 'ctrler.ts',
    replace: [
      [
        'await this.kv.put(CONFIG_KEY, cfg.toString(), 0);',
        'await this.kv.put(CONFIG_KEY, JSON.stringify(JSON.parse(cfg.toString()), null, 1), 0);',
      ],
    ],
    caughtBy: ['TestInitQuery5A'],
    cause: 'another form than cfg.toString()',
  },
  {
    name: 'get-always-wrong-group',
    description:
      "the Get handler answers ErrWrongGroup without asking the shard's state, even for the shards its group owns",
    file: 'server.ts',
    replace: [
      [
        "    return this.run<GetReply>({ op: 'get', key: args.key });",
        "    return Promise.resolve({ err: 'ErrWrongGroup' });",
      ],
    ],
    caughtBy: ['TestStaticOneShardGroup5A'],
    cause: "without looking at the shard's state",
  },
  {
    name: 'giveup-only-while-freezing',
    description:
      'only FreezeShard gives up once another controller finished the change: a controller stuck at an install to a group that has since left and been shut down waits for ever (from an independent round of bugs written from the handouts alone)',
    file: 'ctrler.ts',
    replace: [
      [
        '(await this.group(to, next).installShard(s, state, next.num, done))',
        '(await this.group(to, next).installShard(s, state, next.num))',
      ],
      [
        '(await this.group(from, old).deleteShard(s, next.num, done))',
        '(await this.group(from, old).deleteShard(s, next.num))',
      ],
    ],
    caughtBy: ['TestStuckJoinAfterLeave5C'],
    cause: 'give up once the stored configuration has reached your number',
  },
  {
    name: 'clerk-pauses-long-after-wrong-group',
    description:
      'the clerk pauses 1 s after ErrWrongGroup instead of about 50 ms: every call to a shard on the move waits far longer than it needs (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [['const WRONG_GROUP_PAUSE_MS = 50;', 'const WRONG_GROUP_PAUSE_MS = 1000;']],
    caughtBy: ['TestPartitionRecoveryUnreliableNoClerk5C'],
    cause: 'a pause far longer than the handout',
  },
  {
    name: 'ctrler-keeps-shards-left-to-nobody',
    description:
      'the controller freezes a shard whose new owner is 0 (nobody) but never deletes it: the last group to leave keeps every key for good (from an independent round of bugs written from the handouts alone)',
    file: 'ctrler.ts',
    replace: [
      [
        "if (from !== 0 && (await this.group(from, old).deleteShard(s, next.num, done))?.err !== 'OK') return false;",
        "if (from !== 0 && to !== 0 && (await this.group(from, old).deleteShard(s, next.num, done))?.err !== 'OK') return false;",
      ],
    ],
    caughtBy: ['TestEmptyConfig5A'],
    cause: 'a shard whose new owner is 0 is frozen and deleted',
  },
  {
    name: 'ctrler-gives-up-on-silent-group',
    description:
      'a shard RPC of the controller gives up after 20 rounds of a group without an answer (about 5 s), the change unfinished: a join while the old owner is down a little longer returns undone (from an independent round of bugs written from the handouts alone)',
    file: 'ctrler.ts',
    replace: [
      [
        'const done = async (): Promise<boolean> => (await this.read(CONFIG_KEY)).cfg.num >= next.num;',
        'let silentRounds = 0;\n    const done = async (): Promise<boolean> =>\n      ++silentRounds >= 20 || (await this.read(CONFIG_KEY)).cfg.num >= next.num;',
      ],
    ],
    caughtBy: ['TestJoinLeave5B'],
    cause: 'gives up on a group after some rounds',
  },
  {
    name: 'ctrler-gives-up-after-25-seconds',
    description:
      'a shard RPC of the controller gives up after 100 rounds of a group without an answer (about 25 s), the change unfinished: a join while the old owner is down for half a minute returns undone (from an independent round of bugs written from the handouts alone)',
    file: 'ctrler.ts',
    replace: [
      [
        'const done = async (): Promise<boolean> => (await this.read(CONFIG_KEY)).cfg.num >= next.num;',
        'let silentRounds = 0;\n    const done = async (): Promise<boolean> =>\n      ++silentRounds >= 100 || (await this.read(CONFIG_KEY)).cfg.num >= next.num;',
      ],
    ],
    caughtBy: ['TestJoinLeave5B'],
    cause: 'gives up on a group after some rounds',
  },
  {
    name: 'ctrler-skips-change-without-moves',
    description:
      'changeConfigTo returns at once when no shard changes owner, storing nothing: the configuration number never moves on (from a red-team review)',
    file: 'ctrler.ts',
    replace: [
      [
        '    const moved = await Promise.all(moves.map((s) => this.move(s, old, next)));',
        '    if (moves.length === 0) return;\n    const moved = await Promise.all(moves.map((s) => this.move(s, old, next)));',
      ],
    ],
    caughtBy: ['TestEmptyConfig5A'],
    cause: 'a change that moves no shard',
  },
  {
    name: 'group-clerk-assumes-3-servers',
    description:
      'the group clerk tries servers 0 to 2 only, as if every group had three: in a group of five it never finds a leader at server 3 or 4 (from a red-team review)',
    file: 'grpclerk.ts',
    replace: [
      [
        '      for (let tried = 0; tried < this.servers.length; tried++) {',
        '      for (let tried = 0; tried < 3; tried++) {',
      ],
      [
        '        this.leader = (this.leader + 1) % this.servers.length;',
        '        this.leader = (this.leader + 1) % 3;',
      ],
    ],
    caughtBy: ['TestManyJoinLeaveReliable5A', 'TestManyJoinLeaveUnreliable5A', 'TestNemesisShards5C'],
    cause: 'a number of servers the code assumes',
  },
  {
    name: 'clerk-no-owner-is-errnokey',
    description:
      "the clerk's get answers ErrNoKey itself, asking no server, when its kept configuration gives the key's shard to no group (from a red-team review)",
    file: 'client.ts',
    replace: [
      [
        '  async get(key: string): Promise<GetResult> {\n    for (;;) {\n',
        "  async get(key: string): Promise<GetResult> {\n    for (;;) {\n      const known = this.cfg ?? (this.cfg = await this.ctrler.query());\n      if (known.shards[key2shard(key)] === 0) return { err: 'ErrNoKey' };\n",
      ],
    ],
    caughtBy: ['TestEmptyConfig5A'],
    cause: 'answering from a copy on the client',
  },
];
