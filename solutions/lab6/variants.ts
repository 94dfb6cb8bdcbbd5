/** Correct variants of lab 6's reference: other right ways to write it, which no test may fail. */
import type { Variant } from '../mutants';

export const variants: readonly Variant[] = [
  {
    name: 'staggered-vote-requests',
    description:
      'a candidate builds its RequestVote arguments once and sends each one after a random 5-65 ms wait, so a ' +
      'request can leave after the candidate already moved to a later term: stale, but harmless',
    file: 'raft.ts',
    replace: [
      [
        "      reply = await this.peers[peer].call<RequestVoteReply>('Raft.RequestVote', args);",
        '      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 60));\n' +
          '      if (this.killed) return;\n' +
          "      reply = await this.peers[peer].call<RequestVoteReply>('Raft.RequestVote', args);",
      ],
    ],
    passes: ['TestNemesisRaft', 'TestNemesisSnapshots', 'TestReElection', 'TestFigure8Unreliable'],
  },
];
