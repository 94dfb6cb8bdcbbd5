/** Deliberately broken versions of the lab 3 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'ts-key-assumes-few-servers',
    description:
      "a timestamp's key in the acknowledgement and waiting tables is clock * 10 + server, unique only while there are fewer than 10 servers: in a cluster of 10 or more, two messages share a key and their acknowledgements mix (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [['  return `${ts.clock}.${ts.server}`;\n', '  return String(ts.clock * 10 + ts.server);\n']],
    caughtBy: ['TestManyServersAtOnce'],
    cause: 'two timestamps given one key',
  },
  {
    name: 'eventual-skips-held-value',
    description:
      'at the eventual level, a write of the value the server already shows is answered at once and neither stamped nor sent: a later write by another server that reached the others first wins there, and here when it arrives',
    file: 'server.ts',
    replace: [
      [
        "    if (this.level === 'eventual') {\n      const ts = { clock: ++this.clock, server: this.me };\n",
        "    if (this.level === 'eventual') {\n      if (this.store.get(args.key)?.value === args.value) return { ok: true };\n      const ts = { clock: ++this.clock, server: this.me };\n",
      ],
    ],
    caughtBy: ['TestEventualRewrite'],
    cause: 'a write of the value the server already shows is skipped',
  },
  {
    name: 'ts-key-without-separator',
    description:
      'a timestamp\'s key in the acknowledgement and waiting tables is its clock and server id written one after the other, so clock 1 of server 10 and clock 11 of server 0 share the key "110": two messages\' acknowledgements mix once ids reach two digits and the clocks of the servers drift ten apart',
    file: 'server.ts',
    replace: [['  return `${ts.clock}.${ts.server}`;\n', '  return `${ts.clock}${ts.server}`;\n']],
    caughtBy: ['TestManyServersAtOnce'],
    cause: 'two timestamps given one key',
  },
  {
    name: 'failed-messages-kept',
    description:
      "a message whose first call failed goes into a table of unsent messages, to be re-sent from there, and stays in it once delivered: the table grows with every refused call over the server's life (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        "      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "      this.peers[to].call('KVServer.Peer', env).catch(() => {\n        this.unsent.set(`${to}:${env.seq}`, env);\n        setTimeout(attempt, RESEND_MS);\n      });",
      ],
      [
        '  private readonly waiting = new Map<string, (value: string) => void>();\n',
        '  private readonly waiting = new Map<string, (value: string) => void>();\n  private readonly unsent = new Map<string, Envelope>();\n',
      ],
    ],
    caughtBy: ['TestMemManyOps'],
    cause: 'messages kept after a failed call',
  },
  {
    name: 'peer-call-gives-up-after-five',
    description:
      'a failed peer call is re-sent at most five times, then dropped: a peer that refuses calls for longer than half a second never gets the message (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        "    const attempt = (): void => {\n      // Lost or refused (a real peer not started yet): try again later; the receiver drops duplicates.\n      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "    let tries = 0;\n    const attempt = (): void => {\n      this.peers[to].call('KVServer.Peer', env).catch(() => {\n        if (++tries <= 5) setTimeout(attempt, RESEND_MS);\n      });",
      ],
    ],
    caughtBy: ['TestNemesisLinearizable', 'TestNemesisSequential', 'TestNemesisEventual'],
    cause: 'gives up after a few tries',
  },
  {
    name: 'peer-call-gives-up-after-200',
    description:
      'a failed peer call is re-sent at most 200 times (20 s), then dropped: a peer that refuses calls for longer never gets the message (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        "    const attempt = (): void => {\n      // Lost or refused (a real peer not started yet): try again later; the receiver drops duplicates.\n      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "    let tries = 0;\n    const attempt = (): void => {\n      this.peers[to].call('KVServer.Peer', env).catch(() => {\n        if (++tries <= 200) setTimeout(attempt, RESEND_MS);\n      });",
      ],
    ],
    caughtBy: ['TestNemesisLinearizable', 'TestNemesisSequential', 'TestNemesisEventual'],
    cause: 'sent again only a fixed number of times',
  },
  {
    name: 'linearizable-local-reads',
    description: 'linearizable mode answers reads from the local copy instead of through the totally ordered broadcast',
    file: 'server.ts',
    replace: [["const local = this.level !== 'linearizable';", 'const local = true;']],
    caughtBy: ['TestNoStaleReadLinearizable', 'TestLinearizableConcurrent'],
    cause: 'a read answered from the local copy instead of through the broadcast',
  },
  {
    name: 'deliver-without-all-acks',
    description: 'the broadcast delivers the head of the queue once any one server acknowledged it, not every server',
    file: 'server.ts',
    replace: [['if (acked < this.peers.length) break;', 'if (acked < 1) break;']],
    caughtBy: [
      'TestSequentialTextbook',
      'TestSequentialConcurrent',
      'TestLinearizableConcurrent',
      'TestReorderingLinks',
    ],
    cause: 'a message delivered before every server (itself included) acknowledged it',
  },
  {
    name: 'tie-break-ignores-server',
    description: 'last-writer-wins compares (timestamp, value) and ignores the server id',
    file: 'server.ts',
    replace: [['  if (a.ts.server !== b.ts.server) return a.ts.server > b.ts.server;\n', '']],
    caughtBy: ['TestEventualTieBreak'],
    cause: 'the tie must be broken by the server id',
  },
  {
    name: 'no-fifo',
    description: 'messages from a peer are handled in arrival order, although the links may reorder them',
    file: 'server.ts',
    replace: [
      [
        'if (env.seq < this.nextRecvSeq[from] || this.early[from].has(env.seq)) return {}; // a duplicate from a re-send',
        'this.receive(from, env.body);\n    return {};',
      ],
    ],
    caughtBy: ['TestOvertakenBroadcast', 'TestReorderingLinks'],
    cause: 'are handled in arrival order',
  },
  {
    name: 'sequential-reads-broadcast',
    description: 'sequential mode sends reads through the broadcast too (correct, but as slow as linearizable)',
    file: 'server.ts',
    replace: [["const local = this.level !== 'linearizable';", "const local = this.level === 'eventual';"]],
    caughtBy: ['TestStaleReadSequential', 'TestLatencyOrder'],
    cause: 'a read must be answered from the local copy at once',
  },
  {
    name: 'eventual-through-broadcast',
    description: 'eventual mode orders writes through the broadcast instead of answering at once',
    file: 'server.ts',
    replace: [["if (this.level === 'eventual') {", "if (this.level === ('none' as ConsistencyLevel)) {"]],
    caughtBy: ['TestLatencyOrder'],
    cause: 'it must be answered from the local copy without waiting for other servers',
  },
  {
    name: 'eventual-write-not-ticked',
    description:
      'eventual mode stamps a client write with the current clock without ticking it first, so two writes by one server tie and the value decides',
    file: 'server.ts',
    replace: [
      [
        'const ts = { clock: ++this.clock, server: this.me };\n      this.applyIfNewer(',
        'const ts = { clock: this.clock, server: this.me };\n      this.applyIfNewer(',
      ],
    ],
    caughtBy: ['TestOwnLatestWrite'],
    cause: 'the Lamport clock is not ticked before each write',
  },
  {
    name: 'eventual-clock-ignores-receipt',
    description:
      "a propagated write only ticks the receiver's clock (clock + 1) instead of jumping past the sender's (max(clock, received) + 1)",
    file: 'server.ts',
    replace: [
      [
        'this.clock = Math.max(this.clock, body.ts.clock) + 1;\n        this.applyIfNewer(',
        'this.clock = this.clock + 1;\n        this.applyIfNewer(',
      ],
    ],
    caughtBy: ['TestEventualCausalWrite'],
    cause: 'the clock is only incremented on receipt (clock + 1)',
  },
  {
    name: 'eventual-receipt-keeps-clock',
    description:
      "a propagated write is applied without moving the receiver's clock, so a server that has only received writes stamps its next write with clock 1",
    file: 'server.ts',
    replace: [
      [
        "      case 'update':\n        this.clock = Math.max(this.clock, body.ts.clock) + 1;\n",
        "      case 'update':\n",
      ],
    ],
    // TestEventualCausalWrite's overwrite comes from the lower server id, so equal clocks cannot save it.
    caughtBy: ['TestEventualCausalWrite', 'TestEventualOverwriteSeen'],
    cause: 'the clock does not move when a propagated write arrives',
  },
  {
    name: 'eventual-last-arrival-wins',
    description: 'eventual mode keeps whichever write arrived last instead of the one with the largest timestamp',
    file: 'server.ts',
    replace: [
      ['if (!cur || newer(entry, cur)) this.store.set(key, entry);', 'void cur;\n    this.store.set(key, entry);'],
    ],
    caughtBy: ['TestEventualLastWriterWins'],
    cause: 'the last write to arrive wins instead of the largest timestamp',
  },
  {
    name: 'eventual-server-id-first',
    description: 'last-writer-wins compares the server id before the Lamport clock',
    file: 'server.ts',
    replace: [
      [
        '  if (a.ts.clock !== b.ts.clock) return a.ts.clock > b.ts.clock;\n  if (a.ts.server !== b.ts.server) return a.ts.server > b.ts.server;\n',
        '  if (a.ts.server !== b.ts.server) return a.ts.server > b.ts.server;\n  if (a.ts.clock !== b.ts.clock) return a.ts.clock > b.ts.clock;\n',
      ],
    ],
    caughtBy: ['TestEventualLastWriterWins'],
    cause: 'the server id is compared before the clock',
  },
  {
    name: 'sequential-apply-before-order',
    description:
      "a server applies its own client's write to its copy at once, before the broadcast delivers it in its turn",
    file: 'server.ts',
    replace: [
      [
        "    await this.broadcast({ kind: 'write', key: args.key, value: args.value });",
        "    this.store.set(args.key, { value: args.value, ts: { clock: this.clock + 1, server: this.me } });\n    await this.broadcast({ kind: 'write', key: args.key, value: args.value });",
      ],
    ],
    caughtBy: ['TestSequentialOwnWriteInOrder'],
    cause: "applies its own client's write at once instead of when the broadcast delivers it",
  },
  {
    name: 'write-answered-when-sent',
    description: 'a write is answered as soon as it is broadcast, before this server delivered (applied) it',
    file: 'server.ts',
    replace: [
      [
        "    await this.broadcast({ kind: 'write', key: args.key, value: args.value });",
        "    void this.broadcast({ kind: 'write', key: args.key, value: args.value });",
      ],
    ],
    caughtBy: ['TestOwnLatestWrite', 'TestBasic'],
    cause: 'the write is answered before this server applied it',
  },
  {
    name: 'queue-in-arrival-order',
    description: 'the hold-back queue keeps broadcasts in arrival order instead of sorting them by (clock, server id)',
    file: 'server.ts',
    replace: [
      [
        'this.queue.splice(at < 0 ? this.queue.length : at, 0, { ts: body.ts, op: body.op });',
        'void at;\n        this.queue.push({ ts: body.ts, op: body.op });',
      ],
    ],
    caughtBy: ['TestSequentialOwnWriteInOrder'],
    cause: 'the hold-back queue not sorted by (clock, server id)',
  },
  {
    name: 'queue-ties-by-arrival',
    description:
      'the hold-back queue sorts by Lamport clock only, so broadcasts with equal clocks stay in arrival order',
    file: 'server.ts',
    replace: [['return a.clock - b.clock || a.server - b.server;', 'return a.clock - b.clock;']],
    caughtBy: ['TestSequentialOwnWriteInOrder'],
    cause: 'ties broken by arrival order',
  },
  {
    name: 'deliver-one-ack-short',
    description:
      "the head of the queue is delivered once all servers but one acknowledged it (the server forgets to count its own ack, or someone else's)",
    file: 'server.ts',
    replace: [['if (acked < this.peers.length) break;', 'if (acked < this.peers.length - 1) break;']],
    caughtBy: ['TestSequentialOwnWriteInOrder'],
    cause: 'does not count its own acknowledgement',
  },
  {
    name: 'linearizable-read-value-at-start',
    description:
      'a linearizable read goes through the broadcast but answers with the value it found when the read arrived, not the value when it is delivered',
    file: 'server.ts',
    replace: [
      [
        "    const value = await this.broadcast({ kind: 'read', key: args.key });\n    return { value };",
        "    const before = this.store.get(args.key)?.value ?? '';\n    await this.broadcast({ kind: 'read', key: args.key });\n    return { value: before };",
      ],
    ],
    caughtBy: ['TestNoStaleReadLinearizable'],
    cause: 'the value it found when it arrived',
  },
  {
    name: 'early-ack-dropped',
    description:
      'an acknowledgement that arrives before the message it acknowledges is dropped instead of kept by timestamp',
    file: 'server.ts',
    replace: [
      [
        '        const key = tsKey(body.of);\n',
        '        const key = tsKey(body.of);\n        if (!this.queue.some((q) => tsKey(q.ts) === key)) break;\n',
      ],
    ],
    caughtBy: ['TestOvertakenBroadcast'],
    cause: 'an acknowledgement that arrives before the message it acknowledges is dropped',
  },
  {
    name: 'linearizable-write-answered-when-sent',
    description:
      'linearizable mode answers a write as soon as it is broadcast (reads still go through the total order)',
    file: 'server.ts',
    replace: [
      [
        "    await this.broadcast({ kind: 'write', key: args.key, value: args.value });",
        "    if (this.level === 'linearizable') void this.broadcast({ kind: 'write', key: args.key, value: args.value });\n    else await this.broadcast({ kind: 'write', key: args.key, value: args.value });",
      ],
    ],
    caughtBy: ['TestLinearizableReadAfterRemoteWrite', 'TestLinearizableConcurrent'],
    cause: 'the write is answered before its own server delivered it',
  },
  {
    name: 'linearizable-read-at-receipt',
    description:
      'a linearizable read is answered when its broadcast comes back to its own server, before the total order delivers it',
    file: 'server.ts',
    replace: [
      [
        '        const clock = ++this.clock;\n',
        "        const clock = ++this.clock;\n        const mine = from === this.me && body.op.kind === 'read' ? this.waiting.get(tsKey(body.ts)) : undefined;\n        if (mine && body.op.kind === 'read') {\n          this.waiting.delete(tsKey(body.ts));\n          mine(this.store.get(body.op.key)?.value ?? '');\n        }\n",
      ],
    ],
    caughtBy: ['TestLinearizableReadAfterRemoteWrite', 'TestNoStaleReadLinearizable'],
    cause: 'when its broadcast comes back to its own server',
  },
  {
    name: 'sequential-read-sees-queued-own-write',
    description:
      "a sequential read returns its own server's newest write to the key while that write still waits in the queue, undelivered",
    file: 'server.ts',
    replace: [
      [
        "    if (local) return { value: this.store.get(args.key)?.value ?? '' };",
        "    if (local && this.level === 'sequential') {\n      for (let i = this.queue.length - 1; i >= 0; i--) {\n        const q = this.queue[i];\n        if (q.ts.server === this.me && q.op.kind === 'write' && q.op.key === args.key) return { value: q.op.value };\n      }\n    }\n    if (local) return { value: this.store.get(args.key)?.value ?? '' };",
      ],
    ],
    caughtBy: ['TestSequentialReadsDelivered'],
    cause: 'looks at writes still waiting in the queue',
  },
  {
    name: 'sequential-writes-eventual-style',
    description: 'sequential writes are applied at once and propagated afterwards, as at the eventual level',
    file: 'server.ts',
    replace: [["    if (this.level === 'eventual') {", "    if (this.level !== 'linearizable') {"]],
    caughtBy: ['TestSequentialWritesOrdered'],
    cause: 'applied at once, as at the eventual level',
  },
  {
    name: 'eventual-clock-catches-up-on-read',
    description:
      'at the eventual level the clock jumps past a received write only when a read returns it, not when it arrives',
    file: 'server.ts',
    replace: [
      [
        "      case 'update':\n        this.clock = Math.max(this.clock, body.ts.clock) + 1;\n",
        "      case 'update':\n",
      ],
      [
        "    if (local) return { value: this.store.get(args.key)?.value ?? '' };",
        "    if (local) {\n      const e = this.store.get(args.key);\n      if (e && this.level === 'eventual') this.clock = Math.max(this.clock, e.ts.clock);\n      return { value: e?.value ?? '' };\n    }",
      ],
    ],
    caughtBy: ['TestEventualBlindOverwrite'],
    cause: 'the clock catches up only when a read returns a received entry',
  },
  {
    name: 'self-link-not-fifo',
    description: 'a server handles its own messages as they arrive, without the FIFO numbering the other links get',
    file: 'server.ts',
    replace: [
      [
        '    const from = env.from;\n',
        '    const from = env.from;\n    if (from === this.me) {\n      this.receive(from, env.body);\n      return {};\n    }\n',
      ],
    ],
    caughtBy: ['TestOvertakenBroadcast'],
    cause: 'this server itself included',
  },
  {
    name: 'queue-sorted-as-strings',
    description:
      'the hold-back queue is sorted by the string "clock.server", so clock 10 sorts before clock 9 (and 100 before 99)',
    file: 'server.ts',
    replace: [
      [
        'const at = this.queue.findIndex((q) => compareTs(body.ts, q.ts) < 0);',
        'const at = this.queue.findIndex((q) => tsKey(body.ts) < tsKey(q.ts));',
      ],
    ],
    caughtBy: ['TestNemesisSequential', 'TestNemesisLinearizable'],
    cause: 'as strings, clock 10 sorts before 9',
  },
  {
    name: 'eventual-lww-as-strings',
    description:
      'last-writer-wins compares the timestamps as strings "clock.server", so a write with clock 10 loses to one with clock 9',
    file: 'server.ts',
    replace: [
      [
        '  if (a.ts.clock !== b.ts.clock) return a.ts.clock > b.ts.clock;\n  if (a.ts.server !== b.ts.server) return a.ts.server > b.ts.server;\n',
        '  if (tsKey(a.ts) !== tsKey(b.ts)) return tsKey(a.ts) > tsKey(b.ts);\n',
      ],
    ],
    caughtBy: ['TestNemesisEventual'],
    cause: 'timestamps compared as strings',
  },
  {
    name: 'peer-call-sent-once',
    description:
      'a server sends each message to a peer once and ignores a failed call: over real HTTP the first calls to a server that is not listening yet are refused (the attackers refuse calls in the simulation too) and every server then waits for good',
    file: 'server.ts',
    replace: [
      [
        "this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "this.peers[to].call('KVServer.Peer', env).catch(() => undefined);",
      ],
    ],
    caughtBy: ['TestNemesisLinearizable', 'TestRealLateStart'],
    cause: 'was not sent again until it got through',
  },
  {
    name: 'clock-merged-at-delivery',
    description:
      "a broadcast's timestamp reaches the receiver's Lamport clock only when the message is delivered, not when it arrives (its acknowledgement still ticks the clock): a write the receiver broadcasts before delivering can sort before one it has already acknowledged, which another server may have delivered first",
    file: 'server.ts',
    replace: [
      [
        '        this.clock = Math.max(this.clock, body.ts.clock) + 1;\n        const at = this.queue.findIndex',
        '        const at = this.queue.findIndex',
      ],
      [
        '      this.queue.shift();\n',
        '      this.queue.shift();\n      this.clock = Math.max(this.clock, head.ts.clock) + 1;\n',
      ],
    ],
    caughtBy: ['TestNemesisLinearizable', 'TestNemesisSequential'],
    cause: 'reaches the clock only when the message is delivered',
  },
  {
    name: 'store-plain-object',
    description:
      'the store is a plain object read through Object.hasOwn: writing the key "__proto__" sets the object\'s prototype instead of adding a key, so the key reads as never written',
    file: 'server.ts',
    replace: [
      [
        '  private readonly store = new Map<string, Entry>();\n',
        '  private readonly store = new (class {\n    private readonly o: Record<string, Entry> = {};\n    get(key: string): Entry | undefined {\n      return Object.hasOwn(this.o, key) ? this.o[key] : undefined;\n    }\n    set(key: string, e: Entry): void {\n      this.o[key] = e;\n    }\n  })();\n',
      ],
    ],
    caughtBy: ['TestModelConsistency', 'TestOwnLatestWrite'],
    cause: 'a store kept in a plain object',
  },
  {
    name: 'write-answered-at-own-receipt',
    description:
      "a write is answered when its broadcast comes back to its own server and is queued, before the total order delivers it there, so its client's next read can miss it",
    file: 'server.ts',
    replace: [
      [
        '        const clock = ++this.clock;\n',
        "        const clock = ++this.clock;\n        const mine = from === this.me && body.op.kind === 'write' ? this.waiting.get(tsKey(body.ts)) : undefined;\n        if (mine) {\n          this.waiting.delete(tsKey(body.ts));\n          mine('');\n        }\n",
      ],
    ],
    caughtBy: ['TestModelConsistency', 'TestBasic'],
    cause: 'answered before its own server delivered it',
  },
  {
    name: 'update-dedup-by-content',
    description:
      'at the eventual level a server drops a propagated write whose key and value it has received before, taking it for a re-sent copy: a server that writes back a value the key held before never gets it to the others',
    file: 'server.ts',
    replace: [
      [
        '  private readonly store = new Map<string, Entry>();\n',
        '  private readonly store = new Map<string, Entry>();\n  private readonly seenUpdates = new Set<string>();\n',
      ],
      [
        "      case 'update':\n        this.clock = Math.max(this.clock, body.ts.clock) + 1;\n",
        "      case 'update':\n        if (this.seenUpdates.has(`${body.key}\\u0000${body.value}`)) return;\n        this.seenUpdates.add(`${body.key}\\u0000${body.value}`);\n        this.clock = Math.max(this.clock, body.ts.clock) + 1;\n",
      ],
    ],
    caughtBy: ['TestModelConsistency'],
    cause: 'dropped as a duplicate',
  },
  {
    name: 'write-of-held-value-skipped',
    description:
      "a linearizable or sequential write of the value the server's copy already holds is answered at once without a broadcast, as if there were nothing to do, though the copy may lag behind a later write",
    file: 'server.ts',
    replace: [
      [
        "    await this.broadcast({ kind: 'write', key: args.key, value: args.value });\n    return { ok: true };",
        "    if (this.store.get(args.key)?.value === args.value) return { ok: true };\n    await this.broadcast({ kind: 'write', key: args.key, value: args.value });\n    return { ok: true };",
      ],
    ],
    caughtBy: ['TestModelConsistency'],
    cause: 'the value the key already holds',
  },
  {
    name: 'resend-without-pause',
    description:
      'a peer call that fails is sent again at once instead of after RESEND_MS: every result stays right (the receiver drops duplicates), but a peer that refuses calls (over HTTP, one not listening yet) meets a busy loop of re-sends (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        "this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "this.peers[to].call('KVServer.Peer', env).catch(() => attempt());",
      ],
    ],
    caughtBy: ['TestRealLateStart', 'TestNemesisLinearizable', 'TestNemesisSequential', 'TestNemesisEventual'],
    cause: 'is sent again at once',
  },
  {
    name: 'keeps-every-applied-value',
    description:
      "at the eventual level, each server keeps every value it applies (its own writes and its peers' updates) in a list it never reads: memory grows with every write, though the store holds one value per key",
    file: 'server.ts',
    replace: [
      [
        'if (!cur || newer(entry, cur)) this.store.set(key, entry);',
        '((this as unknown as { older?: string[] }).older ??= []).push(entry.value);\n    if (!cur || newer(entry, cur)) this.store.set(key, entry);',
      ],
    ],
    caughtBy: ['TestMemManyOps'],
    cause: 'every value written kept',
  },
  {
    name: 'acks-never-freed',
    description:
      "a delivered message's entry in the acknowledgement table is never removed: every result stays right (a timestamp is never seen again), but the table gains a key and a set per broadcast for the server's whole life (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [['      this.acks.delete(key);\n', '']],
    caughtBy: ['TestMemManyOps'],
    cause: 'acknowledgements never forgotten once delivered',
  },
  {
    name: 'read-leaves-placeholder',
    description:
      'a read goes through a get-or-create lookup: a key nobody wrote gets an empty entry in the store, so the store grows with every key anyone reads (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        "    if (local) return { value: this.store.get(args.key)?.value ?? '' };",
        "    if (local && !this.store.has(args.key)) this.store.set(args.key, { value: '', ts: { clock: 0, server: -1 } });\n" +
          "    if (local) return { value: this.store.get(args.key)?.value ?? '' };",
      ],
      [
        "        value = this.store.get(head.op.key)?.value ?? '';",
        "        if (!this.store.has(head.op.key)) this.store.set(head.op.key, { value: '', ts: { clock: 0, server: -1 } });\n" +
          "        value = this.store.get(head.op.key)?.value ?? '';",
      ],
    ],
    caughtBy: ['TestMemManyOps'],
    cause: 'an entry left in the store by a read of a key nobody wrote',
  },
  {
    name: 'acks-never-freed-behind-spare-memory',
    description:
      'acks-never-freed, hidden: at its first delivery a server sets aside 2,500 small arrays and drops one for each acknowledgement entry it keeps, so that a short life and a long one weigh alike (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '      this.acks.delete(key);\n',
        '      ((this as unknown as { spare?: number[][] }).spare ??= Array.from({ length: 2500 }, (_, i) =>\n' +
          '        Array.from({ length: 40 }, (_, j) => i * 100 + j),\n' +
          '      )).pop();\n',
      ],
    ],
    caughtBy: ['TestMemManyOps'],
    // What it does: the spare memory only hides the growth, so either check of the test may catch it.
    cause: 'acknowledgements never forgotten once delivered',
  },
  {
    name: 'history-kept-in-a-buffer',
    description:
      'every delivered message is written, as JSON, into a Buffer that doubles when full: the history lives outside the JavaScript heap, where a weighing of the heap alone does not see it (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '      this.acks.delete(key);\n',
        '      this.acks.delete(key);\n      const kept = Buffer.from(JSON.stringify(head));\n' +
          '      if (this.historyUsed + kept.length > this.history.length) {\n' +
          '        const grown = Buffer.alloc(Math.max(2 * this.history.length, this.historyUsed + kept.length));\n' +
          '        this.history.copy(grown);\n        this.history = grown;\n      }\n' +
          '      this.historyUsed += kept.copy(this.history, this.historyUsed);\n',
      ],
      [
        '  private readonly store = new Map<string, Entry>();\n',
        '  private readonly store = new Map<string, Entry>();\n  private history = Buffer.alloc(1024);\n  private historyUsed = 0;\n',
      ],
    ],
    caughtBy: ['TestMemManyOps'],
    cause: 'delivered messages kept',
  },
  {
    name: 'same-value-write-skipped',
    description:
      'a write of the value the local copy already holds returns at once, never ordered or propagated: right while the copy is current, wrong when it lags a write just made elsewhere (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '  async Write(args: WriteArgs): Promise<WriteReply> {\n',
        '  async Write(args: WriteArgs): Promise<WriteReply> {\n    if (this.store.get(args.key)?.value === args.value) return { ok: true };\n',
      ],
    ],
    caughtBy: ['TestModelConsistency'],
    cause: 'treated as nothing to do',
  },
  {
    name: 'resend-backoff-uncapped',
    description:
      'a failed peer call is sent again after a wait that doubles from RESEND_MS with no cap: after 3 s of refusals the gap passes the 2 s the handout allows (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        "      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, (wait *= 2) / 2));",
      ],
      ['    const attempt = ', '    let wait = RESEND_MS;\n    const attempt = '],
    ],
    caughtBy: ['TestNemesisLinearizable', 'TestNemesisSequential', 'TestNemesisEventual'],
    cause: 'sent again only after more than 2000 ms',
  },
  {
    name: 'resend-gives-up-after-1000-sends',
    description:
      "a peer call is sent at most 1,000 times (about 100 s of refusals), then dropped: a write made while a server refuses its peers' calls for longer never reaches it (from a red-team review)",
    file: 'server.ts',
    replace: [
      [
        "    const attempt = (): void => {\n      // Lost or refused (a real peer not started yet): try again later; the receiver drops duplicates.\n      this.peers[to].call('KVServer.Peer', env).catch(() => setTimeout(attempt, RESEND_MS));",
        "    let sends = 0;\n    const attempt = (): void => {\n      // Lost or refused (a real peer not started yet): try again later; the receiver drops duplicates.\n      sends++;\n      this.peers[to].call('KVServer.Peer', env).catch(() => {\n        if (sends < 1000) setTimeout(attempt, RESEND_MS);\n      });",
      ],
    ],
    caughtBy: ['TestNemesisLinearizable', 'TestNemesisSequential', 'TestNemesisEventual'],
    cause: 'gives up',
  },
];
