/** Deliberately broken versions of the lab 4 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'no-quorum-at-next-heartbeat',
    description:
      'a write that runs out of writeTimeoutMs is answered ErrNoQuorum at the next heartbeat tick after its time (as a sweep of the waiting writes once every heartbeatMs would): up to 50 ms late (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '        }, this.config.writeTimeoutMs),\n',
        '        }, this.config.writeTimeoutMs + this.config.heartbeatMs - (Date.now() % this.config.heartbeatMs)),\n',
      ],
    ],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'expired writes answered at the next heartbeat',
  },
  {
    name: 'gives-up-after-refusal',
    description:
      'a follower that answers ErrForbidden or ErrNotFollower is dropped for good (its loop returns): a node whose configuration is mended never hears from the leader again (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '        // A misconfigured cluster (a leader among the followers, or a different token): keep trying, slowly.\n        await sleep(this.config.retryMs);\n        continue;\n',
        '        return;\n',
      ],
    ],
    caughtBy: ['TestNemesisQuorum'],
    cause: 'the follower dropped for good after a refusal',
  },
  {
    name: 'quorum-negative-accepted',
    description:
      'the leader refuses a quorum of zero, one over the number of followers, and one that is not a whole number, but not a negative one: with W = -1 every write ends in ErrNoQuorum (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        "if (config.role === 'leader' && !(Number.isInteger(quorum) && quorum >= 1 && quorum <= followers.length)) {",
        "if (config.role === 'leader' && (quorum === 0 || quorum > followers.length || !Number.isInteger(quorum))) {",
      ],
    ],
    caughtBy: ['TestLeaderAcceptsWrites'],
    cause: 'a check for zero alone',
  },
  {
    name: 'replicate-backs-off-after-20-failures',
    description:
      'after 20 failed Replicate calls in a row the leader doubles its wait before the next, up to 1 s, instead of config.retryMs every time: once a long outage ends, followers hear from it up to a second later (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '    let heartbeat = false;\n    while (!this.stopped) {',
        '    let heartbeat = false;\n    let failures = 0;\n    while (!this.stopped) {',
      ],
      [
        '        // Lost, or the follower is unreachable: try again a little later, from the same place.\n        await sleep(this.config.retryMs);',
        '        failures++;\n        await sleep(failures <= 20 ? this.config.retryMs : Math.min(1000, this.config.retryMs * 2 ** (failures - 20)));',
      ],
      ['      f.match = reply.lastSeq;\n', '      failures = 0;\n      f.match = reply.lastSeq;\n'],
    ],
    caughtBy: ['TestNoQuorumInFlight'],
    cause: 'a wait between re-sends that grows after many failures',
  },
  {
    name: 'no-heartbeat-before-first-write',
    description:
      "a follower's loop sends heartbeats only once the log holds a write: a new leader with nothing written waits silently, so it never learns where its followers stand (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        '        heartbeat = !(await this.idle(f));\n',
        '        heartbeat = !(await this.idle(f)) && this.log.length > 0;\n',
      ],
    ],
    caughtBy: ['TestIdleAndStop'],
    cause: 'heartbeats only once the log holds a write',
  },
  {
    name: 'linger-after-wake',
    description:
      "a follower's loop woken by a write waits 5 ms before sending, to gather more writes into one call: every write into an idle cluster is acknowledged 5 ms late (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        '        clearTimeout(timer);\n        resolve(true);\n',
        '        clearTimeout(timer);\n        setTimeout(() => resolve(true), 5);\n',
      ],
    ],
    caughtBy: ['TestIdleAndStop'],
    cause: 'a short wait after waking',
  },
  {
    name: 'write-timer-not-cleared',
    description:
      "a write's setTimeout(writeTimeoutMs) is not cleared when the write commits: the timers pile up, one per write, for writeTimeoutMs each (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [['      if (w.done) continue;\n      clearTimeout(w.timer);\n', '      if (w.done) continue;\n']],
    caughtBy: ['TestAckAfterQuorum'],
    cause: "a write's setTimeout(writeTimeoutMs) not cleared when the write commits",
  },
  {
    name: 'resend-at-once-after-refusal',
    description:
      'after ErrNotFollower or ErrForbidden the leader sends the same Replicate again at once instead of waiting retryMs (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '        // A misconfigured cluster (a leader among the followers, or a different token): keep trying, slowly.\n        await sleep(this.config.retryMs);\n',
        '',
      ],
    ],
    caughtBy: ['TestNemesisReplication', 'TestNemesisQuorum'],
    cause: 'after a TimeoutError, an ErrNotFollower or an ErrForbidden',
  },
  {
    name: 'ack-early',
    description: 'the leader acknowledges a write when W-1 followers hold it',
    file: 'server.ts',
    replace: [
      [
        'const quorumSeq = matches[this.config.quorum - 1];',
        'const quorumSeq = matches[this.config.quorum - 2] ?? matches[0];',
      ],
    ],
    caughtBy: ['TestAckAfterQuorum'],
    cause: 'a write acknowledged before W followers hold it',
  },
  {
    name: 'apply-before-replication',
    description: "the leader applies a write to its data as soon as it arrives (the original's design)",
    file: 'server.ts',
    replace: [['    this.log.push(entry);\n', '    this.log.push(entry);\n    this.data.set(args.key, args.value);\n']],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'the leader must not apply a write before W followers hold it',
  },
  {
    name: 'follower-accepts-writes',
    description: 'a follower takes writes instead of refusing them',
    file: 'server.ts',
    replace: [
      [
        "if (this.config.role !== 'leader') {\n      return {\n        err: 'ErrNotLeader'",
        "if (this.config.role === ('nobody' as string)) {\n      return {\n        err: 'ErrNotLeader'",
      ],
    ],
    caughtBy: ['TestFollowerRefusesWrites'],
    cause: 'a follower must answer ErrNotLeader',
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
    cause: 'must not be applied again',
  },
  {
    name: 'no-gap-check',
    description: 'a follower answers OK to entries that start after a gap',
    file: 'server.ts',
    replace: [
      [
        "if (entries.length > 0 && entries[0].seq > this.applied + 1) return { err: 'ErrGap', lastSeq: this.applied };",
        '',
      ],
    ],
    caughtBy: ['TestFollowerAppliesInOrder'],
    cause: 'cannot be applied yet',
  },
  {
    name: 'follower-ignores-token',
    description:
      "a follower applies any Replicate it receives, so any client that reaches it can write to its log and make it diverge for good (the original's POST /replicate)",
    file: 'server.ts',
    replace: [
      ["    if (args.token !== this.config.token) return { err: 'ErrForbidden', lastSeq: this.applied };\n", ''],
    ],
    caughtBy: ['TestForgedReplicate'],
    cause: 'the token not checked at all',
  },
  {
    name: 'token-only-when-given',
    description: 'a follower checks the token only when the call carries one, so a call without a token is applied',
    file: 'server.ts',
    replace: [
      ['if (args.token !== this.config.token) return', 'if (args.token && args.token !== this.config.token) return'],
    ],
    caughtBy: ['TestForgedReplicate'],
    cause: 'only when the call carries one',
  },
  {
    name: 'replicate-to-quorum-only',
    description: 'the leader sends the log only to the first W followers',
    file: 'server.ts',
    replace: [
      [
        'for (const f of this.followers) void this.replicateTo(f);',
        'for (const f of this.followers.slice(0, config.quorum)) void this.replicateTo(f);',
      ],
    ],
    caughtBy: ['TestFollowerReadsEventually', 'TestFollowerCatchUp'],
    cause: 'not only the W that the acknowledgement waits for',
  },
  {
    name: 'fire-and-forget',
    description: 'a batch that got no answer is never sent again, so a follower that missed it stays behind',
    file: 'server.ts',
    replace: [
      [
        '        // Lost, or the follower is unreachable: try again a little later, from the same place.\n',
        '        next += entries.length;\n',
      ],
      ['      next = reply.lastSeq + 1;', '      next = Math.max(next, reply.lastSeq + 1);'],
    ],
    caughtBy: ['TestFollowerCatchUp', 'TestOriginalLoadUnreliable', 'TestNoQuorumFails'],
    cause: 'keep sending each follower what it lacks until it holds everything',
  },
  {
    name: 'no-write-timeout',
    description: 'a write without a quorum waits forever instead of failing',
    file: 'server.ts',
    replace: [['        }, this.config.writeTimeoutMs),', '        }, 1e9),']],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'no setTimeout(writeTimeoutMs) for a waiting write',
  },
  {
    name: 'wait-for-all',
    description: 'the leader waits for every follower, whatever W is',
    file: 'server.ts',
    replace: [
      ['const quorumSeq = matches[this.config.quorum - 1];', 'const quorumSeq = matches[this.followers.length - 1];'],
    ],
    caughtBy: ['TestQuorumLatency', 'TestNoQuorumFails'],
    cause: 'not wait for the others',
  },
  {
    name: 'no-max-batch',
    description: 'the leader sends a follower every entry it lacks in one call, ignoring maxBatch and the byte bound',
    file: 'server.ts',
    replace: [
      [
        'const entries = nextBatch(this.log, next, this.config.maxBatch, MAX_BATCH_BYTES);',
        'const entries = this.log.slice(next - 1);',
      ],
    ],
    caughtBy: ['TestFollowerCatchUp', 'TestRealHttpCatchUp'],
    cause: 'Send at most maxBatch entries per call',
  },
  {
    name: 'batch-by-entries-only',
    description:
      'a batch is bounded by maxBatch entries but not by bytes, so a catch-up call with large values exceeds the HTTP body limit',
    file: 'server.ts',
    replace: [
      [
        'const entries = nextBatch(this.log, next, this.config.maxBatch, MAX_BATCH_BYTES);',
        'const entries = nextBatch(this.log, next, this.config.maxBatch, Infinity);',
      ],
    ],
    caughtBy: ['TestRealHttpCatchUp'],
    cause: 'bound a batch by bytes too',
  },
  {
    name: 'gap-resends-same-batch',
    description:
      'on ErrGap the leader keeps its place and resends the same batch, so a follower restarted empty never catches up',
    file: 'server.ts',
    replace: [['      next = reply.lastSeq + 1;', "      if (reply.err === 'OK') next = reply.lastSeq + 1;"]],
    caughtBy: ['TestFollowerRestartEmpty'],
    cause: 'does the leader send from the lastSeq in ErrGap?',
  },
  {
    name: 'match-only-grows',
    description:
      "the leader keeps the highest seq a follower ever reported and sends from there, ignoring ErrGap's lower lastSeq",
    file: 'server.ts',
    replace: [
      [
        '      f.match = reply.lastSeq;\n      next = reply.lastSeq + 1;',
        '      f.match = Math.max(f.match, reply.lastSeq);\n      next = f.match + 1;',
      ],
    ],
    caughtBy: ['TestFollowerRestartEmpty', 'TestRestartWhileIdle'],
    cause: 'does the leader send from the lastSeq in ErrGap?',
  },
  {
    name: 'match-kept-on-lower-answer',
    description:
      'the leader resends from the lastSeq a follower reports but never lowers what it records that follower holds, so a follower restarted empty still counts for a quorum',
    file: 'server.ts',
    replace: [['      f.match = reply.lastSeq;\n', '      f.match = Math.max(f.match, reply.lastSeq);\n']],
    caughtBy: ['TestRestartForgetsLost'],
    cause: 'record the lastSeq of every answer, lower or not',
  },
  {
    name: 'errgap-keeps-match',
    description:
      "the leader records a follower's lastSeq only from OK answers, so an ErrGap that reports a restart changes nothing it counts",
    file: 'server.ts',
    replace: [['      f.match = reply.lastSeq;\n', "      if (reply.err === 'OK') f.match = reply.lastSeq;\n"]],
    caughtBy: ['TestRestartForgetsLost'],
    cause: 'record the lastSeq of every answer, lower or not',
  },
  {
    name: 'timeout-fails-all',
    description:
      'when one write times out the leader fails every write still waiting, though their own deadlines have not passed',
    file: 'server.ts',
    replace: [
      [
        '          waiter.done = true;\n',
        '          waiter.done = true;\n' +
          "          for (const w of this.waiting) if (!w.done) { w.done = true; clearTimeout(w.timer); w.resolve({ err: 'ErrNoQuorum', message: 'the quorum is lost' }); }\n",
      ],
    ],
    caughtBy: ['TestNoQuorumInFlight'],
    cause: "a write's timeout that fails every write still waiting",
  },
  {
    name: 'timeout-removes-entry',
    description: 'a write that times out is taken out of the log, so the entries after it shift to other seqs',
    file: 'server.ts',
    replace: [
      [
        '          waiter.done = true;\n',
        '          waiter.done = true;\n          this.log.splice(entry.seq - 1, 1);\n',
      ],
    ],
    caughtBy: ['TestNoQuorumInFlight'],
    cause: 'a write that timed out stays in the log',
  },
  {
    name: 'data-as-plain-object',
    description:
      "the node keeps its data in a plain object, so names inherited from Object.prototype ('constructor', '__proto__') misbehave",
    file: 'server.ts',
    replace: [
      ['private readonly data = new Map<string, string>();', 'private readonly data: Record<string, string> = {};'],
      [
        'const value = this.data.get(args.key);',
        'const value = args.key in this.data ? String(this.data[args.key]) : undefined;',
      ],
      ['dataCount: this.data.size,', 'dataCount: Object.keys(this.data).length,'],
      ['data: args.noData ? {} : Object.fromEntries(this.data),', 'data: args.noData ? {} : { ...this.data },'],
      [
        '      this.data.set(e.key, e.value);\n      this.applied = e.seq;',
        '      this.data[e.key] = e.value;\n      this.applied = e.seq;',
      ],
      [
        'const e = this.log[s - 1];\n      this.data.set(e.key, e.value);',
        'const e = this.log[s - 1];\n      this.data[e.key] = e.value;',
      ],
    ],
    caughtBy: ['TestOddKeysAndValues'],
    cause: 'the data is a plain object',
  },
  {
    name: 'empty-value-missing',
    description: 'Get treats an empty value as a missing key',
    file: 'server.ts',
    replace: [
      [
        "return value === undefined ? { err: 'ErrNoKey' } : { err: 'OK', value };",
        "return !value ? { err: 'ErrNoKey' } : { err: 'OK', value };",
      ],
    ],
    caughtBy: ['TestOddKeysAndValues'],
    cause: 'an empty value taken for a missing key',
  },
  {
    name: 'quorum-of-first-w',
    description: 'the leader commits when the first W followers (by index) hold a write, not any W',
    file: 'server.ts',
    replace: [
      [
        'const matches = this.followers.map((f) => f.match).sort((a, b) => b - a);',
        'const matches = this.followers.slice(0, this.config.quorum).map((f) => f.match).sort((a, b) => b - a);',
      ],
    ],
    caughtBy: ['TestUnevenLinks'],
    cause: 'instead of any W',
  },
  {
    name: 'retry-with-a-constant',
    description:
      'after a failed Replicate the leader waits 40 ms, a constant of its own, instead of config.retryMs (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '        // Lost, or the follower is unreachable: try again a little later, from the same place.\n        await sleep(this.config.retryMs);',
        '        // Lost, or the follower is unreachable: try again a little later, from the same place.\n        await sleep(40);',
      ],
    ],
    caughtBy: ['TestNoQuorumInFlight'],
    cause: 'a wait written into the code instead of config.retryMs',
  },
  {
    name: 'push-each-write',
    description:
      "besides its loop, the leader pushes each new write to every follower at once in its own call (the original's design), so calls to a follower overlap",
    file: 'server.ts',
    replace: [
      [
        '    for (const f of this.followers) f.wake?.();\n    return new Promise',
        '    for (const f of this.followers) {\n      f.wake?.();\n      f.end.call(`${SERVICE}.Replicate`, { entries: [entry], token: this.config.token }).catch(() => undefined);\n    }\n    return new Promise',
      ],
    ],
    caughtBy: ['TestLeaderAcceptsWrites', 'TestAckAfterQuorum'],
    cause: 'a write pushed to the followers at once in a call of its own',
  },
  {
    name: 'replicas-counts-all',
    description: 'the acknowledgement reports every follower in replicas, not the ones known to hold the write',
    file: 'server.ts',
    replace: [
      [
        'const replicas = this.followers.filter((f) => f.match >= w.seq).length;',
        'const replicas = this.followers.length;',
      ],
    ],
    caughtBy: ['TestAckAfterQuorum'],
    cause: 'replicas counted as every follower',
  },
  {
    name: 'no-quorum-message-without-count',
    description: 'ErrNoQuorum says the write failed but not how many followers confirmed it',
    file: 'server.ts',
    replace: [
      ['reached ${holders} of the ${this.config.quorum} followers it needs', 'did not reach the followers it needs'],
    ],
    caughtBy: ['TestNoQuorumInFlight'],
    cause: 'the message must say how many followers confirmed the write',
  },
  {
    name: 'never-waits-when-idle',
    description:
      'with nothing to send, a follower loop sends an empty batch again at once instead of waiting for the next write',
    file: 'server.ts',
    replace: [
      ['if (next > this.log.length && !heartbeat) {', 'if (next > this.log.length && this.stopped && !heartbeat) {'],
    ],
    caughtBy: ['TestIdleAndStop'],
    cause: 'not send again at once or poll with a shorter timer',
  },
  {
    name: 'no-heartbeat',
    description:
      'an idle follower loop waits only for the next write, so a follower that restarts empty on an idle cluster stays empty until someone writes',
    file: 'server.ts',
    replace: [['heartbeat = !(await this.idle(f));', 'await this.idle(f);']],
    caughtBy: ['TestRestartWhileIdle'],
    cause: 'no heartbeat is sent',
  },
  {
    name: 'stop-ignored',
    description: '_stop() clears the write timers but does not end the follower loops, which keep retrying',
    file: 'server.ts',
    replace: [['    this.stopped = true;\n', '']],
    caughtBy: ['TestIdleAndStop'],
    cause: "_stop() must end every follower's loop",
  },
  {
    name: 'big-entry-stalls',
    description:
      'the byte bound applies to the first entry too, so an entry larger than the bound is never sent and its follower stalls',
    file: 'server.ts',
    replace: [['if (batch.length > 0 && bytes + size > maxBytes) break;', 'if (bytes + size > maxBytes) break;']],
    caughtBy: ['TestOddKeysAndValues'],
    cause: 'a batch must carry at least one entry however large',
  },
  {
    name: 'no-quorum-check',
    description: 'the leader accepts a quorum of 0 or more than its followers',
    file: 'server.ts',
    replace: [
      [
        "if (config.role === 'leader' && !(Number.isInteger(quorum) && quorum >= 1 && quorum <= followers.length)) {",
        'if (quorum < 0) {',
      ],
    ],
    caughtBy: ['TestLeaderAcceptsWrites'],
    cause: 'the quorum must be a whole number between 1 and the number of followers',
  },
  {
    name: 'heartbeat-ignores-config',
    description:
      'the heartbeat period is the default 50 ms written into the code, whatever config.heartbeatMs says (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [['      }, this.config.heartbeatMs);', '      }, 50);']],
    caughtBy: ['TestIdleAndStop'],
    cause: 'a heartbeat period written into the code',
  },
  {
    name: 'quorum-check-lets-nan-through',
    description:
      'the quorum check is written as two refusals (below 1, above the followers), which NaN and fractions pass (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        "if (config.role === 'leader' && !(Number.isInteger(quorum) && quorum >= 1 && quorum <= followers.length)) {",
        "if (config.role === 'leader' && (quorum < 1 || quorum > followers.length)) {",
      ],
    ],
    caughtBy: ['TestLeaderAcceptsWrites'],
    cause: 'NaN passes',
  },
  {
    name: 'commit-goes-back',
    description:
      'the leader sets its commit point to the W-th highest follower seq even when that is lower, so restarted followers make it apply old entries again',
    file: 'server.ts',
    replace: [['    if (quorumSeq <= this.commitSeq) return;\n', '']],
    caughtBy: ['TestFollowerRestartEmpty'],
    cause: 'recompute the commit point only upwards',
  },
  {
    name: 'no-quorum-miscount',
    description: 'the ErrNoQuorum message counts the followers beyond the write, not those holding it',
    file: 'server.ts',
    replace: [
      [
        'const holders = this.followers.filter((f) => f.match >= entry.seq).length;',
        'const holders = this.followers.filter((f) => f.match > entry.seq).length;',
      ],
    ],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'it must say how many followers confirmed the write',
  },
  {
    name: 'no-quorum-count-with-leader',
    description:
      'the ErrNoQuorum count includes the leader, and the message ends with every number from 0 to 5, so that the right count is somewhere in it (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        'const holders = this.followers.filter((f) => f.match >= entry.seq).length;',
        'const holders = this.followers.filter((f) => f.match >= entry.seq).length + 1;',
      ],
      [
        "'it was not acknowledged (it stays in the log and may still be applied when followers return).',",
        "'it was not acknowledged (it stays in the log and may still be applied when followers return). [0 1 2 3 4 5]',",
      ],
    ],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'the leader counted among the replicas',
  },
  {
    name: 'replicate-with-a-counter',
    description:
      "every Replicate call carries a field of the leader's own, a counter, so that no call is a copy of another (a retry sent at once would then pass for a new call) (from a red-team review)",
    file: 'server.ts',
    replace: [
      [
        '{ entries, token: this.config.token }',
        '{ entries, token: this.config.token, n: Math.random() } as ReplicateArgs',
      ],
    ],
    caughtBy: ['TestAckAfterQuorum'],
    cause: 'an extra field',
  },
  {
    name: 'heartbeat-timer-not-cleared',
    description:
      "a write that wakes an idle loop leaves the heartbeat timer running, and when it fires it clears the next idle period's wake-up",
    file: 'server.ts',
    replace: [
      [
        '        f.wake = undefined;\n        clearTimeout(timer);\n        resolve(true);',
        '        f.wake = undefined;\n        resolve(true);',
      ],
    ],
    caughtBy: ['TestIdleAndStop'],
    cause: 'not cleared when a write woke the loop',
  },
  {
    name: 'heartbeat-every-retry',
    description: 'an idle follower gets a heartbeat every retryMs (10 ms) instead of every heartbeatMs',
    file: 'server.ts',
    replace: [['      }, this.config.heartbeatMs);', '      }, this.config.retryMs);']],
    caughtBy: ['TestIdleAndStop'],
    cause: 'poll with a shorter timer (such as retryMs)',
  },
  {
    name: 'heartbeat-too-slow',
    description: 'an idle follower gets a heartbeat only every 3 x heartbeatMs',
    file: 'server.ts',
    replace: [['      }, this.config.heartbeatMs);', '      }, 3 * this.config.heartbeatMs);']],
    caughtBy: ['TestIdleAndStop'],
    cause: 'a heartbeat timer longer than config.heartbeatMs',
  },
  {
    name: 'heartbeat-every-second-tick',
    description:
      'an idle follower gets a heartbeat every 2 x heartbeatMs, as from a fixed ticker that skips the tick after each answer',
    file: 'server.ts',
    replace: [['      }, this.config.heartbeatMs);', '      }, 2 * this.config.heartbeatMs);']],
    caughtBy: ['TestIdleAndStop'],
    cause: 'skips the tick after each answer',
  },
  {
    name: 'status-commit-is-log-end',
    description: "the leader's Status reports the end of its log as commitSeq, uncommitted writes included",
    file: 'server.ts',
    replace: [
      [
        '      commitSeq: leader ? this.commitSeq : this.applied,',
        '      commitSeq: leader ? this.log.length : this.applied,',
      ],
    ],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'commitSeq reported as the end of the log',
  },
  {
    name: 'status-ignores-nodata',
    description: 'Status returns the data even when asked for noData',
    file: 'server.ts',
    replace: [
      ['      data: args.noData ? {} : Object.fromEntries(this.data),', '      data: Object.fromEntries(this.data),'],
    ],
    caughtBy: ['TestNoQuorumFails'],
    cause: 'the data returned although noData asks for none',
  },
  {
    name: 'gap-checked-before-token',
    description: 'a follower answers ErrGap to a forged Replicate beyond its next seq before it checks the token',
    file: 'server.ts',
    replace: [
      [
        "    if (args.token !== this.config.token) return { err: 'ErrForbidden', lastSeq: this.applied };\n    const entries = args.entries;\n    if (entries.length > 0 && entries[0].seq > this.applied + 1) return { err: 'ErrGap', lastSeq: this.applied };",
        "    const entries = args.entries;\n    if (entries.length > 0 && entries[0].seq > this.applied + 1) return { err: 'ErrGap', lastSeq: this.applied };\n    if (args.token !== this.config.token) return { err: 'ErrForbidden', lastSeq: this.applied };",
      ],
    ],
    caughtBy: ['TestForgedReplicate'],
    cause: 'the gap checked before the token',
  },
  {
    name: 'batch-bound-raw-7mib',
    description:
      "a batch is bounded at 7 MiB of raw key and value bytes, which JSON's escapes make larger than the 8 MiB HTTP body limit",
    file: 'server.ts',
    replace: [['const MAX_BATCH_BYTES = 1024 * 1024;', 'const MAX_BATCH_BYTES = 7 * 1024 * 1024;']],
    caughtBy: ['TestRealHttpCatchUp'],
    cause: "leave room for JSON's escapes",
  },
  {
    name: 'misconfigured-counts',
    description:
      "the leader records the lastSeq of an ErrForbidden or ErrNotFollower answer (up to its log's end) as what that node holds, so a node of another cluster among its followers counts towards the quorum",
    file: 'server.ts',
    replace: [
      [
        '        // A misconfigured cluster (a leader among the followers, or a different token): keep trying, slowly.\n',
        '        f.match = Math.min(reply.lastSeq, this.log.length);\n',
      ],
    ],
    caughtBy: ['TestNemesisQuorum'],
    cause: 'they must never count towards a quorum',
  },
  {
    name: 'match-set-on-send',
    description:
      'the leader records a batch as held by its follower when it sends it, before the answer, so a lost batch still counts towards the quorum',
    file: 'server.ts',
    replace: [
      [
        '      let reply: ReplicateReply;\n      try {',
        '      if (entries.length > 0) f.match = Math.max(f.match, entries[entries.length - 1].seq);\n      let reply: ReplicateReply;\n      try {',
      ],
    ],
    caughtBy: ['TestNemesisReplication'],
    cause: 'counted as holding a batch when it was sent',
  },
  {
    name: 'heartbeat-answer-ignored',
    description:
      'the leader sends heartbeats but ignores their answers, so a follower that restarted empty on an idle cluster is not resent the log until someone writes',
    file: 'server.ts',
    replace: [
      [
        '      f.match = reply.lastSeq;\n',
        "      if (entries.length === 0 && reply.err === 'OK') continue;\n      f.match = reply.lastSeq;\n",
      ],
    ],
    caughtBy: ['TestNemesisReplication'],
    cause: 'acting on the lower lastSeq of its answer',
  },
  {
    name: 'follower-reports-batch-end',
    description:
      'a follower answers OK with the last seq of the batch it was sent rather than the last one it holds, so an old batch delivered again makes it report less than it holds',
    file: 'server.ts',
    replace: [
      [
        "    return { err: 'OK', lastSeq: this.applied };\n  }\n\n  _stop",
        "    return { err: 'OK', lastSeq: entries.length > 0 ? entries[entries.length - 1].seq : this.applied };\n  }\n\n  _stop",
      ],
    ],
    caughtBy: ['TestNemesisReplication'],
    cause: 'the last seq of the batch it was sent',
  },
  {
    name: 'nodata-zero-count',
    description: 'Status({ noData: true }) reports dataCount 0 along with the empty data',
    file: 'server.ts',
    replace: [['      dataCount: this.data.size,', '      dataCount: args.noData ? 0 : this.data.size,']],
    caughtBy: ['TestNemesisReplication'],
    cause: 'noData leaves out the data, not its count',
  },
  {
    name: 'gives-up-after-refusal',
    description:
      'the leader stops calling a follower after one failed call (a follower not listening yet is never caught up)',
    file: 'server.ts',
    replace: [
      [
        '        // Lost, or the follower is unreachable: try again a little later, from the same place.\n        await sleep(this.config.retryMs);\n        continue;',
        '        return;',
      ],
    ],
    caughtBy: ['TestRealHttpLateStart'],
    cause: 'is not sent again',
  },
];
