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
  {
    name: 'json-message-bodies',
    description:
      "every message body travels between servers as a JSON string, parsed by the receiver: a write's value is then " +
      'inside a string, which the handout allows and TestOvertakenBroadcast must still find (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '  Peer(env: Envelope): Record<string, never> {',
        '  Peer(wire: Envelope): Record<string, never> {\n' +
          "    const env = { ...wire, body: (typeof wire.body === 'string' ? JSON.parse(wire.body) : wire.body) as Body };",
      ],
      [
        "this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "this.peers[to].call('KVServer.Peer', { ...env, body: JSON.stringify(env.body) }).catch(() => setTimeout(attempt, RESEND_MS));",
      ],
    ],
    passes: ['TestOvertakenBroadcast', 'TestNemesisSequential', 'TestBasic'],
  },
];
