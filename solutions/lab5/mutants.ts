/** Deliberately broken versions of the lab 5 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'client-get-empty-is-null',
    description: 'ShardedClient.get returns reply || null, so a key holding the empty string reads as missing',
    file: 'client.ts',
    replace: [
      [
        "    return (await this.onKey(key, ['GET', key])) as string | null;",
        "    return ((await this.onKey(key, ['GET', key])) as string | null) || null;",
      ],
    ],
    caughtBy: ['TestNemesisClient'],
    cause: 'reply || null',
  },
  {
    name: 'ttl-rounds-down',
    description:
      'TTL answers the seconds left rounded down, not to the nearest (Redis rounds): a key with 99.7 s left shows 99',
    file: 'server.ts',
    replace: [
      [
        '          return reply.integer(ms < 0 ? ms : Math.round(ms / 1000));',
        '          return reply.integer(ms < 0 ? ms : Math.floor(ms / 1000));',
      ],
    ],
    caughtBy: ['TestTTL', 'TestCommandModel'],
    cause: 'not rounded down',
  },
  {
    name: 'ttl-rounds-up',
    description:
      'TTL counts any part of a second as a whole one (rounds up, exactly): a key with 1.4 s left shows 2, where Redis shows 1 (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '          return reply.integer(ms < 0 ? ms : Math.round(ms / 1000));',
        '          return reply.integer(ms < 0 ? ms : (BigInt(ms) + 999n) / 1000n);',
      ],
    ],
    caughtBy: ['TestTTL'],
    cause: 'not rounded up',
  },
  {
    name: 'request-timer-kept-after-reply',
    description:
      "a reply marks its request answered instead of clearing the request's timer: the timer (and the request) stays live for timeoutMs after every reply, and does nothing when it fires (from a red-team review)",
    file: 'client.ts',
    replace: [
      [
        '      const timer = setTimeout(() => {\n        // A reply',
        '      let answered = false;\n      const timer = setTimeout(() => {\n        if (answered) return;\n        // A reply',
      ],
      ['          clearTimeout(timer);\n          resolve(r);', '          answered = true;\n          resolve(r);'],
    ],
    caughtBy: ['TestClientClose'],
    cause: 'the timeout timer of each request not cleared when its reply comes',
  },
  {
    name: 'no-sweep',
    description: 'no background sweep: expired keys nobody reads stay in memory',
    file: 'server.ts',
    replace: [['    this.timers.push(setInterval(() => this.sweep(), options.sweepIntervalMs));\n', '']],
    caughtBy: ['TestBackgroundExpiry'],
    cause: 'expired keys must be removed by a background sweep',
  },
  {
    name: 'sweep-with-a-constant',
    description:
      "the background sweep runs every 100 ms (Redis's own rate) whatever sweepIntervalMs the server was given",
    file: 'server.ts',
    replace: [
      [
        '    this.timers.push(setInterval(() => this.sweep(), options.sweepIntervalMs));\n',
        '    this.timers.push(setInterval(() => this.sweep(), 100));\n',
      ],
    ],
    caughtBy: ['TestBackgroundExpiry'],
    cause: 'a period of your own',
  },
  {
    name: 'fsync-per-command',
    description:
      "the log is flushed (and, with fsync 'always', fsynced) after each command of a chunk instead of once after the chunk: one fsync per pipelined write",
    file: 'server.ts',
    replace: [
      [
        '      out += this.execute(args, conn);\n      if (conn.closing) break;\n',
        '      out += this.execute(args, conn);\n      this.persistence?.flush();\n      if (conn.closing) break;\n',
      ],
    ],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'the log written and fsynced after each command',
  },
  {
    name: 'sweep-samples-front',
    description:
      'the background sweep looks only at the first 20 keys with a time to live, as a sample: expired keys behind 20 that live long are never removed unless read',
    file: 'server.ts',
    replace: [
      [
        '    this.timers.push(setInterval(() => this.sweep(), options.sweepIntervalMs));\n',
        '    this.timers.push(\n      setInterval(() => {\n        const now = Date.now();\n        let seen = 0;\n' +
          '        for (const [key, exp] of this.expires) {\n          if (++seen > 20) break;\n' +
          '          if (exp <= now) {\n            this.remove(key);\n            this.expiredKeys++;\n          }\n        }\n' +
          '      }, options.sweepIntervalMs),\n    );\n',
      ],
    ],
    caughtBy: ['TestBackgroundExpiry'],
    cause: 'a sweep that looks at only some keys with a time to live',
  },
  {
    name: 'sweep-caps-250-keys',
    description:
      'the background sweep looks at no more than 250 keys with a time to live a run, to keep each run short, always from the front of the table: expired keys behind 250 that live long are never removed unless read (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        '    for (const [key, exp] of this.expires) {\n      if (exp <= now) {\n        this.remove(key);\n        this.expiredKeys++;\n      }\n    }\n',
        '    let looked = 0;\n    for (const [key, exp] of this.expires) {\n      if (++looked > 250) break;\n      if (exp <= now) {\n        this.remove(key);\n        this.expiredKeys++;\n      }\n    }\n',
      ],
    ],
    caughtBy: ['TestBackgroundExpiry'],
    cause: 'a fixed number of them a sweep',
  },
  {
    name: 'sweep-not-stopped-by-close',
    description:
      "the background sweep's setInterval is not kept with the server's other timers, so close() never clears it: the closed server keeps sweeping, and its whole store stays in memory",
    file: 'server.ts',
    replace: [
      [
        '    this.timers.push(setInterval(() => this.sweep(), options.sweepIntervalMs));\n',
        '    setInterval(() => this.sweep(), options.sweepIntervalMs);\n',
      ],
    ],
    caughtBy: ['TestBackgroundExpiry'],
    cause: "the background sweep's setInterval not kept or not cleared in close()",
  },
  {
    name: 'no-lazy-expiry',
    description: 'reads ignore expiry times: an expired key is still returned until the sweep runs',
    file: 'server.ts',
    replace: [['if (exp !== undefined && exp <= Date.now()) {', 'if (exp === -12345) {']],
    caughtBy: ['TestTTL'],
    cause: 'reads do not check the deadline',
  },
  {
    name: 'set-keeps-ttl',
    description: 'a plain SET keeps the old time to live instead of clearing it',
    file: 'server.ts',
    replace: [['      if (this.expires.size > 0) this.expires.delete(key);', '      void 0;']],
    caughtBy: ['TestTTL'],
    cause: 'a plain SET removes the old time to live',
  },
  {
    name: 'one-command-per-chunk',
    description: 'only the first command of each chunk of input is run; the rest are dropped',
    file: 'server.ts',
    replace: [
      [
        '      out += this.execute(args, conn);\n      if (conn.closing) break;',
        '      out += this.execute(args, conn);\n      break;',
      ],
    ],
    caughtBy: ['TestPipelining', 'TestRealRedisClient'],
    cause: 'only the first command of each chunk',
  },
  {
    name: 'shared-parser',
    description:
      'one RequestParser shared by every connection: a half-sent command corrupts the commands of other clients',
    file: 'server.ts',
    replace: [
      ['class KVServer {', 'const sharedParser = new RequestParser();\nclass KVServer {'],
      ['parser: new RequestParser(),\n      closing: false', 'parser: sharedParser,\n      closing: false'],
    ],
    caughtBy: ['TestMalformedInput', 'TestConcurrentClients'],
    cause: 'one RequestParser shared by every connection',
  },
  {
    name: 'arity-unchecked',
    description: 'the number of arguments is not checked',
    file: 'server.ts',
    replace: [
      [
        'else if (cmd.arity > 0 ? args.length !== cmd.arity : args.length < -cmd.arity)\n      refused',
        'else if (cmd.arity === 12345)\n      refused',
      ],
    ],
    caughtBy: ['TestErrorReplies'],
    cause: 'the command has the wrong number of arguments',
  },
  {
    name: 'keys-ignores-pattern',
    description: 'KEYS lists every key whatever the pattern',
    file: 'server.ts',
    replace: [['if (globMatch(a[0], key)) out.push(key);', 'out.push(key);']],
    caughtBy: ['TestKeysAndStats'],
    cause: 'KEYS does not filter by the pattern',
  },
  {
    name: 'info-not-counted',
    description: 'INFO does not count itself in total_commands_processed',
    file: 'server.ts',
    replace: [['    this.totalCommands++;', "    if (cmd.name !== 'info') this.totalCommands++;"]],
    caughtBy: ['TestKeysAndStats'],
    cause: 'the INFO itself included',
  },
  {
    name: 'hello-accepted',
    description: 'HELLO replies OK, so clients believe the server speaks RESP3',
    file: 'server.ts',
    replace: [["run: () => reply.error('NOPROTO this server speaks RESP2 only')", 'run: () => reply.ok']],
    caughtBy: ['TestErrorReplies'],
    cause: 'so that clients fall back to RESP2',
  },
  {
    name: 'utf8-replies',
    description: 'replies are written as UTF-8 instead of byte strings: non-ASCII values come back mangled',
    file: 'server.ts',
    replace: [["conn.socket.write(out, 'latin1');", 'conn.socket.write(out);']],
    caughtBy: ['TestSetGetDel', 'TestRealRedisClient'],
    cause: 'values are binary-safe',
  },
  {
    name: 'no-aof',
    description: 'SETs are not written to the log: writes since the last snapshot are lost in a crash',
    file: 'persistence.ts',
    replace: [['    this.pending.push(setRecord({ key, value, expiresAt }));', '    void [key, value, expiresAt];']],
    caughtBy: ['TestCrashRecovery'],
    cause: 'a write must be in the log on disk before the client gets OK',
  },
  {
    name: 'torn-tail-kept',
    description: 'a torn last record is skipped when loading but left in the log, so later records are unreadable',
    file: 'persistence.ts',
    replace: [
      [
        '      fs.ftruncateSync(this.fd, good); // so that new records follow good ones\n      fs.fsyncSync(this.fd);\n',
        '',
      ],
    ],
    caughtBy: ['TestCrashRecovery'],
    cause: 'truncate the file to the last complete record',
  },
  {
    name: 'snapshot-keeps-log',
    description: 'a snapshot does not cut the log, which grows forever',
    file: 'persistence.ts',
    replace: [['    this.cutLog(logFrom);\n', '']],
    caughtBy: ['TestRestartRecovery'],
    cause: 'each snapshot should replace the log',
  },
  {
    name: 'snapshot-drops-ttl',
    description: 'snapshots forget expiry times',
    file: 'persistence.ts',
    replace: [['const r = setRecord(e);', 'const r = setRecord({ key: e.key, value: e.value });']],
    caughtBy: ['TestRestartRecovery'],
    cause: "the snapshot does not keep each key's deadline",
  },
  {
    name: 'no-fsync',
    description: "fsync 'always' never forces the log to disk: an acknowledged write can be lost in a power cut",
    file: 'persistence.ts',
    replace: [["    if (this.fsync === 'always') this.sync();\n", '']],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'force them to disk',
  },
  {
    name: 'always-fsyncs-for-listed-commands',
    description:
      "under fsync 'always', the log is fsynced only when the chunk ran a command from a list of writes (SET, DEL, INCR, EXPIRE, PEXPIRE, FLUSHDB, EXEC) that leaves out INCRBY, DECR and DECRBY: those are acknowledged unsynced (from a red-team review)",
    file: 'server.ts',
    replace: [
      [
        "    this.persistence?.flush();\n    if (out.length > 0) conn.socket.write(out, 'latin1');\n",
        "    this.persistence?.flush(this.mustSync);\n    this.mustSync = false;\n    if (out.length > 0) conn.socket.write(out, 'latin1');\n",
      ],
      [
        '    this.totalCommands++;\n',
        "    this.totalCommands++;\n    if (['set', 'del', 'incr', 'expire', 'pexpire', 'flushdb', 'exec'].includes(cmd.name)) this.mustSync = true;\n",
      ],
      ['  private run(cmd: Command,', '  private mustSync = false;\n\n  private run(cmd: Command,'],
    ],
    also: [
      {
        file: 'persistence.ts',
        replace: [
          ['  flush(): void {', '  flush(sync = true): void {'],
          ["    if (this.fsync === 'always') this.sync();", "    if (this.fsync === 'always' && sync) this.sync();"],
        ],
      },
    ],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'was not fsynced between the command and its reply',
  },
  {
    name: 'fsync-before-write',
    description:
      "fsync 'always' forces the log to disk before the chunk's records are written to it, not after: the fsync comes between the command and its reply but covers none of the command's records (from a red-team review)",
    file: 'persistence.ts',
    replace: [
      [
        "    fs.writeSync(this.fd, data);\n    this.logBytes += data.length;\n    this.unsynced = true;\n    if (this.fsync === 'always') this.sync();\n",
        "    if (this.fsync === 'always') fs.fsyncSync(this.fd);\n    fs.writeSync(this.fd, data);\n    this.logBytes += data.length;\n    this.unsynced = true;\n",
      ],
    ],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'it began before the records were written',
  },
  {
    name: 'fsync-after-reply',
    description: "fsync 'always' syncs the log only after the replies are written to the socket",
    file: 'server.ts',
    replace: [
      [
        "    this.persistence?.flush();\n    if (out.length > 0) conn.socket.write(out, 'latin1');\n",
        "    if (out.length > 0) conn.socket.write(out, 'latin1');\n    this.persistence?.flush();\n",
      ],
    ],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'finish the fsync first, then write the replies',
  },
  {
    name: 'no-policy-syncs',
    description: "fsync 'no' syncs the log after every write, like 'always'",
    file: 'persistence.ts',
    replace: [["if (this.fsync === 'always') this.sync();", "if (this.fsync !== 'everysec') this.sync();"]],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'do not fsync it',
  },
  {
    name: 'everysec-syncs-every-write',
    description: "fsync 'everysec' syncs the log after every write instead of once a second",
    file: 'persistence.ts',
    replace: [["if (this.fsync === 'always') this.sync();", "if (this.fsync !== 'no') this.sync();"]],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'do not fsync per write or per chunk',
  },
  {
    name: 'everysec-never-syncs',
    description: "fsync 'everysec' has no timer: the log is synced only by snapshots and close()",
    file: 'persistence.ts',
    replace: [
      [
        'this.syncTimer = setInterval(() => this.sync(), 1000);',
        'this.syncTimer = setInterval(() => undefined, 1000);',
      ],
    ],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'keep a timer (every 1000 ms) that fsyncs the log',
  },
  {
    name: 'md5-first-32-bits',
    description: 'md5Shard uses only the first 32 bits of the digest',
    file: 'client.ts',
    replace: [['BigInt(`0x${digest}`)', 'BigInt(`0x${digest.slice(0, 8)}`)']],
    caughtBy: ['TestShardPlacement'],
    cause: 'read the whole 128-bit MD5 digest as one number',
  },
  {
    name: 'ring-without-vnodes',
    description: 'each server is a single point on the ring',
    file: 'client.ts',
    replace: [['vnodes = 160) {', 'vnodes = 1) {']],
    caughtBy: ['TestHashRing'],
    cause: "points not made from md5('server-<id>#<i>')",
  },
  {
    name: 'ring-no-wrap',
    description:
      "a key past the ring's last point goes to the last point's node instead of wrapping around to the first",
    file: 'client.ts',
    replace: [
      [
        'return this.points[lo === this.points.length ? 0 : lo].node;',
        'return this.points[Math.min(lo, this.points.length - 1)].node;',
      ],
    ],
    caughtBy: ['TestHashRing'],
    cause: 'a search that does not wrap around past the last point',
  },
  {
    name: 'ring-is-modulo',
    description: 'the "ring" picks a point by hash modulo the number of points, so adding a node reshuffles keys',
    file: 'client.ts',
    replace: [
      [
        '    const at = ringPoint(key);\n',
        '    const at = ringPoint(key);\n    if (at >= 0) return this.points[at % this.points.length].node;\n',
      ],
    ],
    caughtBy: ['TestHashRing'],
    cause: 'a point picked by hash modulo the number of points',
  },
  {
    name: 'no-retry',
    description: 'the client gives up after the first failed attempt',
    file: 'client.ts',
    replace: [['if (attempts > this.retries || this.closed) break;', 'if (attempts > 0 || this.closed) break;']],
    caughtBy: ['TestClientRetry'],
    cause: 'the client gives up after the first failed attempt',
  },
  {
    name: 'retry-without-delay',
    description: 'the client retries at once instead of waiting 0.5 s',
    file: 'client.ts',
    replace: [['        await this.pause();\n', '']],
    caughtBy: ['TestClientRetry'],
    cause: 'without waiting retryDelayMs',
  },
  {
    name: 'broken-connection-kept',
    description:
      "a broken connection's error is kept: every later attempt fails on it at once without dialling again, yet waits and reports its retry",
    file: 'client.ts',
    replace: [
      [
        '    const socket = this.socket ?? this.open();\n',
        '    const kept = (this as { broken?: Error }).broken;\n    if (kept) return Promise.reject(kept);\n    const socket = this.socket ?? this.open();\n',
      ],
      [
        '    this.socket = undefined;\n    socket.destroy();\n',
        '    this.socket = undefined;\n    (this as { broken?: Error }).broken = err;\n    socket.destroy();\n',
      ],
    ],
    caughtBy: ['TestClientRetry'],
    cause: 'open a new connection for an attempt after a failure',
  },
  {
    name: 'error-reply-retried',
    description: 'an error reply counts as a failed attempt: it is retried, and ends as ServerUnavailableError',
    file: 'client.ts',
    replace: [
      [
        '        reply = await this.connections[index].send(args, this.timeoutMs);\n',
        '        reply = await this.connections[index].send(args, this.timeoutMs);\n        if (reply instanceof RespError) throw new Error(reply.message);\n',
      ],
    ],
    caughtBy: ['TestClientErrorReply'],
    cause: 'an error reply counted as a failed attempt',
  },
  {
    name: 'no-request-timeout',
    description: 'the client waits for ever on a server that accepts but never answers',
    file: 'client.ts',
    replace: [['      }, timeoutMs);', '      }, timeoutMs * 1000);']],
    caughtBy: ['TestClientTimeout'],
    cause: 'no timeout per request',
  },
  {
    name: 'replies-lifo',
    description: 'the client pairs each reply with the newest waiting request instead of the oldest',
    file: 'client.ts',
    replace: [['this.queue.shift()?.resolve(r)', 'this.queue.pop()?.resolve(r)']],
    caughtBy: ['TestConcurrentClients'],
    cause: 'in another order than first in, first out',
  },
  {
    name: 'object-store-lookup',
    description:
      'values are read from a plain object, so "constructor" or "toString" find Object.prototype\'s functions',
    file: 'server.ts',
    replace: [
      [
        '    return this.values.get(key);\n  }',
        '    return (Object.fromEntries(this.values) as Record<string, string>)[key];\n  }',
      ],
    ],
    caughtBy: ['TestStrangeKeys'],
    cause: 'the store is a plain object',
  },
  {
    name: 'expire-not-logged',
    description: 'EXPIRE changes the deadline in memory only: after a crash the key has no TTL',
    file: 'server.ts',
    replace: [
      [
        '    this.expires.set(key, at);\n    this.persistence?.recordSet(key, this.values.get(key)!, at);\n',
        '    this.expires.set(key, at);\n',
      ],
    ],
    caughtBy: ['TestCrashExpiry'],
    cause: 'EXPIRE must be logged',
  },
  {
    name: 'incr-log-drops-ttl',
    description: "INCR logs the new value without the key's TTL, so after a crash the key lives for ever",
    file: 'server.ts',
    replace: [
      [
        'this.persistence?.recordSet(key, value, this.expires.get(key));',
        "this.persistence?.recordSet(key, value, expiresAt === 'keep' ? undefined : expiresAt);",
      ],
    ],
    caughtBy: ['TestCrashExpiry'],
    cause: 'log the TTL with the new value',
  },
  {
    name: 'relative-ttl-in-log',
    description: 'the log records the time left (PX) instead of the deadline, so a restart gives every key a fresh TTL',
    file: 'persistence.ts',
    replace: [
      ["'PXAT', deadlineText(e.expiresAt)]", "'PXAT', deadlineText(e.expiresAt - Date.now())]"],
      [
        'expiresAt: at === undefined ? undefined : Number(at)',
        'expiresAt: at === undefined ? undefined : Date.now() + Number(at)',
      ],
    ],
    caughtBy: ['TestCrashExpiry'],
    cause: 'never a relative time',
  },
  {
    name: 'expire-delete-not-logged',
    description: 'EXPIRE with a time <= 0 deletes the key in memory only: it comes back after a crash',
    file: 'server.ts',
    replace: [
      [
        '      this.remove(key);\n      this.persistence?.recordDelete(key);\n      return reply.integer(1);',
        '      this.remove(key);\n      return reply.integer(1);',
      ],
    ],
    caughtBy: ['TestCrashExpiry'],
    cause: 'that deletion must be logged',
  },
  {
    name: 'aof-object-state',
    description: 'the log is replayed into a plain object: a key "__proto__" is lost at every restart',
    file: 'persistence.ts',
    replace: [
      ['const state = new Map<string, StoredEntry>();', 'const state = {} as Record<string, StoredEntry>;'],
      ['const held = state.size;', 'const held = Object.keys(state).length;'],
      ['} else this.apply(state, cmd);', '} else this.applyToObject(state, cmd);'],
      [
        'for (const r of transaction.records) this.apply(state, r);',
        'for (const r of transaction.records) this.applyToObject(state, r);',
      ],
      ['      else this.apply(state, cmd);\n', '      else this.applyToObject(state, cmd);\n'],
      ['return [...state.values()].filter(', 'return Object.values(state).filter('],
      [
        '  private apply(state: Map<string, StoredEntry>, cmd: string[]): void {',
        "  private applyToObject(state: Record<string, StoredEntry>, cmd: string[]): void {\n    const [name, key, value, , at] = cmd;\n    if (name === 'SET') state[key] = { key, value, expiresAt: at === undefined ? undefined : Number(at) };\n    else if (name === 'DEL') delete state[key];\n    else if (name === 'FLUSHALL') for (const k of Object.keys(state)) delete state[k];\n  }\n\n  private apply(state: Map<string, StoredEntry>, cmd: string[]): void {",
      ],
    ],
    caughtBy: ['TestCrashStrangeData'],
    cause: 'replay into a Map, not a plain object',
  },
  {
    name: 'aof-utf8-records',
    description:
      'log records are encoded from strings, which encodeCommand sends as UTF-8: every non-ASCII byte is doubled after a crash',
    file: 'persistence.ts',
    replace: [["return encodeCommand(words.map((w) => Buffer.from(w, 'latin1')));", 'return encodeCommand(words);']],
    caughtBy: ['TestCrashStrangeData'],
    cause: 'encode each word as a latin1 Buffer',
  },
  {
    name: 'snapshot-utf8',
    description:
      'the snapshot is written as UTF-8 but read as latin1: non-ASCII bytes come back mangled after a restart',
    file: 'persistence.ts',
    replace: [
      [
        'const r = setRecord(e);',
        "const r = setRecord({ ...e, key: Buffer.from(e.key, 'utf8').toString('latin1'), value: Buffer.from(e.value, 'utf8').toString('latin1') });",
      ],
    ],
    caughtBy: ['TestCrashStrangeData'],
    cause: 'write and read it with the same encoding',
  },
  {
    name: 'snapshot-not-atomic',
    description: 'the snapshot is written over the old one in place: a crash while writing leaves half a file',
    file: 'persistence.ts',
    replace: [['const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);', 'const tmp = path.join(this.dir, SNAPSHOT);']],
    caughtBy: ['TestSnapshotCrash'],
    cause: 'Write a snapshot atomically',
  },
  {
    name: 'snapshot-not-fsynced',
    description:
      'the snapshot is written aside and renamed into place without an fsync, and the log is then emptied: a power cut can leave an empty snapshot and an empty log',
    file: 'persistence.ts',
    replace: [['      await file.sync();\n    } catch (err) {', '    } catch (err) {']],
    caughtBy: ['TestNemesisRedis'],
    cause: 'written aside, fsynced, renamed over the old one',
  },
  {
    name: 'log-emptied-before-snapshot',
    description:
      'the log is emptied before the new snapshot is in place: a crash in between loses every write since the last snapshot',
    file: 'persistence.ts',
    replace: [
      [
        '    this.flush();\n    const done',
        '    this.flush();\n    fs.ftruncateSync(this.fd, 0);\n    this.logBytes = 0;\n    const done',
      ],
    ],
    caughtBy: ['TestSnapshotCrash'],
    cause: 'the log was emptied before the new snapshot was safely in place',
  },
  {
    name: 'timeout-keeps-connection',
    description:
      'a timeout fails the oldest waiting request but keeps the connection, so the late reply answers the next request',
    file: 'client.ts',
    replace: [
      [
        'this.fail(socket, new Error(`no reply within ${timeoutMs} ms`));',
        'this.queue.shift()?.reject(new Error(`no reply within ${timeoutMs} ms`));',
      ],
    ],
    caughtBy: ['TestLateReply'],
    cause: 'After a timeout destroy the connection',
  },
  {
    name: 'commands-plain-lookup',
    description:
      "the command table is a plain object looked up as table[name], so 'constructor' and '__proto__' find Object.prototype's members instead of 'unknown command'",
    file: 'server.ts',
    replace: [
      [
        'const found = this.commands.get(args[0]);',
        'const found = (Object.fromEntries(this.commands) as Record<string, Command | undefined>)[args[0]];',
      ],
      [
        'const cmd = found ?? this.commands.get(name);',
        'const cmd = found ?? (Object.fromEntries(this.commands) as Record<string, Command | undefined>)[name];',
      ],
    ],
    caughtBy: ['TestErrorReplies'],
    cause: 'the command table is a plain object looked up as table[name]',
  },
  {
    name: 'del-counts-unswept',
    description:
      'DEL checks that the key is in the table instead of looking it up: an expired key not yet swept is counted as deleted',
    file: 'server.ts',
    replace: [
      ['            if (this.lookup(key) === undefined) continue;', '            if (!this.values.has(key)) continue;'],
    ],
    caughtBy: ['TestTTL'],
    cause: 'the command checks that the key is in the table',
  },
  {
    name: 'md5-latin1-key',
    description:
      "md5Shard hashes the key's characters as latin1 instead of its UTF-8 bytes: non-ASCII keys land on another server than the original's",
    file: 'client.ts',
    replace: [
      [
        "const digest = createHash('md5').update(key, 'utf8').digest('hex');",
        "const digest = createHash('md5').update(key, 'latin1').digest('hex');",
      ],
    ],
    caughtBy: ['TestShardPlacement'],
    cause: "hash the key's UTF-8 bytes",
  },
  {
    name: 'corrupt-log-taken-for-torn',
    description:
      'a record the parser refuses in the middle of the log is treated as a torn last record: the log is cut there, losing every write after it',
    file: 'persistence.ts',
    replace: [
      [
        '      if (!(err instanceof ProtocolError)) throw err;\n      problem =',
        '      if (!(err instanceof ProtocolError)) throw err;\n      return good;\n      problem =',
      ],
    ],
    caughtBy: ['TestCorruptLog'],
    cause: 'cutting the log there',
  },
  {
    name: 'unknown-records-skipped',
    description: 'log records that are not SET, DEL or FLUSHALL are skipped: a damaged record goes unnoticed',
    file: 'persistence.ts',
    replace: [
      [
        'if (cmd !== undefined) problem = invalidRecord(cmd, allowed) ?? apply(cmd, good) ?? undefined;',
        'if (cmd !== undefined) problem = apply(cmd, good) ?? undefined;',
      ],
    ],
    caughtBy: ['TestCorruptLog'],
    cause: 'is not a command your log writes',
  },
  {
    name: 'snapshot-blocks',
    description: 'the snapshot pieces are written with writeSync: no client is served until the whole store is written',
    file: 'persistence.ts',
    replace: [
      [
        'await file.write(Buffer.concat(chunk)); // the event loop serves clients while this is written',
        'fs.writeSync(file.fd, Buffer.concat(chunk));',
      ],
      [
        '      await file.write(Buffer.concat(chunk));\n      await file.sync();',
        '      fs.writeSync(file.fd, Buffer.concat(chunk));\n      await file.sync();',
      ],
    ],
    caughtBy: ['TestSnapshotServes'],
    cause: 'write the file in pieces with the event loop free between them',
  },
  {
    name: 'snapshot-blocks-then-pauses',
    description:
      'the snapshot pieces are written with writeSync, then the snapshot pauses 25 ms before its last piece: clients are served only in that pause, after the store was written (from a red-team review)',
    file: 'persistence.ts',
    replace: [
      [
        'await file.write(Buffer.concat(chunk)); // the event loop serves clients while this is written',
        'fs.writeSync(file.fd, Buffer.concat(chunk));',
      ],
      [
        '      await file.write(Buffer.concat(chunk));\n      await file.sync();',
        '      await new Promise((resolve) => setTimeout(resolve, 25));\n      await file.write(Buffer.concat(chunk));\n      await file.sync();',
      ],
    ],
    caughtBy: ['TestSnapshotServes'],
    cause: 'the snapshot blocked every client',
  },
  {
    name: 'backpressure-past-16mb',
    description:
      "backpressure past 16 MB of unsent replies per connection instead of about 1 MB: each client that does not read holds 16 MB of the server's memory",
    file: 'server.ts',
    replace: [['const OUTPUT_PAUSE_BYTES = 1 << 20;', 'const OUTPUT_PAUSE_BYTES = 16 << 20;']],
    caughtBy: ['TestSlowReader'],
    cause: 'The bound is per connection, so it must be small',
  },
  {
    name: 'no-backpressure',
    description:
      "a client's commands run however many of its replies are still unsent: one that never reads fills the server's memory",
    file: 'server.ts',
    replace: [
      ['      if (out.length + conn.socket.writableLength >= OUTPUT_PAUSE_BYTES) {', '      if (out.length < 0) {'],
    ],
    caughtBy: ['TestSlowReader'],
    cause: 'Apply backpressure',
  },
  {
    name: 'incr-in-doubles',
    description: 'INCRBY adds JavaScript numbers instead of 64-bit integers: values past 2^53 come out rounded',
    file: 'server.ts',
    replace: [['    const next = cur + by;\n', '    const next = BigInt(Number(cur) + Number(by));\n']],
    caughtBy: ['TestIntegers', 'TestRedisReplies'],
    cause: 'JavaScript numbers are exact only up to 2^53',
  },
  {
    name: 'decrby-adds',
    description: 'DECRBY adds its argument instead of subtracting it',
    file: 'server.ts',
    replace: [['return this.incrBy(a[0], -by);', 'return this.incrBy(a[0], by);']],
    caughtBy: ['TestIntegers', 'TestRedisReplies'],
    cause: 'DECRBY subtracts its argument',
  },
  {
    name: 'lenient-integers',
    description:
      'a stored value is read as an integer the way Number() does: "01", "+1" and " 1" are accepted, as Redis does not',
    file: 'server.ts',
    replace: [
      [
        "    const cur = parseInt64(old ?? '0');",
        "    const text = (old ?? '0').trim();\n    const cur = /^[+-]?\\d+$/.test(text) ? BigInt(text) : undefined;",
      ],
    ],
    caughtBy: ['TestIntegers', 'TestRedisReplies'],
    cause: 'Number("01") and parseInt accept it',
  },
  {
    name: 'no-overflow-check',
    description:
      'INCR past 2^63-1 stores a value Redis cannot hold instead of refusing with "increment or decrement would overflow"',
    file: 'server.ts',
    replace: [
      [
        "    if (next > INT64_MAX || next < INT64_MIN) return reply.error('ERR increment or decrement would overflow');\n",
        '',
      ],
    ],
    caughtBy: ['TestIntegers', 'TestRedisReplies'],
    cause: 'the sum does not fit in 64 bits',
  },
  {
    name: 'multi-runs-at-once',
    description:
      'inside MULTI each command runs at once (and replies QUEUED): other clients see it before EXEC, and EXEC has nothing to run',
    file: 'server.ts',
    replace: [['    queue.push(args);\n', '    this.run(this.commands.get(args[0].toLowerCase())!, args, conn);\n']],
    caughtBy: ['TestTransactions', 'TestRedisReplies'],
    cause: 'a queued SET must not run before EXEC',
  },
  {
    name: 'multi-queue-unbounded-count',
    description: 'MULTI queues any number of commands: a client can grow the server without bound, 200 bytes at a time',
    file: 'server.ts',
    replace: [['if (queue.length >= MULTI_MAX_COMMANDS || ', 'if (']],
    caughtBy: ['TestTransactions'],
    cause: 'MULTI queues at most 100000 commands',
  },
  {
    name: 'multi-queue-unbounded-bytes',
    description: "MULTI queues commands of any total size: a few large SETs grow the server's memory without bound",
    file: 'server.ts',
    replace: [[' || conn.queuedBytes + bytes > MULTI_MAX_BYTES) {', ') {']],
    caughtBy: ['TestTransactions'],
    cause: '134217728 bytes of words',
  },
  {
    name: 'exec-logged-piecemeal',
    description:
      "EXEC's changes are logged as separate records, not between MULTI and EXEC: a crash in the middle of writing them leaves half a transaction",
    file: 'server.ts',
    replace: [
      [
        'return reply.array(this.persistence ? this.persistence.atomically(runAll) : runAll());',
        'return reply.array(runAll());',
      ],
    ],
    caughtBy: ['TestCrashTransaction'],
    cause: 'write them between a MULTI record and an EXEC record',
  },
  {
    name: 'log-replays-unfinished-transaction',
    description:
      'loading the log applies the records of a transaction whose EXEC record never came (a crash cut it short)',
    file: 'persistence.ts',
    replace: [
      [
        '} else if (transaction !== undefined) transaction.records.push(cmd);',
        '} else if (transaction !== undefined) this.apply(state, cmd);',
      ],
    ],
    caughtBy: ['TestCrashTransaction'],
    cause: 'apply a transaction only once its EXEC record is read',
  },
  {
    name: 'log-keeps-unfinished-transaction',
    description:
      'loading the log ignores a transaction without EXEC but leaves it in the file: the records appended after it are taken as part of it at the next start',
    file: 'persistence.ts',
    replace: [['      good = transaction.at;\n', '']],
    caughtBy: ['TestCrashTransaction'],
    cause: 'must be cut off the log when loading',
  },
  {
    name: 'refused-command-not-aborting',
    description:
      'a command refused while queuing does not abort the transaction: EXEC runs the rest (the bug redis-py users met)',
    file: 'server.ts',
    replace: [
      ['      if (conn.queue !== undefined) conn.dirty = true; // EXEC will abort', '      // EXEC will abort'],
    ],
    caughtBy: ['TestTransactions', 'TestRedisReplies'],
    cause: 'EXEC must abort the transaction',
  },
  {
    name: 'scan-all-at-once',
    description: 'SCAN ignores COUNT and returns every key in one reply with the cursor 0',
    file: 'server.ts',
    replace: [['      if (looked === count) break;\n', '']],
    caughtBy: ['TestScan'],
    cause: 'at most COUNT keys per call',
  },
  {
    name: 'scan-cursor-is-position',
    description:
      "SCAN's cursor is a position in the list of keys: compacting the list after deletions shifts the keys, and the walk skips some",
    file: 'server.ts',
    replace: [
      ['    let i = lo;\n', '    let i = Math.min(Number(cursor), this.orderKeys.length);\n'],
      [
        "    const next = i < this.orderKeys.length ? String(this.orderSeqs[i]) : '0';",
        "    const next = i < this.orderKeys.length ? String(i) : '0';",
      ],
    ],
    caughtBy: ['TestScan'],
    cause: 'A cursor must not depend on positions that a deletion shifts',
  },
  {
    name: 'scan-returns-expired',
    description: 'SCAN lists keys whose time to live ran out but that no sweep has removed yet',
    file: 'server.ts',
    replace: [['|| this.lookup(key) === undefined) continue;', '|| !this.values.has(key)) continue;']],
    caughtBy: ['TestScan'],
    cause: 'an expired key must never be visible, to SCAN neither',
  },
  {
    name: 'set-first-time-wins',
    description: 'a repeated SET option (EX 10 EX 20) is refused as a syntax error, where Redis takes the last',
    file: 'server.ts',
    replace: [
      [
        '        !keepTtl &&\n        (unit === undefined || unit === opt) &&\n        hasNext',
        '        !keepTtl &&\n        unit === undefined &&\n        hasNext',
      ],
    ],
    caughtBy: ['TestRedisReplies'],
    cause: 'one kind of time may repeat (the last wins)',
  },
  {
    name: 'flushdb-ignores-arguments',
    description: 'FLUSHDB junk empties the database, where Redis refuses it with a syntax error',
    file: 'server.ts',
    replace: [
      [
        "          if (a.length > 1 || (a.length === 1 && !['sync', 'async'].includes(a[0].toLowerCase()))) return syntaxError;\n",
        '',
      ],
    ],
    caughtBy: ['TestRedisReplies'],
    cause: 'FLUSHDB with arguments',
  },
  {
    name: 'unknown-command-short',
    description:
      'the unknown-command error quotes only the first three arguments, 40 characters each, with no space after the last',
    file: 'server.ts',
    replace: [
      [
        "  for (let i = 1; i < args.length && rest.length < 128; i++)\n    rest += `'${cString(args[i]).slice(0, 128 - rest.length)}' `;",
        "  rest = args.slice(1, 4).map((a) => `'${a.slice(0, 40)}'`).join(' ');",
      ],
    ],
    caughtBy: ['TestRedisReplies'],
    cause: 'each followed by a space, until the text reaches 128 characters',
  },
  {
    name: 'expire-no-limits',
    description:
      'EXPIRE accepts any integer: a time that overflows 64 bits once made absolute is taken instead of refused with "invalid expire time in \'expire\' command"',
    file: 'server.ts',
    replace: [['    if (when > INT64_MAX - BigInt(now)) return invalid;\n', '']],
    caughtBy: ['TestRedisReplies'],
    cause: 'the limits that give "invalid expire time',
  },
  {
    name: 'ring-ties-by-insertion',
    description:
      'ring points sorted by position only: two nodes on the same point keep the order they were added in, not the lower id first',
    file: 'client.ts',
    replace: [
      ['this.points.sort((a, b) => a.at - b.at || a.node - b.node);', 'this.points.sort((a, b) => a.at - b.at);'],
    ],
    caughtBy: ['TestHashRing'],
    cause: 'sort by position, then by node id',
  },
  {
    name: 'ring-whole-digest',
    description:
      'ring positions from the whole MD5 digest (parseInt of 32 hex digits) instead of its first 32 bits: only ties between points tell',
    file: 'client.ts',
    replace: [[".digest('hex').slice(0, 8), 16);", ".digest('hex'), 16);"]],
    caughtBy: ['TestHashRing'],
    cause: 'a position taken from the whole MD5 digest instead of its first 32 bits',
  },
  {
    name: 'ring-search-past-point',
    description: "the ring's binary search skips a point at exactly the key's position: the key goes to the next point",
    file: 'client.ts',
    replace: [['if (this.points[mid].at < at) lo = mid + 1;', 'if (this.points[mid].at <= at) lo = mid + 1;']],
    caughtBy: ['TestHashRing'],
    cause: 'compare with <, not <=',
  },
  {
    name: 'stale-close-fails-new-connection',
    description:
      "a destroyed socket's late 'close' event fails the connection that replaced it, and the requests waiting there",
    file: 'client.ts',
    replace: [
      ['    if (this.socket !== socket) return;\n    this.socket = undefined;', '    this.socket = undefined;'],
    ],
    caughtBy: ['TestLateReply'],
    cause: 'check that the event comes from the socket in use',
  },
  {
    name: 'client-close-keeps-sockets',
    description: 'ShardedClient.close() does nothing: its connections stay open',
    file: 'client.ts',
    replace: [['    for (const c of this.connections) c.close();\n', '']],
    caughtBy: ['TestLateReply'],
    cause: 'close() must close every connection it keeps',
  },
  {
    name: 'client-set-drops-ttl',
    description: 'ShardedClient.set ignores ttlSeconds: the key is stored without a time to live',
    file: 'client.ts',
    replace: [["ttlSeconds === undefined ? ['SET', key, value] :", "true ? ['SET', key, value] :"]],
    caughtBy: ['TestShardPlacement'],
    cause: 'send SET key value EX',
  },
  {
    name: 'snapshot-empties-log',
    description:
      'once a snapshot is in place the whole log is emptied, with the writes that arrived while it was written',
    file: 'persistence.ts',
    replace: [['    if (upTo >= this.logBytes) {', '    if (upTo >= 0) {']],
    caughtBy: ['TestSnapshotServes'],
    cause: 'do not empty the log',
  },
  {
    name: 'flush-not-logged',
    description: 'FLUSHDB is not written to the log: after a crash the flushed keys come back',
    file: 'persistence.ts',
    replace: [["    this.pending.push(record(['FLUSHALL']));\n", '']],
    caughtBy: ['TestCrashExpiry'],
    cause: 'log it (FLUSHALL)',
  },
  {
    name: 'log-arity-unchecked',
    description:
      'a SET record in the log is applied whatever its number of arguments: a hand-damaged record loads silently',
    file: 'persistence.ts',
    replace: [
      [
        "      ? cmd.length === 3 || (cmd.length === 5 && cmd[3] === 'PXAT' && isDeadline(cmd[4]))\n      : name === 'DEL'",
        "      ? true\n      : name === 'DEL'",
      ],
    ],
    caughtBy: ['TestCorruptLog'],
    cause: 'with its arity',
  },
  {
    name: 'close-skips-final-snapshot',
    description: 'close() does not write the final snapshot: the log is left as it is',
    file: 'server.ts',
    replace: [
      [
        '      await this.persistence.whenIdle();\n      await this.persistence.snapshot(this.copy());\n',
        '      await this.persistence.whenIdle();\n',
      ],
    ],
    caughtBy: ['TestCrashStrangeData'],
    cause: 'close() writes a final snapshot',
  },
  {
    name: 'expired-on-access-not-counted',
    description:
      'expired_keys counts only the keys the sweep removes, not those removed when a command finds them expired',
    file: 'server.ts',
    replace: [
      [
        '      this.remove(key);\n      this.expiredKeys++;\n      return undefined;',
        '      this.remove(key);\n      return undefined;',
      ],
    ],
    caughtBy: ['TestTTL'],
    cause: 'count in the lookup that drops an expired key',
  },
  {
    name: 'int-parses-prefix',
    description: 'SET\'s expire time read with parseInt: "10s" is taken as 10 instead of an error',
    file: 'server.ts',
    replace: [
      [
        '      const n = parseInt64(time);',
        '      const n = Number.isNaN(parseInt(time, 10)) ? undefined : BigInt(parseInt(time, 10));',
      ],
    ],
    caughtBy: ['TestTTL'],
    cause: 'check the whole word',
  },
  {
    name: 'unknown-command-short-error',
    description: 'the unknown-command error leaves out Redis\'s "with args beginning with: ..."',
    file: 'server.ts',
    replace: [["', with args beginning with: ${rest}`", "'`"]],
    caughtBy: ['TestErrorReplies'],
    cause: 'the name, then the arguments after it, each in quotes',
  },
  {
    name: 'set-ex-and-px',
    description: 'SET accepts both EX and PX (the last one wins) instead of a syntax error',
    file: 'server.ts',
    replace: [
      [
        '        !keepTtl &&\n        (unit === undefined || unit === opt) &&\n        hasNext',
        '        !keepTtl &&\n        hasNext',
      ],
    ],
    caughtBy: ['TestErrorReplies'],
    cause: 'EX and PX together: a key has one time to live',
  },
  {
    name: 'default-fsync-no',
    description: "a server started without an fsync option never fsyncs (the default should be 'everysec')",
    file: 'server.ts',
    replace: [["fsync: options.fsync ?? 'everysec',", "fsync: options.fsync ?? 'no',"]],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'the server was started without an fsync option',
  },
  {
    name: 'info-keyspace-always',
    description: 'INFO prints db0:keys=0,expires=0 for an empty store instead of leaving the line out',
    file: 'server.ts',
    replace: [['...(this.values.size > 0 ? [', '...(this.values.size >= 0 ? [']],
    caughtBy: ['TestKeysAndStats'],
    cause: 'leave the db0 line out when there are no keys',
  },
  {
    name: 'loaded-keys-not-in-scan',
    description:
      "keys loaded from the data folder get no place in SCAN's order, so SCAN never returns them after a restart (the reference solution had this bug)",
    file: 'server.ts',
    replace: [["        this.listKey(e.key); // in SCAN's order, as a key stored by SET is\n", '']],
    caughtBy: ['TestRestartRecovery'],
    cause: "Keys loaded from the data folder must take their place in SCAN's order",
  },
  {
    name: 'info-shows-expired',
    description: 'INFO counts keys whose time ran out but that no command or sweep has removed yet',
    file: 'server.ts',
    replace: [['  private info(): string {\n    this.sweep();\n', '  private info(): string {\n']],
    caughtBy: ['TestTTL'],
    cause: 'to INFO neither',
  },
  {
    name: 'keys-shows-expired',
    description: 'KEYS lists keys whose time ran out but that no command or sweep has removed yet',
    file: 'server.ts',
    replace: [
      ['          this.sweep();\n          const out: string[] = [];\n', '          const out: string[] = [];\n'],
    ],
    caughtBy: ['TestTTL'],
    cause: 'KEYS walks the table without first dropping expired keys',
  },
  {
    name: 'set-past-deadline-not-logged',
    description:
      'SET with EXAT/PXAT in the past removes the key without logging anything, so a crash brings the old value back',
    file: 'server.ts',
    replace: [
      [
        "    this.store(a[0], a[1], expiresAt ?? (keepTtl ? 'keep' : undefined), old);",
        "    if (expiresAt !== undefined && expiresAt <= Date.now()) this.remove(a[0]);\n    else this.store(a[0], a[1], expiresAt ?? (keepTtl ? 'keep' : undefined), old);",
      ],
    ],
    caughtBy: ['TestCrashExpiry'],
    cause: 'log it (a SET with that PXAT, or a DEL)',
  },
  {
    name: 'ring-id-as-position',
    description: "the client takes the ring's node id for a position in its server list (ids 1..n), so other ids fail",
    file: 'client.ts',
    replace: [
      [
        '      const id = this.ring.nodeFor(key);\n      return this.servers.findIndex((s) => s.id === id);',
        '      return this.ring.nodeFor(key) - 1;',
      ],
    ],
    caughtBy: ['TestHashRing'],
    cause: 'do not take the id for a position in the list',
  },
  {
    name: 'client-ttl-truthy',
    description:
      'set(key, value, ttlSeconds) tests ttlSeconds for being truthy: a time to live of 0 is dropped, and the key is set for good instead of refused',
    file: 'client.ts',
    replace: [["ttlSeconds === undefined ? ['SET', key, value]", "!ttlSeconds ? ['SET', key, value]"]],
    caughtBy: ['TestNemesisClient'],
    cause: 'ttlSeconds tested for being truthy',
  },
  {
    name: 'answered-timer-left-running',
    description:
      "an answered request's timer is not cleared, only disarmed (it does nothing when it fires): every request keeps a live timer for timeoutMs, and close() leaves them running",
    file: 'client.ts',
    replace: [
      [
        '      const timer = setTimeout(() => {\n',
        '      let answered = false;\n      const timer = setTimeout(() => {\n        if (answered) return;\n',
      ],
      [
        '        resolve: (r) => {\n          clearTimeout(timer);\n          resolve(r);',
        '        resolve: (r) => {\n          answered = true;\n          resolve(r);',
      ],
    ],
    caughtBy: ['TestClientClose'],
    cause: 'the timeout timer of each request not cleared when its reply comes',
  },
  {
    name: 'close-leaves-retry-waiting',
    description:
      'close() closes the connections but does not end a retry wait: a call waiting to retry ends only when its wait is over',
    file: 'client.ts',
    replace: [['    for (const end of [...this.pauses]) end();\n', '']],
    caughtBy: ['TestClientClose'],
    cause: 'close() closes the connections but leaves the retry loop waiting',
  },
  {
    name: 'closed-client-reconnects',
    description: 'close() ends the calls running, but a call made after it opens a new connection and is served',
    file: 'client.ts',
    replace: [['    while (!this.closed) {\n', '    for (;;) {\n']],
    caughtBy: ['TestClientClose'],
    cause: 'a closed client that opens a new connection on its next call',
  },
  {
    name: 'answered-timer-kept',
    description:
      "an answered request's timer is not cleared: it fires timeoutMs later and fails the connection and the requests in flight",
    file: 'client.ts',
    replace: [
      [
        '        resolve: (r) => {\n          clearTimeout(timer);\n          resolve(r);',
        '        resolve: (r) => {\n          resolve(r);',
      ],
    ],
    caughtBy: ['TestConcurrentClients'],
    cause: "a request's timer is not cleared when its reply arrives",
  },
  {
    name: 'backpressure-ignores-collected-replies',
    description:
      "backpressure looks at the socket's unsent bytes only, not at the replies being collected: one packet of many GETs of a large value runs whole (from an independent round of bugs written from the handouts alone)",
    file: 'server.ts',
    replace: [
      [
        'if (out.length + conn.socket.writableLength >= OUTPUT_PAUSE_BYTES) {',
        'if (conn.socket.writableLength >= OUTPUT_PAUSE_BYTES) {',
      ],
    ],
    caughtBy: ['TestSlowReader'],
    cause: 'the replies being collected',
  },
  {
    name: 'deadline-not-clamped',
    description:
      'a deadline is written to the log as its double says: PXAT 9223372036854775807 becomes 2^63, which the loader refuses at the next start (from an independent round of bugs written from the handouts alone)',
    file: 'persistence.ts',
    replace: [['return String(ms > INT64_MAX ? INT64_MAX : ms);', 'return String(ms);']],
    caughtBy: ['TestNemesisRedis'],
    cause: 'not as its double says',
  },
  {
    name: 'reply-parser-kept-across-reconnect',
    description:
      "the client keeps one reply parser for all its connections: the bytes of a half reply on a broken connection are read as the start of the next connection's first reply (from an independent round of bugs written from the handouts alone)",
    file: 'client.ts',
    replace: [['    this.socket = socket;\n    this.parser = new ReplyParser();\n', '    this.socket = socket;\n']],
    caughtBy: ['TestNemesisClient'],
    cause: 'give the new connection a fresh reply parser',
  },
  {
    name: 'log-size-counts-torn-tail',
    description:
      'after a load that cut a torn record off the log, the log is taken to be as long as it was before the cut: the next snapshot that meets new records cuts the log at the wrong offset (from an independent round of bugs written from the handouts alone)',
    file: 'persistence.ts',
    replace: [['    this.logBytes = good;', '    this.logBytes = log.length;']],
    caughtBy: ['TestNemesisRedis'],
    cause: "the log's size is its size once cut",
  },
  {
    name: 'connection-kept-after-close',
    description:
      "a connection's state (its socket, parser and transaction queue) stays in the server's set after the socket closes: every connection ever made is kept",
    file: 'server.ts',
    replace: [["    socket.on('close', () => this.connections.delete(conn));\n", '']],
    caughtBy: ['TestLongLife'],
    cause: 'kept in a set or map after the socket closed',
  },
  {
    name: 'queued-bytes-kept-across-exec',
    description:
      "a transaction's byte count is not reset by MULTI: the words of every transaction a connection ever ran count towards the next one's limit, so a long-lived connection is refused after 128 MiB",
    file: 'server.ts',
    replace: [['          conn.queue = [];\n          conn.queuedBytes = 0;\n', '          conn.queue = [];\n']],
    caughtBy: ['TestLongLife'],
    cause: 'kept across EXEC instead of reset by MULTI',
  },
  {
    name: 'commands-after-quit-run',
    description: 'the commands after QUIT in the same packet are run and answered before the connection closes',
    file: 'server.ts',
    replace: [
      [
        '      out += this.execute(args, conn);\n      if (conn.closing) break;',
        '      out += this.execute(args, conn);',
      ],
    ],
    caughtBy: ['TestCommandModel'],
    cause: 'stop reading the packet at QUIT',
  },
  {
    name: 'abort-mark-kept-across-transactions',
    description:
      'the mark left by a command refused inside MULTI is not cleared by the next MULTI: after one aborted transaction, every later one on the connection aborts too',
    file: 'server.ts',
    replace: [
      ['          conn.queuedBytes = 0;\n          conn.dirty = false;\n', '          conn.queuedBytes = 0;\n'],
    ],
    caughtBy: ['TestCommandModel'],
    cause: 'reset by MULTI and dropped by EXEC and DISCARD',
  },
  {
    name: 'scan-list-never-compacted',
    description:
      "SCAN's order list is never rebuilt: every key ever created and then deleted stays in it (skipped by SCAN), so memory grows with every key name that comes and goes",
    file: 'server.ts',
    replace: [
      ['    if (this.orderKeys.length > 64 && this.orderKeys.length > 2 * this.seqOf.size) {', '    if (false) {'],
    ],
    caughtBy: ['TestLongLife'],
    cause: "SCAN's order list keeps deleted keys",
  },
  {
    name: 'expired-keys-left-in-scan-list',
    description:
      "expiry (on access and in the sweep) deletes a key from the values and the expiry table but not from SCAN's order list, which then never shrinks: every key that ever expired is kept for ever (from a red-team review)",
    file: 'server.ts',
    replace: [
      [
        '      this.remove(key);\n      this.expiredKeys++;\n      return undefined;',
        '      this.values.delete(key);\n      this.expires.delete(key);\n      this.expiredKeys++;\n      return undefined;',
      ],
      [
        '        this.remove(key);\n        this.expiredKeys++;\n',
        '        this.values.delete(key);\n        this.expires.delete(key);\n        this.expiredKeys++;\n',
      ],
    ],
    caughtBy: ['TestLongLife'],
    cause: "leaves it in SCAN's order list",
  },
  {
    name: 'snapshot-fsynced-only-under-always',
    description:
      "the snapshot's temporary file is fsynced before its rename only when the policy is 'always': under 'everysec' and 'no' it is renamed into place unsynced and the log is then cut, so a power cut loses the whole store, not about a second of writes (from a red-team review)",
    file: 'persistence.ts',
    replace: [
      [
        '      await file.write(Buffer.concat(chunk));\n      await file.sync();\n',
        "      await file.write(Buffer.concat(chunk));\n      if (this.fsync === 'always') await file.sync();\n",
      ],
    ],
    caughtBy: ['TestFsyncPolicy', 'TestNemesisRedis'],
    cause: 'not fsynced before its rename',
  },
  {
    name: 'ring-ignores-vnodes',
    description:
      'HashRing always makes 160 points per node, whatever vnodes it is given: with any other count most keys land on the wrong node (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [
      ['for (let i = 0; i < this.vnodes; i++) this.points.push(', 'for (let i = 0; i < 160; i++) this.points.push('],
    ],
    caughtBy: ['TestHashRing'],
    cause: 'the vnodes given, not always 160',
  },
  {
    name: 'exec-written-unsynced',
    description:
      "a transaction's records are written to the log by atomically() itself, so that they reach the file in one piece, and marked unsynced: with fsync 'always' nothing is fsynced before EXEC's reply (from an independent round of bugs written from the handouts alone)",
    file: 'persistence.ts',
    replace: [
      [
        "    if (this.pending.length - from > 1) {\n      this.pending.splice(from, 0, record(['MULTI']));\n      this.pending.push(record(['EXEC']));\n    }\n    return result;",
        "    if (this.pending.length - from > 1) {\n      this.pending.splice(from, 0, record(['MULTI']));\n      this.pending.push(record(['EXEC']));\n    }\n    if (this.pending.length > 0) {\n      const data = Buffer.concat(this.pending);\n      this.pending = [];\n      fs.writeSync(this.fd, data);\n      this.logBytes += data.length;\n    }\n    return result;",
      ],
    ],
    caughtBy: ['TestFsyncPolicy'],
    cause: 'the log (appendonly.aof) was not fsynced between the command and its reply',
  },
  {
    name: 'snapshot-timer-left-by-close',
    description:
      'the snapshot timer is never kept for close(): a closed server later writes its stale snapshot over the files of the server that took its folder (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [['      this.timers.push(snap);\n', '      void snap;\n']],
    caughtBy: ['TestFsyncPolicy'],
    cause: "a closed server's snapshot timer",
  },
  {
    name: 'timeout-on-idle-socket',
    description:
      "a request's timeout is the connection's idle timer (socket.setTimeout), which every later request's write restarts: under steady traffic a server that never replies is never given up on (from an independent round of bugs written from the handouts alone)",
    file: 'client.ts',
    replace: [
      [
        '    return new Promise<RespReply>((resolve, reject) => {\n      const timer = setTimeout(() => {\n        // A reply may still come, but the queue would then pair replies with the wrong requests: start over.\n        this.fail(socket, new Error(`no reply within ${timeoutMs} ms`));\n      }, timeoutMs);\n',
        '    socket.setTimeout(timeoutMs);\n    return new Promise<RespReply>((resolve, reject) => {\n      const timer = undefined;\n',
      ],
      [
        "    socket.on('error', (err) => this.fail(socket, err));\n",
        "    socket.on('error', (err) => this.fail(socket, err));\n    socket.on('timeout', () => {\n      if (this.queue.length > 0) this.fail(socket, new Error('no reply in time'));\n    });\n",
      ],
    ],
    caughtBy: ['TestClientTimeout'],
    cause: "the connection's idle timer",
  },
  {
    name: 'set-of-held-value-unlogged',
    description:
      'a SET of the value the key already holds is taken for no change and not logged, though it cleared or set the TTL: after a restart the old TTL is back (from a red-team review)',
    file: 'server.ts',
    replace: [
      [
        '    if (old === undefined) this.listKey(key);\n    this.values.set(key, value);',
        '    const unchanged = old === value;\n    if (old === undefined) this.listKey(key);\n    this.values.set(key, value);',
      ],
      [
        '    this.persistence?.recordSet(key, value, this.expires.get(key));\n  }\n\n  private sweep',
        '    if (!unchanged) this.persistence?.recordSet(key, value, this.expires.get(key));\n  }\n\n  private sweep',
      ],
    ],
    caughtBy: ['TestCrashExpiry'],
    cause: 'a SET of the value a key holds is a change like any other',
  },
];
