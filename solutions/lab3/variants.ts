/** Correct variants of lab 3's reference: other right ways to write it, which no test may fail. */
import type { Variant } from '../mutants';

export const variants: readonly Variant[] = [
  {
    name: 'linearizable-read-local-when-idle',
    description:
      'a linearizable read is answered from the local copy while the hold-back queue is empty, else through the ' +
      'broadcast. Still linearizable: a write (or read) that finished was delivered at its server, so every server ' +
      'acknowledged it, so this one had received it; with the queue empty it has been delivered here too. Written as ' +
      'a bug by an independent round of bugs written from the handouts alone; no schedule makes it stale',
    file: 'server.ts',
    replace: [
      [
        "const local = this.level !== 'linearizable';",
        "const local = this.level !== 'linearizable' || this.queue.length === 0;",
      ],
    ],
    passes: [
      'TestNoStaleReadLinearizable',
      'TestLinearizableReadAfterRemoteWrite',
      'TestLinearizableConcurrent',
      'TestModelConsistency',
      'TestNemesisLinearizable',
      'TestLatencyOrder',
    ],
  },
];
