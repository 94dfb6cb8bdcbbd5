/** Deliberately broken versions of the lab 3 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../../tester/mutants';

export const mutants: Mutant[] = [
  {
    name: 'linearizable-local-reads',
    description: 'linearizable mode answers reads from the local copy instead of through the totally ordered broadcast',
    file: 'server.ts',
    replace: [["const local = this.level !== 'linearizable';", 'const local = true;']],
    caughtBy: ['TestNoStaleReadLinearizable', 'TestLinearizableConcurrent'],
  },
  {
    name: 'deliver-without-all-acks',
    description: 'the broadcast delivers the head of the queue once any one server acknowledged it, not every server',
    file: 'server.ts',
    replace: [['if (acked < this.peers.length) break;', 'if (acked < 1) break;']],
    caughtBy: ['TestSequentialTextbook', 'TestSequentialConcurrent', 'TestLinearizableConcurrent', 'TestReorderingLinks'],
  },
  {
    name: 'tie-break-ignores-server',
    description: 'last-writer-wins compares (timestamp, value) and ignores the server id',
    file: 'server.ts',
    replace: [['  if (a.ts.server !== b.ts.server) return a.ts.server > b.ts.server;\n', '']],
    caughtBy: ['TestEventualTieBreak'],
  },
  {
    name: 'no-fifo',
    description: 'messages from a peer are handled in arrival order, although the links may reorder them',
    file: 'server.ts',
    replace: [['if (env.seq < this.nextRecvSeq[from] || this.early[from].has(env.seq)) return {}; // a duplicate from a re-send', 'this.receive(from, env.body);\n    return {};']],
    caughtBy: ['TestReorderingLinks'],
  },
  {
    name: 'sequential-reads-broadcast',
    description: 'sequential mode sends reads through the broadcast too (correct, but as slow as linearizable)',
    file: 'server.ts',
    replace: [["const local = this.level !== 'linearizable';", "const local = this.level === 'eventual';"]],
    caughtBy: ['TestStaleReadSequential', 'TestLatencyOrder'],
  },
  {
    name: 'eventual-through-broadcast',
    description: 'eventual mode orders writes through the broadcast instead of answering at once',
    file: 'server.ts',
    replace: [["if (this.level === 'eventual') {", "if (this.level === ('none' as ConsistencyLevel)) {"]],
    caughtBy: ['TestLatencyOrder'],
  },
];
