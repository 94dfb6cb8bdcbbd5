/** Deliberately broken versions of the lab 2 solution; the kit's tests check that each one fails a named test. */
import type { Mutant } from '../mutants';

export const mutants: Mutant[] = [
  {
    name: 'lock-poll-wait-from-timeout',
    description:
      'acquire waits min(5, timeoutMs / 100) ms between looks at a held lock, to look about a hundred times within its timeout: a short timed acquire polls the key many times a millisecond (from an independent round of bugs written from the handouts alone)',
    file: 'lock.ts',
    replace: [['      await sleep(RETRY_MS);\n', '      await sleep(Math.min(RETRY_MS, timeoutMs / 100));\n']],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'a wait derived from the timeout',
  },
  {
    name: 'clerk-gives-up-after-30-minutes',
    description:
      'the clerk stops re-sending after 30 virtual minutes without an answer and throws: a put held up by an outage of an hour fails, though the handout sets no limit on attempts or time (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [
      [
        '    let backoff = FIRST_BACKOFF_MS;\n    for (let attempts = 1; ; attempts++) {\n',
        '    let backoff = FIRST_BACKOFF_MS;\n    const start = Date.now();\n    for (let attempts = 1; ; attempts++) {\n      if (Date.now() - start > 30 * 60_000) throw new Error(`${method}: no answer for 30 minutes; giving up`);\n',
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'a clerk that gives up after some minutes or hours',
  },
  {
    name: 'lock-polls-without-wait',
    description:
      'acquire looks at a held lock again as soon as its last get returned, with no wait: hundreds of RPCs per virtual second per waiter (from a red-team review)',
    file: 'lock.ts',
    replace: [['      await sleep(RETRY_MS);\n', '']],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'no wait between looks',
  },
  {
    name: 'timeout-counts-pauses',
    description:
      'acquire counts its timeout as the sum of its pauses between looks, leaving out what each get and put takes: on a lossy network it goes on looking long after its timeout (from a red-team review)',
    file: 'lock.ts',
    replace: [
      ['    const deadline = Date.now() + timeoutMs;\n', '    let paused = 0;\n'],
      [
        '      if (Date.now() >= deadline) return false;\n      await sleep(RETRY_MS);\n',
        '      if (paused >= timeoutMs) return false;\n      await sleep(RETRY_MS);\n      paused += RETRY_MS;\n',
      ],
    ],
    caughtBy: ['TestAcquireTimeoutUnreliable'],
    cause: 'the timeout counted as the sum of the pauses',
  },
  {
    name: 'lock-polls-slowly',
    description:
      'acquire tries the lock again only every 900 ms: acquire(5) on a held lock returns false almost a second after its timeout, and a waiter sees a release as late',
    file: 'lock.ts',
    replace: [['const RETRY_MS = 5;', 'const RETRY_MS = 900;']],
    caughtBy: ['TestModelLock'],
    cause: 'an acquire that gives up long after its timeout',
  },
  {
    name: 'lock-pause-doubles-to-1s',
    description:
      'the pause between looks at a held lock doubles from 5 ms up to 1 s and is not cut at the deadline: acquire(1300) returns false about a second late',
    file: 'lock.ts',
    replace: [
      [
        '    const deadline = Date.now() + timeoutMs;\n',
        '    const deadline = Date.now() + timeoutMs;\n    let pause = RETRY_MS;\n',
      ],
      ['      await sleep(RETRY_MS);\n', '      await sleep(pause);\n      pause = Math.min(2 * pause, 1000);\n'],
    ],
    caughtBy: ['TestModelLock'],
    cause: 'a pause between tries of most of a second',
  },
  {
    name: 'acquire-gives-up-before-next-look',
    description:
      'acquire looks every 100 ms and returns false as soon as its next look would fall after the deadline: acquire(50) on a held lock gives up at once',
    file: 'lock.ts',
    replace: [
      [
        '      if (Date.now() >= deadline) return false;\n      await sleep(RETRY_MS);\n',
        '      if (Date.now() + 100 > deadline) return false;\n      await sleep(100);\n',
      ],
    ],
    caughtBy: ['TestModelLock'],
    cause: 'instead of making its last look at the deadline',
  },
  {
    name: 'retry-without-wait',
    description:
      'the clerk sends the RPC again at once after a lost message, with no wait between tries (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [['      await sleep(backoff * (0.5 + Math.random()));\n', '']],
    caughtBy: ['TestHighDropRate'],
    cause: 'sends the RPC again at once after a TimeoutError',
  },
  {
    name: 'retry-sleep-not-awaited',
    description:
      'the clerk starts its back-off sleep but does not await it, so it re-sends at once (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [
      ['      await sleep(backoff * (0.5 + Math.random()));', '      void sleep(backoff * (0.5 + Math.random()));'],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'a sleep whose promise is not awaited',
  },
  {
    name: 'backoff-starts-at-zero',
    description:
      "the clerk's back-off starts at 0 ms, and 0 doubled stays 0: every re-send follows its failure after setTimeout's 1 ms (from an independent round of bugs written from the handouts alone)",
    file: 'client.ts',
    replace: [['const FIRST_BACKOFF_MS = 5;', 'const FIRST_BACKOFF_MS = 0;']],
    caughtBy: ['TestResentPutResults'],
    cause: 'a back-off that starts at 0',
  },
  {
    name: 'no-retry',
    description: 'the clerk gives up after the first lost message instead of re-sending',
    file: 'client.ts',
    replace: [['if (!(err instanceof TimeoutError)) throw err;', 'throw err;']],
    caughtBy: ['TestUnreliableNet', 'TestHighDropRate', 'TestOneClientUnreliable', 'TestManyClientsUnreliable'],
    cause: 'send the RPC again',
  },
  {
    name: 'no-errmaybe',
    description: 'a re-sent put that gets ErrVersion is reported as ErrVersion, not ErrMaybe',
    file: 'client.ts',
    replace: [["if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';", '']],
    caughtBy: ['TestResentPutResults', 'TestUnreliableNet'],
    cause: 'ErrMaybe whenever a re-sent put gets ErrVersion',
  },
  {
    name: 'version-off-by-one',
    description: 'a new key is created at version 0 instead of 1',
    file: 'server.ts',
    replace: [
      [
        'this.data.set(args.key, { value: args.value, version: 1 });',
        'this.data.set(args.key, { value: args.value, version: 0 });',
      ],
    ],
    caughtBy: ['TestReliablePut'],
    cause: 'a new key created at version 0 instead of 1',
  },
  {
    name: 'version-check-off-by-one',
    description: "the server also accepts a put made one version behind the key's",
    file: 'server.ts',
    replace: [
      [
        'if (entry.version !== args.version) return',
        'if (entry.version !== args.version && entry.version !== args.version + 1) return',
      ],
    ],
    caughtBy: ['TestReliablePut', 'TestPutConcurrentReliable'],
    cause: 'a version check other than exact equality',
  },
  {
    name: 'dispose-does-nothing',
    description: 'leaving an `await using` block does not release the lock',
    file: 'lock.ts',
    replace: [['    if (this.held) await this.release();', '']],
    caughtBy: ['TestReliableBasic'],
    cause: '[Symbol.asyncDispose] must release the lock',
  },
  {
    name: 'lock-ignores-versions',
    description:
      'the lock writes its id with whatever version it guesses, without checking it saw the key free at that version',
    file: 'lock.ts',
    replace: [
      [
        'const result = await this.ck.put(this.name, this.id, version);',
        "const again = await this.ck.get(this.name);\n        const result = await this.ck.put(this.name, this.id, again.err === 'OK' ? again.version : 0);",
      ],
    ],
    caughtBy: ['TestManyClientsReliable', 'TestManyClientsUnreliable'],
    cause: 'puts its id with a version it did not read the key free at',
  },
  {
    name: 'lock-steals',
    description: 'the lock takes the key whether or not someone holds it',
    file: 'lock.ts',
    replace: [["const free = current.err === 'ErrNoKey' || current.value === '';", 'const free = true;']],
    caughtBy: ['TestReliableBasic', 'TestReliableNested', 'TestManyClientsReliable'],
    cause: 'an acquire that takes the key without checking it is free',
  },
  {
    name: 'per-client-cache',
    description: 'the server remembers a reply per request, as a duplicate-detection table would',
    file: 'server.ts',
    replace: [
      [
        '  private readonly data = new Map<string, Entry>();',
        '  private readonly data = new Map<string, Entry>();\n  private readonly seen = new Map<string, PutReply>();',
      ],
      [
        "      this.data.set(args.key, { value: args.value, version: 1 });\n      return { err: 'OK' };",
        "      this.data.set(args.key, { value: args.value, version: 1 });\n      this.seen.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n      return { err: 'OK' };",
      ],
      [
        "    entry.version += 1;\n    return { err: 'OK' };",
        "    entry.version += 1;\n    this.seen.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n    return { err: 'OK' };",
      ],
    ],
    caughtBy: ['TestMemPutManyClientsReliable'],
    cause: 'per-client or per-request cache',
  },
  {
    name: 'module-level-cache',
    description:
      'the server remembers a reply per request in a table declared at the top of server.ts, outside the class',
    file: 'server.ts',
    replace: [
      [
        "      this.data.set(args.key, { value: args.value, version: 1 });\n      return { err: 'OK' };",
        "      this.data.set(args.key, { value: args.value, version: 1 });\n      SEEN.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n      return { err: 'OK' };",
      ],
      [
        "    entry.version += 1;\n    return { err: 'OK' };",
        "    entry.version += 1;\n    SEEN.set(`${args.key}/${args.version}/${args.value.slice(0, 8)}`, { err: 'OK' });\n    return { err: 'OK' };",
      ],
      ['export class KVServer', 'const SEEN = new Map<string, PutReply>();\n\nexport class KVServer'],
    ],
    caughtBy: ['TestMemPutManyClientsReliable'],
    cause: 'per-client or per-request cache',
  },
  {
    name: 'accepts-version-ahead',
    description: "the server refuses only versions behind the key's, so a put naming a version ahead of it is applied",
    file: 'server.ts',
    replace: [
      [
        "if (entry.version !== args.version) return { err: 'ErrVersion' };",
        "if (args.version < entry.version) return { err: 'ErrVersion' };",
      ],
    ],
    caughtBy: ['TestPutWrongVersionReliable'],
    cause: '"version < current"',
  },
  {
    name: 'missing-key-reads-empty',
    description: 'a get of a missing key answers OK with an empty value at version 0 instead of ErrNoKey',
    file: 'server.ts',
    replace: [["if (!entry) return { err: 'ErrNoKey' };", "if (!entry) return { err: 'OK', value: '', version: 0 };"]],
    caughtBy: ['TestPutWrongVersionReliable', 'TestReliablePut'],
    cause: 'get of a missing key answered OK with an empty value',
  },
  {
    name: 'object-store',
    description:
      'the server keeps its keys in a plain object, where "constructor" and "__proto__" already mean something',
    file: 'server.ts',
    replace: [
      [
        'private readonly data = new Map<string, Entry>();',
        'private readonly data: Record<string, Entry | undefined> = {};',
      ],
      [
        'Get(args: GetArgs): GetReply {\n    const entry = this.data.get(args.key);',
        'Get(args: GetArgs): GetReply {\n    const entry = this.data[args.key];',
      ],
      [
        'Put(args: PutArgs): PutReply {\n    const entry = this.data.get(args.key);',
        'Put(args: PutArgs): PutReply {\n    const entry = this.data[args.key];',
      ],
      [
        'this.data.set(args.key, { value: args.value, version: 1 });',
        'this.data[args.key] = { value: args.value, version: 1 };',
      ],
    ],
    caughtBy: ['TestStrangeKeysReliable'],
    cause: 'plain object',
  },
  {
    name: 'empty-value-missing',
    description: 'the server answers ErrNoKey for a key whose value is the empty string',
    file: 'server.ts',
    replace: [["if (!entry) return { err: 'ErrNoKey' };", "if (!entry?.value) return { err: 'ErrNoKey' };"]],
    caughtBy: ['TestStrangeKeysReliable'],
    cause: 'an empty value is still a value',
  },
  {
    name: 'resent-ok-is-maybe',
    description: 'every re-sent put returns ErrMaybe, even one whose re-sent copy was answered OK',
    file: 'client.ts',
    replace: [
      ["if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';", "if (attempts > 1) return 'ErrMaybe';"],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'OK means the put happened, whichever copy it was',
  },
  {
    name: 'resent-nokey-is-maybe',
    description: 'a re-sent put answered ErrNoKey returns ErrMaybe, though ErrNoKey is certain',
    file: 'client.ts',
    replace: [
      [
        "if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';",
        "if (reply.err !== 'OK' && attempts > 1) return 'ErrMaybe';",
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'ErrNoKey is certain even for a re-sent put',
  },
  {
    name: 'resent-errversion-is-ok',
    description: 'a re-sent put answered ErrVersion returns OK, assuming its own first copy moved the version',
    file: 'client.ts',
    replace: [
      [
        "if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';",
        "if (reply.err === 'ErrVersion' && attempts > 1) return 'OK';",
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'the put did not happen',
  },
  {
    name: 'sticky-resent',
    description:
      'the clerk remembers "I re-sent" in a field that is never reset, so after one re-send every ErrVersion becomes ErrMaybe',
    file: 'client.ts',
    replace: [
      ['  private readonly server: ClientEnd;\n', '  private readonly server: ClientEnd;\n  private resent = false;\n'],
      [
        "if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';",
        "if (attempts > 1) this.resent = true;\n    if (reply.err === 'ErrVersion' && this.resent) return 'ErrMaybe';",
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'not in a field of the clerk that outlives the call',
  },
  {
    name: 'forgets-own-id',
    description:
      'acquire never checks whether the key already holds its own id, so a put that succeeded behind an ErrMaybe is never noticed',
    file: 'lock.ts',
    replace: [
      [
        "      if (current.err === 'OK' && current.value === this.id) {\n        this.held = true; // an earlier put of ours answered ErrMaybe but did happen\n        return true;\n      }\n",
        '',
      ],
    ],
    caughtBy: ['TestLockLostReply', 'TestAcquireTimeoutLostReply', 'TestAcquireTimeoutUnreliable'],
    cause: 'After ErrMaybe, read the key: if it holds your own id, you hold the lock',
  },
  {
    name: 'deadline-before-look',
    description:
      'acquire checks its deadline before looking at the key, so after a late ErrMaybe it returns false while holding the lock',
    file: 'lock.ts',
    replace: [
      [
        "    for (;;) {\n      const current = await this.ck.get(this.name);\n      if (current.err === 'OK' && current.value === this.id) {",
        "    for (;;) {\n      if (Date.now() >= deadline) return false;\n      const current = await this.ck.get(this.name);\n      if (current.err === 'OK' && current.value === this.id) {",
      ],
    ],
    caughtBy: ['TestAcquireTimeoutLostReply', 'TestAcquireTimeoutUnreliable'],
    cause: 'Before returning false after ErrMaybe, read the key',
  },
  {
    name: 'errmaybe-means-held',
    description: 'acquire takes ErrMaybe as success, though another client may have won the lock',
    file: 'lock.ts',
    replace: [
      [
        "if (result === 'ErrMaybe') continue; // look again before deciding",
        "if (result === 'ErrMaybe') {\n          this.held = true; // probably ours\n          return true;\n        }",
      ],
    ],
    caughtBy: ['TestLockLostRequest'],
    cause: 'ErrMaybe does not mean the put happened',
  },
  {
    name: 'release-any-holder',
    description:
      'release frees the key whoever holds it, even when this Lock object never acquired it or already released',
    file: 'lock.ts',
    replace: [
      ['    if (!this.held) throw new Error(`Lock "${this.name}" released without being held`);\n', ''],
      [
        "if (current.err !== 'OK' || current.value !== this.id) break;",
        "if (current.err !== 'OK' || current.value === '') break;",
      ],
    ],
    caughtBy: ['TestReleaseNotHeldReliable'],
    cause: 'check that the key holds your own id before freeing it',
  },
  {
    name: 'release-stale-version',
    description:
      'release reads the key once and re-sends its put with that version until OK, which never comes once a lost reply hid its success',
    file: 'lock.ts',
    replace: [
      [
        "    for (;;) {\n      const current = await this.ck.get(this.name);\n      if (current.err !== 'OK' || current.value !== this.id) break;",
        "    const current = await this.ck.get(this.name);\n    for (;;) {\n      if (current.err !== 'OK' || current.value !== this.id) break;",
      ],
    ],
    caughtBy: ['TestLockLostReply'],
    cause: 'read the key again and stop once it no longer holds your id',
  },
  {
    name: 'dispose-not-awaited',
    description:
      'leaving an `await using` block starts the release without waiting for it, so the lock is still held just after the block',
    file: 'lock.ts',
    replace: [['    if (this.held) await this.release();', '    if (this.held) void this.release();']],
    caughtBy: ['TestReliableBasic'],
    cause: 'finish releasing before it returns (await the release)',
  },
  {
    name: 'shared-lock-id',
    description:
      "every Lock object uses one id drawn when the module loads, so any two of them believe they hold each other's lock",
    file: 'lock.ts',
    replace: [
      ['  private readonly id = Math.random().toString(36).slice(2, 12);', '  private readonly id = LOCK_ID;'],
      ['export class Lock', 'const LOCK_ID = Math.random().toString(36).slice(2, 12);\n\nexport class Lock'],
    ],
    caughtBy: ['TestLocksShareClerkReliable', 'TestReliableBasic', 'TestManyClientsReliable'],
    cause: 'one id made when the module loads',
  },
  {
    name: 'time-based-lock-id',
    description: "a Lock's id is the creation time, which Lock objects made at the same moment share",
    file: 'lock.ts',
    replace: [
      [
        '  private readonly id = Math.random().toString(36).slice(2, 12);',
        '  private readonly id = String(Date.now());',
      ],
    ],
    caughtBy: ['TestReliableBasic', 'TestManyClientsReliable'],
    cause: 'one made from the time',
  },
  {
    name: 'resent-flag-outlives-put',
    description:
      'the clerk keeps "re-sent" in a field that only an ErrMaybe clears, so a put after a re-sent put answered OK turns its own ErrVersion into ErrMaybe',
    file: 'client.ts',
    replace: [
      [
        "    if (reply.err === 'ErrVersion' && attempts > 1) return 'ErrMaybe';",
        "    if (attempts > 1) this.resent = true;\n    if (reply.err === 'ErrVersion' && this.resent) {\n      this.resent = false;\n      return 'ErrMaybe';\n    }",
      ],
      ['  private readonly server: ClientEnd;\n', '  private readonly server: ClientEnd;\n  private resent = false;\n'],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'not in a field of the clerk that outlives the call',
  },
  {
    name: 'put-gives-up',
    description:
      'the clerk gives up a put after 40 lost copies and answers ErrMaybe, as if the put might have happened',
    file: 'client.ts',
    replace: [
      [
        '      } catch (err) {\n        if (!(err instanceof TimeoutError)) throw err;\n      }',
        "      } catch (err) {\n        if (!(err instanceof TimeoutError)) throw err;\n        if (attempts >= 40 && method === 'KVServer.Put') return { reply: { err: 'ErrMaybe' } as R, attempts };\n      }",
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'no limit on attempts or time',
  },
  {
    name: 'lock-id-per-clerk',
    description:
      'Lock objects on the same clerk share one id, so a second Lock on that clerk believes it holds the lock the first took',
    file: 'lock.ts',
    replace: [
      [
        '  private readonly id = Math.random().toString(36).slice(2, 12);',
        '  private static readonly ids = new WeakMap<KVClerk, string>();\n  private get id(): string {\n    let id = Lock.ids.get(this.ck);\n    if (id === undefined) Lock.ids.set(this.ck, (id = Math.random().toString(36).slice(2, 12)));\n    return id;\n  }',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'Each Lock object needs an identity of its own',
  },
  {
    name: 'acquire-default-timeout',
    description: 'acquire() without a timeout gives up after 5 virtual seconds',
    file: 'lock.ts',
    replace: [
      [
        '  async acquire(timeoutMs = Infinity): Promise<boolean> {',
        '  async acquire(timeoutMs = 5000): Promise<boolean> {',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'the default timeout is Infinity',
  },
  {
    name: 'acquire-zero-waits',
    description: 'acquire(0) is read as "no timeout" (timeoutMs || Infinity), so it waits for ever on a held lock',
    file: 'lock.ts',
    replace: [
      ['    const deadline = Date.now() + timeoutMs;', '    const deadline = Date.now() + (timeoutMs || Infinity);'],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: '0 is a timeout, not "no timeout"',
  },
  {
    name: 'release-frees-other-holder',
    description:
      'release puts "" until it sees the lock free, not only while the key names this Lock: after a lost reply it frees the lock another client has since taken',
    file: 'lock.ts',
    replace: [
      [
        "if (current.err !== 'OK' || current.value !== this.id) break;",
        "if (current.err !== 'OK' || current.value === '') break;",
      ],
    ],
    caughtBy: ['TestNemesisLock', 'TestManyClientsUnreliable'],
    cause: 'a release that frees the lock without checking it is the holder',
  },
  {
    name: 'resend-recognised-by-value',
    description:
      'a put one version behind is answered OK when the key already holds its value (taken for a re-sent copy), so another client putting the same value at the same version gets OK for a write that never happened',
    file: 'server.ts',
    replace: [
      [
        "    if (entry.version !== args.version) return { err: 'ErrVersion' };",
        "    if (entry.version !== args.version) {\n      if (entry.version === args.version + 1 && entry.value === args.value) return { err: 'OK' };\n      return { err: 'ErrVersion' };\n    }",
      ],
    ],
    caughtBy: ['TestNemesisKV'],
    cause: 'a put recognised as a re-sent copy by its value',
  },
  {
    name: 'same-value-keeps-version',
    description:
      'a put of the value the key already holds is answered OK without moving the version ("nothing to change"), so the put that should have taken version n + 1 leaves it at n',
    file: 'server.ts',
    replace: [
      [
        '    entry.value = args.value;\n    entry.version += 1;',
        "    if (entry.value === args.value) return { err: 'OK' };\n    entry.value = args.value;\n    entry.version += 1;",
      ],
    ],
    caughtBy: ['TestModelKV'],
    cause: 'store the value (even the one it holds) and add 1',
  },
  {
    name: 'negative-version-creates',
    description:
      'a missing key is refused only for a positive version ("version > 0"), so a put with a negative version creates it',
    file: 'server.ts',
    replace: [
      ["if (args.version !== 0) return { err: 'ErrNoKey' };", "if (args.version > 0) return { err: 'ErrNoKey' };"],
    ],
    caughtBy: ['TestModelKV'],
    cause: 'a missing key created by a version other than 0',
  },
  {
    name: 'version-coerced-to-int32',
    description:
      'the server coerces the version to a 32-bit integer (version | 0) before comparing, so 2^32 creates a missing key and 1.5 writes a key at version 1',
    file: 'server.ts',
    replace: [
      [
        "if (args.version !== 0) return { err: 'ErrNoKey' };",
        "if ((args.version | 0) !== 0) return { err: 'ErrNoKey' };",
      ],
      ['if (entry.version !== args.version) return', 'if (entry.version !== (args.version | 0)) return'],
    ],
    caughtBy: ['TestModelKV'],
    cause: 'a version coerced to an integer',
  },
  {
    name: 'odd-version-refused-as-errversion',
    description:
      'a put whose version is negative or not a whole number is refused with ErrVersion before the key is looked up, so on a missing key it says ErrVersion where ErrNoKey is due',
    file: 'server.ts',
    replace: [
      [
        '  Put(args: PutArgs): PutReply {\n',
        "  Put(args: PutArgs): PutReply {\n    if (args.version < 0 || !Number.isInteger(args.version)) return { err: 'ErrVersion' };\n",
      ],
    ],
    caughtBy: ['TestModelKV'],
    cause: 'ErrVersion where the key does not exist',
  },
  {
    name: 'dispose-always-releases',
    description:
      'leaving an `await using` block always calls release(), which throws when this Lock does not hold the lock (after an acquire that gave up)',
    file: 'lock.ts',
    replace: [['    if (this.held) await this.release();', '    await this.release();']],
    caughtBy: ['TestModelLock'],
    cause: 'by a Lock that does not hold the lock',
  },
  {
    name: 'four-character-lock-ids',
    description:
      "each Lock's id is four random base-36 characters (about 1.7 million values): among thousands of Locks of a run two share one, and each takes the other's hold for its own (from an independent round of bugs written from the handouts alone)",
    file: 'lock.ts',
    replace: [
      [
        '  private readonly id = Math.random().toString(36).slice(2, 12);',
        '  private readonly id = Math.random().toString(36).slice(2, 6);',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'two Lock objects of one run had the same identity',
  },
  {
    name: 'acquire-deadline-timer-not-cleared',
    description:
      'acquire sets a timer for its deadline, which marks it expired, and never clears it when the lock is taken early: each acquire with a timeout leaves a timer live for the rest of its timeout (from an independent round of bugs written from the handouts alone)',
    file: 'lock.ts',
    replace: [
      [
        '    const deadline = Date.now() + timeoutMs;\n',
        '    const deadline = Date.now() + timeoutMs;\n    let expired = false;\n    if (timeoutMs > 0 && timeoutMs < 2 ** 31) setTimeout(() => (expired = true), timeoutMs);\n',
      ],
      [
        '      if (Date.now() >= deadline) return false;\n',
        '      if (expired || Date.now() >= deadline) return false;\n',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'a timer set for each operation and never cleared',
  },
  {
    name: 'short-lock-ids',
    description:
      'each Lock draws its id from a thousand numbers, so two Locks of a run sometimes share one and both believe they hold the lock (from an independent round of bugs written from the handouts alone)',
    file: 'lock.ts',
    replace: [
      [
        '  private readonly id = Math.random().toString(36).slice(2, 12);',
        '  private readonly id = String(Math.floor(Math.random() * 1000));',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'Ids must not repeat',
  },
  {
    name: 'default-timeout-30s',
    description:
      'acquire() without a timeout gives up after 30 seconds instead of waiting as long as it takes (from an independent round of bugs written from the handouts alone)',
    file: 'lock.ts',
    replace: [
      [
        '  async acquire(timeoutMs = Infinity): Promise<boolean> {',
        '  async acquire(timeoutMs = 30_000): Promise<boolean> {',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'acquire keeps trying for as long as its timeout allows',
  },
  {
    name: 'get-leaves-placeholder',
    description:
      'a get of a missing key leaves an empty entry behind: every answer stays right, but the server keeps an entry for each key only asked for (from an independent round of bugs written from the handouts alone)',
    file: 'server.ts',
    replace: [
      [
        "    if (!entry) return { err: 'ErrNoKey' };\n    return { err: 'OK', value: entry.value, version: entry.version };",
        "    if (!entry) {\n      this.data.set(args.key, undefined as unknown as Entry);\n      return { err: 'ErrNoKey' };\n    }\n    return { err: 'OK', value: entry.value, version: entry.version };",
      ],
    ],
    caughtBy: ['TestMemPutManyClientsReliable'],
    cause: 'a key that was only asked for',
  },
  {
    name: 'get-gives-up',
    description:
      'a get passes its TimeoutError on after 100 unanswered tries (puts still retry for ever): a long outage makes a get fail (from an independent round of bugs written from the handouts alone)',
    file: 'client.ts',
    replace: [
      [
        '        if (!(err instanceof TimeoutError)) throw err;\n      }',
        "        if (!(err instanceof TimeoutError)) throw err;\n        if (method === 'KVServer.Get' && attempts >= 100) throw err;\n      }",
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'a limit on the tries or the time of a get',
  },
  {
    name: 'acquire-pauses-before-deadline-check',
    description:
      'acquire pauses between tries before it checks the deadline, not after: acquire(0) of a held lock returns false only after a pause, not at once (from a red-team review)',
    file: 'lock.ts',
    replace: [
      [
        '      if (Date.now() >= deadline) return false;\n      await sleep(RETRY_MS);',
        '      await sleep(RETRY_MS);\n      if (Date.now() >= deadline) return false;',
      ],
    ],
    caughtBy: ['TestLocksShareClerkReliable'],
    cause: 'a pause before the deadline is checked',
  },
  {
    name: 'clerk-gives-up-after-5-minutes',
    description:
      'the clerk throws once a call has had no reply for 5 virtual minutes, taking the server for gone: the handout asks it to keep trying with no limit on attempts or time (from a red-team review)',
    file: 'client.ts',
    replace: [
      [
        '    let backoff = FIRST_BACKOFF_MS;\n    for (let attempts = 1; ; attempts++) {\n',
        '    let backoff = FIRST_BACKOFF_MS;\n    const started = Date.now();\n    for (let attempts = 1; ; attempts++) {\n      if (Date.now() - started > 300_000) throw new Error(`${method}: no reply for 5 minutes`);\n',
      ],
    ],
    caughtBy: ['TestResentPutResults'],
    cause: 'a clerk that gives up after a number of tries or some minutes',
  },
];
