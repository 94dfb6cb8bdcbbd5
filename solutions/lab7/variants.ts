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
        '    await Promise.all(moves.map((s) => this.move(s, old, next)));',
        '    for (const s of moves) await this.move(s, old, next);',
      ],
    ],
    passes: [
      'TestJoinBasic5A',
      'TestManyJoinLeaveUnreliable5A',
      'TestProgressJoin5A',
      'TestManyConcurrentClerkUnreliable5A',
    ],
  },
];
