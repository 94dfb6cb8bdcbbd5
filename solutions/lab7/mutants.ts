/**
 * Deliberately broken versions of the lab 7 reference: the classic mistakes of a shard group, its controller and
 * its clerk; each must fail a named test.
 */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'freeze-keeps-serving',
    description:
      'FreezeShard hands the keys over but the old owner goes on serving the shard: its later writes are lost',
    file: 'server.ts',
    replace: [["    if (shard.status === 'serving') shard.status = 'frozen';\n", '']],
    caughtBy: ['TestJoinBasic5A', 'TestJoinLeaveBasic5A', 'TestManyJoinLeaveReliable5A'],
  },
  {
    name: 'freeze-returns-no-keys',
    description:
      'FreezeShard returns an empty state: the shard arrives at its new owner without its keys (a lost shard)',
    file: 'server.ts',
    replace: [["    return { err: 'OK', state: JSON.stringify(encoded) };", "    return { err: 'OK', state: '[]' };"]],
    caughtBy: ['TestJoinBasic5A', 'TestJoinLeaveBasic5A', 'TestManyJoinLeaveReliable5A'],
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
    caughtBy: ['TestDeleteBasic5A'],
  },
  {
    name: 'ctrler-never-deletes',
    description: 'the controller freezes and installs but never calls DeleteShard: moved shards stay in memory',
    file: 'ctrler.ts',
    replace: [['    if (from !== 0) await this.group(from, old).deleteShard(s, next.num);\n', '']],
    caughtBy: ['TestDeleteBasic5A'],
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
  },
  {
    name: 'snapshot-forgets-status',
    description:
      'the snapshot restores every shard it holds as served: after a restart a group serves the shards it froze',
    file: 'server.ts',
    replace: [['        ? { status: d[0], num: d[1], kv:', "        ? { status: 'serving', num: d[1], kv:"]],
    caughtBy: ['TestShutdown5A'],
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
  },
  {
    name: 'no-recovery',
    description:
      'initController does nothing: a change a failed controller left half done stays so (frozen shards nobody serves)',
    file: 'ctrler.ts',
    replace: [['    if (cfg.num === old.num + 1) await this.finish(old, cfg, version);\n', '    void cfg;\n']],
    caughtBy: ['TestRecoverCtrler5B'],
  },
  {
    name: 'next-stored-after-moves',
    description:
      'the controller stores the configuration it moves to only after the moves: a controller that fails midway leaves no trace of them',
    file: 'ctrler.ts',
    replace: [
      [
        '    await this.storeNext(next);\n    await this.finish(old, next, version);',
        '    await this.finish(old, next, version);\n    await this.storeNext(next);',
      ],
    ],
    caughtBy: ['TestRecoverCtrler5B'],
  },
  {
    name: 'publish-before-moves',
    description:
      'the controller stores the new configuration before it moves the shards: clerks and the next controller take the move for done',
    file: 'ctrler.ts',
    replace: [
      [
        '    await Promise.all(moves.map((s) => this.move(s, old, next)));\n    const err = await this.kv.put(CONFIG_KEY, next.toString(), version);',
        '    const err = await this.kv.put(CONFIG_KEY, next.toString(), version);\n    await Promise.all(moves.map((s) => this.move(s, old, next)));',
      ],
    ],
    caughtBy: ['TestRecoverCtrler5B'],
  },
];
