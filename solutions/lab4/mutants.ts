/** Deliberately broken versions of the lab 4 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../../tester/mutants';

export const mutants: Mutant[] = [
  {
    name: 'ack-early',
    description: 'the leader acknowledges a write when W-1 followers hold it',
    file: 'server.ts',
    replace: [['const quorumSeq = matches[this.config.quorum - 1];', 'const quorumSeq = matches[this.config.quorum - 2] ?? matches[0];']],
    caughtBy: ['TestAckAfterQuorum'],
  },
  {
    name: 'apply-before-replication',
    description: "the leader applies a write to its data as soon as it arrives (the seed's design)",
    file: 'server.ts',
    replace: [['    this.log.push(entry);\n', '    this.log.push(entry);\n    this.data.set(args.key, args.value);\n']],
    caughtBy: ['TestNoQuorumFails'],
  },
  {
    name: 'follower-accepts-writes',
    description: 'a follower takes writes instead of refusing them',
    file: 'server.ts',
    replace: [["if (this.config.role !== 'leader') {\n      return { err: 'ErrNotLeader'", "if (this.config.role === 'nobody' as string) {\n      return { err: 'ErrNotLeader'"]],
    caughtBy: ['TestFollowerRefusesWrites'],
  },
  {
    name: 'follower-applies-blindly',
    description: 'a follower applies every entry it receives, duplicates and gaps included',
    file: 'server.ts',
    replace: [
      [
        '      if (e.seq <= this.applied) continue; // already held: a re-sent batch\n      if (e.seq !== this.applied + 1) break; // not consecutive: keep the prefix we could apply\n',
        '',
      ],
      ['      this.applied = e.seq;', '      this.applied = Math.max(this.applied, e.seq);'],
    ],
    caughtBy: ['TestFollowerAppliesInOrder'],
  },
  {
    name: 'no-gap-check',
    description: 'a follower answers OK to entries that start after a gap',
    file: 'server.ts',
    replace: [["if (entries.length > 0 && entries[0].seq > this.applied + 1) return { err: 'ErrGap', lastSeq: this.applied };", '']],
    caughtBy: ['TestFollowerAppliesInOrder'],
  },
  {
    name: 'replicate-to-quorum-only',
    description: 'the leader sends the log only to the first W followers',
    file: 'server.ts',
    replace: [['for (const f of this.followers) void this.replicateTo(f);', 'for (const f of this.followers.slice(0, config.quorum)) void this.replicateTo(f);']],
    caughtBy: ['TestFollowerReadsEventually', 'TestFollowerCatchUp'],
  },
  {
    name: 'fire-and-forget',
    description: 'a batch that got no answer is never sent again, so a follower that missed it stays behind',
    file: 'server.ts',
    replace: [
      ['        // Lost, or the follower is unreachable: try again a little later, from the same place.\n', '        next += entries.length;\n'],
      ['      next = reply.lastSeq + 1;', '      next = Math.max(next, reply.lastSeq + 1);'],
    ],
    caughtBy: ['TestFollowerCatchUp', 'TestSeedLoadUnreliable', 'TestNoQuorumFails'],
  },
  {
    name: 'no-write-timeout',
    description: 'a write without a quorum waits forever instead of failing',
    file: 'server.ts',
    replace: [['        }, this.config.writeTimeoutMs),', '        }, 1e9),']],
    caughtBy: ['TestNoQuorumFails'],
  },
  {
    name: 'wait-for-all',
    description: 'the leader waits for every follower, whatever W is',
    file: 'server.ts',
    replace: [['const quorumSeq = matches[this.config.quorum - 1];', 'const quorumSeq = matches[this.followers.length - 1];']],
    caughtBy: ['TestQuorumLatency', 'TestNoQuorumFails'],
  },
  {
    name: 'no-max-batch',
    description: 'the leader sends a follower every entry it lacks in one call, ignoring maxBatch and the byte bound',
    file: 'server.ts',
    replace: [['const entries = nextBatch(this.log, next, this.config.maxBatch, MAX_BATCH_BYTES);', 'const entries = this.log.slice(next - 1);']],
    caughtBy: ['TestFollowerCatchUp', 'TestRealHttpCatchUp'],
  },
  {
    name: 'batch-by-entries-only',
    description: 'a batch is bounded by maxBatch entries but not by bytes, so a catch-up call with large values exceeds the HTTP body limit',
    file: 'server.ts',
    replace: [['const entries = nextBatch(this.log, next, this.config.maxBatch, MAX_BATCH_BYTES);', 'const entries = nextBatch(this.log, next, this.config.maxBatch, Infinity);']],
    caughtBy: ['TestRealHttpCatchUp'],
  },
];
