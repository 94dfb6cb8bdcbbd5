/** Correct variants of lab 7's reference: other right ways to write it, which no test may fail. */
import type { Variant } from '../mutants';

export const variants: readonly Variant[] = [
  {
    name: 'moves-one-at-a-time',
    description:
      'the controller moves the shards one after another instead of all at once: slower, but every shard still ' +
      'goes freeze, install, delete before the configuration is stored',
    file: 'ctrler.ts',
    replace: [
      [
        '    const moved = await Promise.all(moves.map((s) => this.move(s, old, next)));',
        '    const moved: boolean[] = [];\n    for (const s of moves) moved.push(await this.move(s, old, next));',
      ],
    ],
    passes: [
      'TestJoinBasic5A',
      'TestManyJoinLeaveUnreliable5A',
      'TestProgressJoin5A',
      'TestManyConcurrentClerkUnreliable5A',
      'TestConcurrentReliable5C',
      'TestPartitionRecoveryReliableNoClerk5C',
    ],
  },
  {
    name: 'claim-at-number-version',
    description:
      'the controller claims configuration N by putting it under the next key at version N - 2 without reading the ' +
      'key first (the key is written once per configuration, from configuration 2 at version 0 on): the version ' +
      'itself says whether number N is still free, so the other controllers get ErrVersion just the same',
    file: 'ctrler.ts',
    replace: [
      [
        "    const r = await this.kv.get(NEXT_KEY);\n    if (r.err === 'OK' && ShardConfig.fromString(r.value).num >= next.num) return false;\n    const err = await this.kv.put(NEXT_KEY, next.toString(), r.err === 'OK' ? r.version : 0);",
        '    const err = await this.kv.put(NEXT_KEY, next.toString(), next.num - 2);',
      ],
    ],
    passes: [
      'TestConcurrentReliable5C',
      'TestAcquireLockConcurrentUnreliable5C',
      'TestLostClaim5C',
      'TestRecoverCtrler5B',
    ],
  },
];
