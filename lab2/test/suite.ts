/**
 * Lab 2's named tests. Each carries its points (the suite's list, at the end) and runs in its own simulated world, so a seed
 * replays it exactly: npm run grade lab2 -- --test <Name> --seed <N>
 */
import { IMPL_FILES, load } from '../load';
import { runClients } from '../../suite/clients';
import { liveHeapBytes, stopHoldersOfServers } from '../../suite/memory';
import {
  LabSuite,
  scored,
  TestDefinition,
  TestContext,
  TestFailure,
  isTestFailure,
  check,
  Monitors,
} from '../../suite';
import { monitored } from '../../suite/monitors';
import { keyedRng, sleep, World, type Rng } from '../../world';
import type { DistributedLock, GetResult, KVClerk } from '../rpc';
import { withLock } from '../with-lock';
import { KVTester, Lab2Impl, LinkRule, RecordingClerk, ScriptedLink, TWO_HOLDERS, gate, show, within } from './harness';
import { nemesisKV, nemesisLock } from './nemesis';
import { modelKV, modelLock } from './model';

type Ctx = TestContext<Lab2Impl>;

/** Fails unless the put returned `want`, explaining the call. */
async function expectPut(
  ck: KVClerk,
  key: string,
  value: string,
  version: number,
  want: string,
  why: string,
): Promise<void> {
  const got = await ck.put(key, value, version);
  check(
    got === want,
    `put(${show(key)}, ${show(value)}, version ${version}) returned ${got}; expected ${want} because ${why}. Likely ` +
      'causes: a version check other than exact equality ("version < current" lets a version ahead through, "version <= ' +
      'current" one behind); a missing key created by a version other than 0; a new key created at version 0 instead of 1.',
  );
}

/** Fails unless get(key) returns exactly this value and version (or ErrNoKey when `want` is undefined). */
async function expectGet(
  ck: KVClerk,
  key: string,
  want: { value: string; version: number } | undefined,
): Promise<void> {
  const got = await ck.get(key);
  if (want === undefined) {
    check(
      got.err === 'ErrNoKey',
      `get(${show(key)}) returned ${show(got)}; expected ErrNoKey because the key was never created. Likely causes: a ` +
        'get of a missing key answered OK with an empty value (or a default version) instead of ErrNoKey; a store kept in a ' +
        'plain object, where a name such as "constructor" seems to exist.',
    );
    return;
  }
  check(
    got.err === 'OK' && got.value === want.value && got.version === want.version,
    `get(${show(key)}) returned ${show(got)}; expected value ${show(want.value)} at version ${want.version}. Likely ` +
      'causes: a new key created at version 0 instead of 1 (a put at version 0 creates the key at version 1); a put ' +
      'that does not move the version by exactly 1; a value not stored as given.',
  );
}

const reliablePut: TestDefinition<Lab2Impl> = {
  name: 'TestReliablePut',
  description: 'put and get with versions on a reliable network, including ErrVersion and ErrNoKey',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const ck = ts.makeClerk();
    await expectPut(ck, 'k', '6.5840', 0, 'OK', 'version 0 creates a missing key');
    await expectGet(ck, 'k', { value: '6.5840', version: 1 });
    await expectPut(ck, 'k', 'xxx', 0, 'ErrVersion', 'the key exists at version 1, not 0');
    await expectPut(ck, 'k', 'xxx', 1, 'OK', 'the key is at version 1');
    await expectGet(ck, 'k', { value: 'xxx', version: 2 });
    await expectPut(ck, 'y', 'yyy', 1, 'ErrNoKey', 'the key "y" does not exist and the version is not 0');
    await expectGet(ck, 'y', undefined);
    ts.checkLinearizable();
  },
};

const putWrongVersion: TestDefinition<Lab2Impl> = {
  name: 'TestPutWrongVersionReliable',
  description: "puts naming a version ahead of or behind the key's change nothing; a refused put never creates a key",
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const ck = ts.makeClerk();
    await expectGet(ck, 'k', undefined);
    await expectPut(ck, 'k', 'early', 3, 'ErrNoKey', 'the key does not exist and the version is not 0');
    const got = await ck.get('k');
    check(
      got.err === 'ErrNoKey',
      `get("k") returned ${show(got)} after a put with version 3 on the missing key was refused; expected ErrNoKey: a refused put must not create the key (at any version).`,
    );
    await expectPut(ck, 'k', 'a', 0, 'OK', 'version 0 creates a missing key');
    await expectPut(ck, 'k', 'b', 1, 'OK', 'the key is at version 1');
    const wrong: Array<[number, string]> = [
      [
        3,
        'one ahead of the key\'s version 2: only the exact version may write (a check like "version < current" lets it through)',
      ],
      [1000, "far ahead of the key's version 2"],
      [1, "one behind the key's version 2"],
      [0, 'the key exists (version 0 only creates a missing key)'],
    ];
    for (const [version, why] of wrong) {
      await expectPut(ck, 'k', `wrong@${version}`, version, 'ErrVersion', why);
      const now = await ck.get('k');
      check(
        now.err === 'OK' && now.value === 'b' && now.version === 2,
        `After put("k", ..., version ${version}) was refused, get returned ${show(now)}; expected value "b" at version 2: a refused put must change neither the value nor the version.`,
      );
    }
    await expectPut(ck, 'k', 'c', 2, 'OK', 'the key is at version 2');
    await expectGet(ck, 'k', { value: 'c', version: 3 });
    ts.checkLinearizable();
  },
};

/** Keys that name properties every plain JavaScript object already has, and other awkward strings. */
const STRANGE_KEYS = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '',
  'k\u0000ey',
  'ключ',
  '🔑 key:1/2',
];

/** Values a store must keep byte for byte: empty, non-ASCII, every char code 0-255, and the ends of Unicode. */
function strangeValues(): string[] {
  const binary = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  return ['', 'héllo wörld ✓ 日本語 🎉', binary, '\uffff\u{10ffff}\u0000', 'x'.repeat(20_000) + 'é'];
}

const strangeKeys: TestDefinition<Lab2Impl> = {
  name: 'TestStrangeKeysReliable',
  description: 'keys like __proto__ and constructor, empty, binary-like and non-ASCII keys and values are kept exactly',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const ck = ts.makeClerk();
    const values = strangeValues();
    const pick = (i: number, round: number) => values[(i + round) % values.length];
    const missing = (key: string) =>
      `get(${show(key)}) returned something for a key nobody created; expected ErrNoKey. Is the store a plain object ({}), where "constructor", "toString" or "__proto__" already exist, or did writing "__proto__" change the object's prototype? Use a Map.`;
    for (const key of STRANGE_KEYS) {
      const got = await ck.get(key);
      check(got.err === 'ErrNoKey', () => `${missing(key)} (got ${show(got)})`);
    }
    for (let round = 0; round < 2; round++) {
      for (const [i, key] of STRANGE_KEYS.entries()) {
        await expectPut(
          ck,
          key,
          pick(i, round),
          round,
          'OK',
          round === 0 ? `version 0 creates the missing key ${show(key)}` : `the key ${show(key)} is at version 1`,
        );
      }
      for (const [i, key] of STRANGE_KEYS.entries()) {
        const got = await ck.get(key);
        const want = pick(i, round);
        check(
          got.err === 'OK' && got.value === want && got.version === round + 1,
          () =>
            `get(${show(key)}) returned ${show(got)}; expected the value ${show(want)} (${want.length} chars) at version ${round + 1}. ` +
            "Keys and values are arbitrary strings: an empty value is still a value (not a missing key), and nothing may be trimmed, re-encoded or looked up through an object's prototype.",
        );
      }
    }
    for (const key of ['value', 'version', 'prototype', 'length']) {
      const got = await ck.get(key);
      check(
        got.err === 'ErrNoKey',
        () =>
          `${missing(key)} (got ${show(got)}, after the keys ${STRANGE_KEYS.map((k) => show(k)).join(', ')} were written)`,
      );
    }
    ts.checkLinearizable();
  },
};

const putConcurrent: TestDefinition<Lab2Impl> = {
  name: 'TestPutConcurrentReliable',
  description: '10 clients put to one key for 1 virtual second; the final version counts the successful puts',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const clerks = Array.from({ length: 10 }, () => ts.makeClerk());
    const oks = await runClients(10, 1000, async (c, done) => {
      let ok = 0;
      for (let i = 0; !done(); i++) {
        const cur = await clerks[c].get('k');
        const version = cur.err === 'OK' ? cur.version : 0;
        const err = await clerks[c].put('k', `${c}.${i}`, version);
        check(
          err === 'OK' || err === 'ErrVersion' || err === 'ErrNoKey',
          `client ${c}: put on a reliable network returned ${err}; only OK, ErrVersion or ErrNoKey are possible without lost messages.`,
        );
        if (err === 'OK') ok++;
      }
      return ok;
    });
    const total = oks.reduce((a, b) => a + b, 0);
    const last = await clerks[0].get('k');
    check(total > 0, 'No put succeeded in one second: are puts with the current version accepted?');
    check(
      last.err === 'OK' && last.version === total,
      `After ${total} successful puts the key should be at version ${total}, but get returned ${show(last)}.`,
    );
    ctx.log(`${total} successful puts`);
    ts.checkLinearizable();
  },
};

/** Clients and value size of the memory test (MIT's numbers). */
const MEM_CLIENTS = 100_000;
const MEM_VALUE_BYTES = 1000;
/**
 * Server memory allowed per client after each client did one put. MIT's 2024 limit was 200 B, which lets a
 * table of sequence numbers through (about 125 B per entry here); a lab 2 server needs no per-client state at
 * all, so, like MIT's 2026 lab, we allow 10 B: a correct server measures about 0.
 */
const MEM_BYTES_PER_CLIENT = 10;

const memPutManyClients: TestDefinition<Lab2Impl> = {
  name: 'TestMemPutManyClientsReliable',
  description: `${MEM_CLIENTS} clients each ask for a missing key of their own and put a ${MEM_VALUE_BYTES}-byte value: the server keeps no per-client state, and nothing for a key only asked for`,
  async run(ctx: Ctx) {
    // The server comes from a private copy of server.ts (as in every test), so state kept at the top level of the module is counted too.
    // The clerks come from a copy of their own, dropped before the weighing: what the server shares with them (a
    // value's string) is the server's then.
    const ts = new KVTester(ctx, true, { ownClerks: true });
    // Each put sends a value of its own (a server that kept them all would keep 1000 bytes per client), made by
    // writing the client's number over the start of one random value: 100,000 values of 1000 random characters
    // each would take seconds to draw.
    const value = Buffer.from(ctx.world!.rng.string(MEM_VALUE_BYTES), 'latin1');
    const valueFor = (i: number): string => {
      value.write(`${i}:`, 0, 'latin1');
      return value.toString('latin1');
    };
    // Each clerk gets a missing key of its own (every tenth also has a put of it refused), then puts its value, then
    // goes away: the server sees 100,000 clients, and the test's own heap stays small (the weighing below counts
    // the server alone either way). A server that keeps a note of each missing key asked for keeps it here.
    for (let i = 0; i < MEM_CLIENTS; i++) {
      const ck = ts.makeRawClerk();
      const missing = `missing-${i}`;
      const r = await ck.get(missing);
      check(r.err === 'ErrNoKey', `client ${i}: get of a missing key returned ${show(r)}; expected ErrNoKey.`);
      if (i % 10 === 0) {
        const refused = await ck.put(missing, 'x', 1);
        check(
          refused === 'ErrNoKey',
          `client ${i}: put("${missing}", "x", version 1) of a missing key returned ${refused}; expected ErrNoKey.`,
        );
      }
      const err = await ck.put('k', valueFor(i), i);
      check(err === 'OK', `client ${i}: put("k", ..., version ${i}) returned ${err}; expected OK.`);
      ts.net.deleteEnd(`clerk-${i}`);
    }
    ctx.countOps(2 * MEM_CLIENTS + MEM_CLIENTS / 10);
    // What the server retains is the heap it frees when it goes away. Comparing the heap before and after the
    // puts instead would also count unrelated changes inside V8 (seen here: several MB either way).
    ts.forgetClerks();
    stopHoldersOfServers([ts.net]);
    const withServer = liveHeapBytes();
    ts.removeServer();
    const withoutServer = liveHeapBytes();
    const perClient = (withServer - withoutServer) / MEM_CLIENTS;
    ctx.log(
      `the server retains ${((withServer - withoutServer) / 1024).toFixed(0)} KiB: ${perClient.toFixed(1)} bytes per client`,
    );
    check(
      perClient <= MEM_BYTES_PER_CLIENT,
      `Your server retains ${perClient.toFixed(0)} bytes per client after ${MEM_CLIENTS} clients did one put each ` +
        `(at most ${MEM_BYTES_PER_CLIENT} allowed). A lab 2 server needs no memory of clients or of earlier ` +
        'requests: the version check already makes a re-sent put harmless. Remove any per-client or per-request ' +
        'cache, and any entry made for a key that was only asked for (a get or a refused put of a missing key).',
    );
  },
};

const unreliableNet: TestDefinition<Lab2Impl> = {
  name: 'TestUnreliableNet',
  description:
    '100 puts on the unreliable network: re-sent puts end in ErrVersion, ErrMaybe is reported, history linearizable',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, false);
    const ck = ts.makeClerk();
    let sawMaybe = false;
    for (let round = 0; round < 100; round++) {
      for (let attempt = 0; ; attempt++) {
        const err = await ck.put('k', String(attempt), round);
        if (err === 'ErrMaybe') {
          sawMaybe = true;
          continue; // the put may have happened: try again, which must now say ErrVersion
        }
        check(
          attempt === 0 ? err === 'OK' : err === 'ErrVersion',
          attempt === 0
            ? `round ${round}: put with the current version ${round} returned ${err}; expected OK (or ErrMaybe).`
            : `round ${round}: after ErrMaybe, putting again with version ${round} returned ${err}; the first put ` +
                'took effect (this client is the only writer), so the version moved and ErrVersion was expected.',
        );
        break;
      }
      const got = await ck.get('k');
      check(
        got.err === 'OK' && got.version === round + 1 && got.value === '0',
        `round ${round}: get returned ${show(got)}; expected value "0" at version ${round + 1} — the first put of ` +
          'the round must take effect exactly once, and no later put of the round may overwrite it.',
      );
    }
    check(
      sawMaybe,
      'Clerk.put never returned ErrMaybe in 100 puts on a network that loses replies: a re-sent put that gets ErrVersion must return ErrMaybe.',
    );
    ts.checkLinearizable();
  },
};

/** How many copies of one put TestResentPutResults loses in a row (some 15 virtual minutes of re-sending at a 100 ms pace). */
const LONG_OUTAGE_SENDS = 10_000;

/** TestResentPutResults's clerks: `a` talks through a link that loses chosen messages, `b` through a plain one. */
interface ResentPutClerks {
  a: KVClerk;
  link: ScriptedLink;
  b: KVClerk;
}

/** Fails unless clerk b reads "k" at exactly `want`, after what `after` describes. */
async function expectKAt(
  { b }: ResentPutClerks,
  want: { value: string; version: number },
  after: string,
): Promise<void> {
  const got = await b.get('k');
  check(
    got.err === 'OK' && got.value === want.value && got.version === want.version,
    `After ${after}, get("k") returned ${show(got)}; expected ${show(want.value)} at version ${want.version}.`,
  );
}

/** Step 1: the first copy of a put is lost on its way: only the re-sent copy reaches the server, and succeeds. */
async function resentPutSucceeds(c: ResentPutClerks): Promise<void> {
  const { a, link } = c;
  link.next({ method: 'Put', key: 'k', put: { value: 'a1', version: 0 }, lose: 'request' });
  const first = await a.put('k', 'a1', 0);
  check(
    first === 'OK',
    `put("k", "a1", 0) returned ${first} although its first request was lost and the re-sent one was answered OK; expected OK. ` +
      'Only a re-sent put answered ErrVersion is uncertain: OK means the put happened, whichever copy it was.',
  );
  await expectKAt(c, { value: 'a1', version: 1 }, 'the put whose first request was lost');
  // The next put is refused on its first and only copy: a definite ErrVersion, however the last put went.
  await expectPut(
    a,
    'k',
    'stale',
    0,
    'ErrVersion',
    "this put's first and only copy was refused (the key is at version 1); the put before it was re-sent and answered OK, " +
      'and "re-sent" belongs to that put alone: decide it per call of put, not in a field of the clerk that outlives the call',
  );
}

/** Step 2: a put to a missing key with version 5 loses its reply: the re-sent copy is answered ErrNoKey. */
async function resentPutToMissingKey({ a, link, b }: ResentPutClerks): Promise<void> {
  link.next({ method: 'Put', key: 'none', put: { value: 'x', version: 5 }, lose: 'reply' });
  const noKey = await a.put('none', 'x', 5);
  check(
    noKey === 'ErrNoKey',
    `put("none", "x", 5) on a missing key returned ${noKey} after its first reply was lost; expected ErrNoKey. ` +
      'ErrNoKey is certain even for a re-sent put: had an earlier copy succeeded, the key would exist now.',
  );
  const none = await b.get('none');
  check(
    none.err === 'ErrNoKey',
    `get("none") returned ${show(none)}; expected ErrNoKey: a put with version 5 must not create a missing key.`,
  );
  await expectPut(
    a,
    'k',
    'stale',
    0,
    'ErrVersion',
    "this put's first and only copy was refused (the key is at version 1); the put before it was re-sent and answered ErrNoKey, " +
      'which does not make this one uncertain',
  );
}

/**
 * Step 3: the first copy is lost, and meanwhile another client writes: the re-sent copy gets ErrVersion, yet the
 * put never happened.
 */
async function resentPutRacesAnotherClient(c: ResentPutClerks): Promise<void> {
  const { a, link, b } = c;
  const otherWrote = gate();
  link.next({ method: 'Put', key: 'k', put: { value: 'a2', version: 1 }, lose: 'request', until: otherWrote.opened });
  const pending = a.put('k', 'a2', 1);
  await expectPut(
    b,
    'k',
    'b2',
    1,
    'OK',
    "the key is at version 1 and the other client's put has not reached the server",
  );
  otherWrote.open();
  const racing = await pending;
  check(
    racing === 'ErrMaybe',
    `put("k", "a2", 1) returned ${racing}; expected ErrMaybe. Its first request was lost while another client moved the key to ` +
      'version 2, so the re-sent copy was answered ErrVersion: the clerk cannot tell who moved the version. ' +
      (racing === 'OK'
        ? "OK is wrong: the put did not happen (the value is the other client's)."
        : 'The handout asks for ErrMaybe whenever a re-sent put gets ErrVersion.'),
  );
  await expectKAt(c, { value: 'b2', version: 2 }, "a lost put raced with another client's");
}

/** Step 4: the put happens and its reply is lost: the re-sent copy gets ErrVersion, and the put did happen. */
async function resentPutWhoseReplyWasLost(c: ResentPutClerks): Promise<void> {
  const { a, link } = c;
  link.next({ method: 'Put', key: 'k', put: { value: 'a3', version: 2 }, lose: 'reply' });
  const done = await a.put('k', 'a3', 2);
  check(
    done === 'ErrMaybe',
    `put("k", "a3", 2) returned ${done}; expected ErrMaybe. The server did the put and its reply was lost, so the re-sent copy was ` +
      'answered ErrVersion; ErrVersion would tell the caller the put did not happen, which is false.',
  );
  await expectKAt(c, { value: 'a3', version: 3 }, 'a put whose reply was lost');
}

/**
 * Steps 5 and 6: with nothing lost, a stale put is answered ErrVersion on its first attempt, a definite answer;
 * after a get whose reply was lost is re-sent, the next put is a first attempt again.
 */
async function firstAttemptsAfterResends(c: ResentPutClerks): Promise<void> {
  const { a, link } = c;
  await expectPut(
    a,
    'k',
    'stale',
    2,
    'ErrVersion',
    'this put\'s first and only copy was refused (the key is at version 3). Whether earlier puts were re-sent does not matter: "re-sent" must be decided per put, not remembered in the clerk',
  );
  link.next({ method: 'Get', key: 'k', lose: 'reply' });
  await expectGet(a, 'k', { value: 'a3', version: 3 });
  await expectPut(
    a,
    'k',
    'stale',
    1,
    'ErrVersion',
    'the put was sent once and refused (the key is at version 3); the earlier re-sent get does not make this put uncertain',
  );
  await expectKAt(c, { value: 'a3', version: 3 }, 'two refused puts');
}

/**
 * Step 7: a long outage: the put's first LONG_OUTAGE_SENDS copies are all lost, then one gets through. Nothing
 * reached the server before it, so the put is certain: OK, never ErrMaybe from a clerk that gave up.
 */
async function putThroughLongOutage(c: ResentPutClerks): Promise<void> {
  const { a, link } = c;
  const sent: number[] = [];
  for (let i = 0; i < LONG_OUTAGE_SENDS; i++)
    void link
      .next({ method: 'Put', key: 'k', put: { value: 'a4', version: 3 }, lose: 'request' })
      .arrived.then(() => sent.push(performance.now()));
  const outage = await a.put('k', 'a4', 3).catch((err: unknown) => {
    if (isTestFailure(err)) throw err;
    return `an error (${err instanceof Error ? err.message : String(err)})`;
  });
  checkRetryPacing(sent);
  check(
    outage === 'OK',
    `put("k", "a4", 3) returned ${outage} after its first ${LONG_OUTAGE_SENDS} requests were lost and the next one was answered OK; expected OK. ` +
      'A clerk keeps re-sending until an answer arrives, however long that takes (no limit on attempts or time), and an OK ' +
      'is certain. ErrMaybe is only for a re-sent put answered ErrVersion. Likely causes: a clerk that gives up after a ' +
      'number of tries or some minutes (throwing, or returning ErrMaybe); a back-off that grows without a cap.',
  );
  await expectKAt(c, { value: 'a4', version: 4 }, `a put whose first ${LONG_OUTAGE_SENDS} requests were lost`);
}

/**
 * Step 8: a get through a long outage: its first GET_OUTAGE_SENDS requests are lost, then one gets through. A get
 * is retried as a put is, however long it takes: it returns the value, never an error of its own.
 */
async function getThroughLongOutage(c: ResentPutClerks): Promise<void> {
  const { a, link } = c;
  for (let i = 0; i < GET_OUTAGE_SENDS; i++) void link.next({ method: 'Get', key: 'k', lose: 'request' });
  let got: GetResult | undefined;
  let threw: unknown;
  try {
    got = await a.get('k');
  } catch (err) {
    threw = err;
  }
  check(
    got?.err === 'OK' && got.value === 'a4' && got.version === 4,
    `get("k") ${threw === undefined ? `returned ${show(got)}` : `threw ${String(threw)}`} after its first ` +
      `${GET_OUTAGE_SENDS} requests were lost and the next one was answered; expected { err: 'OK', value: 'a4', ` +
      "version: 4 }. A clerk's get keeps re-sending until an answer arrives, however long that takes, as a put " +
      'does. Likely causes: a limit on the tries or the time of a get (or a TimeoutError passed on to the caller).',
  );
}

/** The longest outage TestResentPutResults holds a put through, virtual minutes (it draws from 1 hour up to this). */
const HOURS_OUTAGE_MAX_MIN = 360;

/**
 * Step 9: an outage of hours: each of the put's first few copies is held for a while (the link neither delivers
 * nor fails it) and then lost, for 1 to 6 virtual hours in all, drawn from the seed; then one gets through. A clerk
 * keeps trying however long it takes, so the put ends OK.
 */
async function putThroughHoursOfOutage(c: ResentPutClerks, rng: Rng): Promise<void> {
  const { a, link } = c;
  const minutes = rng.between(60, HOURS_OUTAGE_MAX_MIN);
  const copies = rng.between(4, 8);
  for (let i = 1; i <= copies; i++)
    link.next({
      method: 'Put',
      key: 'k',
      put: { value: 'a5', version: 4 },
      lose: 'request',
      until: sleep((minutes * 60_000 * i) / copies),
    });
  const outcome = await a.put('k', 'a5', 4).catch((err: unknown) => {
    if (isTestFailure(err)) throw err;
    return `an error (${err instanceof Error ? err.message : String(err)})`;
  });
  check(
    outcome === 'OK',
    `put("k", "a5", 4) returned ${outcome} after its first ${copies} requests were each held and then lost, ` +
      `${minutes} virtual minutes in all (${(minutes / 60).toFixed(1)} hours), and the next one was answered OK; expected OK. ` +
      'A clerk keeps re-sending until an answer arrives, however long that takes: there is no limit on attempts or time. ' +
      'Likely causes: a clerk that gives up after some minutes or hours (a deadline on the whole call, throwing or ' +
      'returning ErrMaybe); a timer for that deadline that fires while a request is on its way.',
  );
  await expectKAt(
    c,
    { value: 'a5', version: 5 },
    `a put whose first ${copies} requests were held for ${minutes} minutes in all, then lost`,
  );
}

/** How many copies of one get TestResentPutResults loses in a row. */
const GET_OUTAGE_SENDS = 300;

/** Virtual time the clerk must spend, at least, between its tries on average (the handout: it waits a little). */
const MIN_MEAN_RETRY_WAIT_MS = 2;

/** Fails unless the copies sent at these virtual times (one lost put's tries) were paced, not sent at once. */
function checkRetryPacing(sent: readonly number[]): void {
  if (sent.length < 2) return;
  const span = sent[sent.length - 1] - sent[0];
  const mean = span / (sent.length - 1);
  check(
    mean >= MIN_MEAN_RETRY_WAIT_MS,
    `the clerk sent ${sent.length} copies of a put whose requests were lost within ${span.toFixed(2)} virtual ms ` +
      `(${mean.toFixed(3)} ms between tries on average); expected it to wait a little between tries (at least ` +
      `${MIN_MEAN_RETRY_WAIT_MS} ms on average: a few ms, growing up to about 100 ms, is plenty). A clerk that re-sends ` +
      'at once floods a server that is down or a network that is losing everything. Likely causes: a sleep whose ' +
      'promise is not awaited, a wait of 0 or 1 ms (setTimeout(fn, 0) waits 1 ms; setImmediate none), or a back-off ' +
      'that is reset or never grows from 0.',
  );
}

const resentPutResults: TestDefinition<Lab2Impl> = {
  name: 'TestResentPutResults',
  // The long outages take up to about 150 virtual ms a lost copy with the handout's back-off (about 100 ms), and
  // the outage of hours up to HOURS_OUTAGE_MAX_MIN.
  virtualLimitMs: 240_000 + LONG_OUTAGE_SENDS * 150 + HOURS_OUTAGE_MAX_MIN * 60_000,
  description:
    'chosen requests and replies lost: a re-sent put answers OK and ErrNoKey as they are, ErrVersion as ErrMaybe, and later puts start ' +
    `afresh; a put whose first ${LONG_OUTAGE_SENDS} copies are lost still ends OK, its tries paced (at least ${MIN_MEAN_RETRY_WAIT_MS} ms apart on average), a get whose first ${GET_OUTAGE_SENDS} are lost still answers, and a put held up for 1 to ${HOURS_OUTAGE_MAX_MIN / 60} virtual hours still ends OK`,
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const { ck: a, link } = ts.makeScriptedClerk();
    const clerks: ResentPutClerks = { a, link, b: ts.makeClerk() };
    await resentPutSucceeds(clerks);
    await resentPutToMissingKey(clerks);
    await resentPutRacesAnotherClient(clerks);
    await resentPutWhoseReplyWasLost(clerks);
    await firstAttemptsAfterResends(clerks);
    await putThroughLongOutage(clerks);
    await getThroughLongOutage(clerks);
    await putThroughHoursOfOutage(clerks, keyedRng(ctx.seed, 'TestResentPutResults/hours'));
    check(!link.pending, 'A scripted loss never met its call: the clerk sent fewer RPCs than expected.');
    ts.checkLinearizable();
  },
};

const highDropRate: TestDefinition<Lab2Impl> = {
  name: 'TestHighDropRate',
  description:
    'a network that loses 95% of calls (half the requests, nine in ten replies): the clerk still gets through',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, false);
    ts.net.setDropRates(0.5, 0.9);
    const ck = ts.makeClerk();
    let version = 0;
    for (let round = 0; round < 5; round++) {
      const err = await ck.put('k', `v${round}`, version);
      check(
        err === 'OK' || err === 'ErrMaybe',
        `round ${round}: put with the current version ${version} returned ${err}; expected OK or ErrMaybe.`,
      );
      const got = await ck.get('k');
      check(
        got.err === 'OK' && got.version === version + 1 && got.value === `v${round}`,
        `round ${round}: get returned ${show(got)}; expected "v${round}" at version ${version + 1}.`,
      );
      version++;
    }
    ts.checkLinearizable();
  },
};

/** Virtual time within which a free lock must be taken on the reliable network (a try is two round trips, under 1 ms). */
const AT_ONCE_MS = 5;

/** Fails unless `lock` is taken at once: right after `after`, the lock must already be free. */
async function acquireAtOnce(lock: DistributedLock, after: string, hint: string): Promise<void> {
  const why = `Right after ${after}, another client's acquire() did not take the lock within ${AT_ONCE_MS} ms (a free lock takes under 1 ms): ${hint}.`;
  check(await within(lock.acquire(1000), AT_ONCE_MS, () => why), `${why} (acquire returned false)`);
}

const reliableBasic: TestDefinition<Lab2Impl> = {
  name: 'TestReliableBasic',
  description:
    'one lock: acquire, a second holder waits and times out, release hands it over, `await using` and withLock release',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const a = ts.makeLock(ts.makeClerk(), 'l');
    const b = ts.makeLock(ts.makeClerk(), 'l');
    check(await a.acquire(1000), 'The first acquire of a free lock returned false.');
    check(!(await b.acquire(100)), `A second client acquired a lock that another client holds. ${TWO_HOLDERS}`);
    await a.release();
    {
      await using held = b;
      check(await held.acquire(1000), 'After release, another client could not acquire the lock within 1 s.');
    }
    await acquireAtOnce(
      a,
      'an `await using` block that held the lock ended',
      '[Symbol.asyncDispose] must release the lock, and finish releasing before it returns (await the release)',
    );
    await a.release();
    {
      // Ending a block without having acquired must not free a lock that another object holds.
      await using idle = ts.makeLock(ts.makeClerk(), 'l');
      check(await a.acquire(1000), 'The free lock could not be acquired.');
      void idle;
    }
    check(
      !(await b.acquire(100)),
      'An `await using` block that never acquired the lock released it from its holder when the block ended.',
    );
    await a.release();
    const result = await withLock(b, async () => 'worked', 1000);
    check(result === 'worked', `withLock returned ${show(result)}; expected what its work returned.`);
    await acquireAtOnce(a, 'withLock finished', 'release() must finish freeing the lock before it returns');
    await a.release();
  },
};

const reliableNested: TestDefinition<Lab2Impl> = {
  name: 'TestReliableNested',
  description: 'two locks held together by one client; another client gets each only after its release',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const ck1 = ts.makeClerk();
    const ck2 = ts.makeClerk();
    const a1 = ts.makeLock(ck1, 'l1');
    const a2 = ts.makeLock(ck1, 'l2');
    const b1 = ts.makeLock(ck2, 'l1');
    const b2 = ts.makeLock(ck2, 'l2');
    check(await a1.acquire(1000), 'Could not acquire a free lock "l1".');
    check(
      await a2.acquire(1000),
      'Could not acquire a free lock "l2" while holding "l1" (locks with different names are independent).',
    );
    check(!(await b1.acquire(50)), 'Another client acquired "l1" while it was held.');
    check(!(await b2.acquire(50)), 'Another client acquired "l2" while it was held.');
    await a1.release();
    check(await b1.acquire(1000), '"l1" was released but another client could not acquire it.');
    check(!(await b2.acquire(50)), 'Releasing "l1" also freed "l2".');
    await a2.release();
    check(await b2.acquire(1000), '"l2" was released but another client could not acquire it.');
    await b1.release();
    await b2.release();
  },
};

const releaseNotHeld: TestDefinition<Lab2Impl> = {
  name: 'TestReleaseNotHeldReliable',
  description:
    'release() by a Lock object that does not hold the lock (never took it, or already gave it up) leaves its holder holding it',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const [a, b, c] = [0, 1, 2].map(() => ts.makeLock(ts.makeClerk(), 'l'));
    const releaseQuietly = async (lock: DistributedLock, who: string) => {
      try {
        await within(
          lock.release(),
          1000,
          () =>
            `${who}.release() of a lock it does not hold had not returned after 1 s; it may refuse (throw) but must not wait for ever.`,
        );
      } catch (err) {
        if (isTestFailure(err)) throw err;
        // Refusing (throwing) is a fine answer to a release of a lock one does not hold.
      }
    };
    check(await a.acquire(1000), 'The first acquire of a free lock returned false.');
    await releaseQuietly(b, 'B');
    check(
      !(await c.acquire(50)),
      'Client B called release() without ever acquiring the lock, and that freed the lock client A held: client C then acquired it. ' +
        'release() must only give up the lock when this Lock object holds it: check that the key holds your own id before freeing it.',
    );
    await a.release();
    await acquireAtOnce(c, 'the holder released', 'release() must free the lock before it returns');
    await releaseQuietly(a, 'A');
    check(
      !(await b.acquire(50)),
      "Client A called release() a second time, after its lock had passed to client C, and that freed C's lock: client B then acquired it. " +
        'A Lock object that released must forget it held the lock, and a release must check the key still holds its own id.',
    );
    await c.release();
    ts.checkLinearizable();
  },
};

/** How long, in virtual ms, the holder keeps the lock while TestLocksShareClerkReliable's acquire() without a timeout waits. */
const LONG_HOLD_MS = 60_000;

/** How long before the release TestLocksShareClerkReliable's acquire(2 ** 31) starts waiting (virtual ms). */
const HUGE_TIMEOUT_WAIT_MS = 1000;

/** Fresh Lock objects that each try acquire(0) on the held lock in TestLocksShareClerkReliable: ids must not repeat. */
const FRESH_LOCKS = 2000;

/**
 * Fresh Lock objects that take a free lock in turn in TestLocksShareClerkReliable, each holder's value read back: no
 * two may hold it under the same value (enough that ids of a few characters repeat among them).
 */
const TURN_LOCKS = 3000;
/**
 * The timeout of every other turn's acquire, virtual ms: ten minutes, longer than the test, so that a timer set for
 * the deadline and not cleared when the lock is taken is still live when the test ends (the others use 0).
 */
const TURN_TIMEOUT_MS = 600_000;

/** The handout's pace for looking at a held lock again: at least this many virtual ms between looks on average. */
const POLL_MEAN_MS = 2;

/** Fails unless an acquire() that waited `ms` on a held lock made at most one get or put per POLL_MEAN_MS. */
function checkPollPace(calls: number, ms: number): void {
  const most = Math.floor(ms / POLL_MEAN_MS);
  check(
    calls <= most,
    `acquire() without a timeout waited ${ms / 1000} virtual seconds on a held lock and called its clerk ${calls} times ` +
      `(${(ms / Math.max(1, calls)).toFixed(2)} ms apart on average); expected at most ${most}: wait a little before ` +
      `looking at a held lock again (at least ${POLL_MEAN_MS} virtual ms on average; the reference waits 5). ` +
      'Likely causes: no wait between looks (each get starts as soon as the last one returns); a wait of 0 or 1 ms ' +
      '(setTimeout(fn, 0), setImmediate); a sleep whose promise is not awaited; a back-off reset to 0 at every look.',
  );
}

/** The ranges TestLocksShareClerkReliable draws the timeouts of its timed acquires of a held lock from, virtual ms. */
const TIMED_ACQUIRE_RANGES = [
  [3, 20],
  [20, 200],
  [200, 2000],
] as const;

/**
 * Timed acquires of a held lock, one of each range of TIMED_ACQUIRE_RANGES: each returns false, and looks at the
 * lock at most once per POLL_MEAN_MS on average, whatever its timeout (plus its first and its last look).
 */
async function checkTimedPollPace(ts: KVTester, rng: Rng, name: string): Promise<void> {
  for (const [lo, hi] of TIMED_ACQUIRE_RANGES) {
    const timeout = rng.between(lo, hi);
    const clerk = ts.makeClerk();
    const got = await ts.makeLock(clerk, name).acquire(timeout);
    check(!got, `A fresh Lock on "${name}" took it with acquire(${timeout}) while another Lock object held it.`);
    const most = Math.floor(timeout / POLL_MEAN_MS) + 2;
    check(
      clerk.calls <= most,
      `acquire(${timeout}) of a held lock called its clerk ${clerk.calls} times before it returned false ` +
        `(${(timeout / Math.max(1, clerk.calls)).toFixed(2)} virtual ms apart on average); expected at most ${most}: ` +
        `wait a little before looking at a held lock again, at least ${POLL_MEAN_MS} virtual ms on average whatever the ` +
        'timeout (the reference waits 5). Likely causes: a wait derived from the timeout (timeoutMs / 100 is a fraction ' +
        'of a millisecond when the timeout is short); no wait between looks; a wait of 0 or 1 ms (setTimeout(fn, 0), ' +
        'setImmediate); a sleep whose promise is not awaited.',
    );
  }
}

/** How long acquire(0) of a held lock may take on the reliable network (a get takes 0.05-0.15 ms each way), virtual ms. */
const FALSE_AT_ONCE_MS = 2;

/**
 * TestLocksShareClerkReliable: fresh Locks on `ck` take a free lock in turn, every other one with a ten-minute
 * timeout; what the key holds while each holds it must be its own.
 */
async function checkTurnsHaveOwnIds(ts: KVTester, ck: KVClerk): Promise<void> {
  // Fresh Locks take a free lock in turn: what the key holds while each holds it must be its own. Two Locks that
  // hold under one value could each take the other's hold for its own (after an ErrMaybe, a release).
  const holders = new Map<string, number>();
  for (let i = 0; i < TURN_LOCKS; i++) {
    const turn = ts.makeLock(ck, 'turns');
    const timeout = i % 2 === 0 ? 0 : TURN_TIMEOUT_MS;
    check(
      await turn.acquire(timeout),
      `Fresh Lock object number ${i + 1} on "turns" (the one before it had taken it and released it) could not take the free lock with acquire(${timeout}).`,
    );
    const read = await ck.get('turns');
    check(
      read.err === 'OK',
      `Fresh Lock object number ${i + 1} took the free lock "turns", and the key then answered ${read.err}.`,
    );
    const value = read.err === 'OK' ? read.value : '';
    const earlier = holders.get(value);
    check(
      earlier === undefined,
      () =>
        `Fresh Lock objects number ${(earlier ?? 0) + 1} and ${i + 1} each took the lock "turns" in turn, and the key held ` +
        `${show(value)} both times: two Lock objects of one run had the same identity. Each Lock needs an id of its own ` +
        'that does not repeat among the thousands of Locks of a run. Likely causes: an id from a small space (a random ' +
        'string of a few characters, such as Math.random().toString(36).slice(2, 6), a number below a million); an id ' +
        'made from the time or a counter that starts again; draw 10 or more random characters, or crypto.randomUUID().',
    );
    holders.set(value, i);
    await turn.release();
  }
}

const locksShareClerk: TestDefinition<Lab2Impl> = {
  name: 'TestLocksShareClerkReliable',
  description:
    `Lock objects sharing one clerk are separate contenders: acquire(0) of a held lock returns false at once (for ${FRESH_LOCKS} fresh Locks too), ${TURN_LOCKS} fresh Locks that take a free lock in turn (acquire(0) and acquire(${TURN_TIMEOUT_MS / 60_000} minutes)) each hold it under a value of its own, release() by one ` +
    `that does not hold it changes nothing; acquire() without a timeout waits as long as it takes (${LONG_HOLD_MS / 60_000} minute here), looking at the lock at most once per ${POLL_MEAN_MS} ms on average, and so does acquire(2 ** 31); timed acquires of the held lock (${TIMED_ACQUIRE_RANGES.map(([lo, hi]) => `${lo}-${hi}`).join(', ')} ms) return false, paced alike`,
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const ck = ts.makeClerk();
    ts.shareClerk(ck);
    const [a, b, c] = [0, 1, 2].map(() => ts.makeLock(ck, 'l'));
    check(await a.acquire(1000), 'The first acquire of a free lock returned false.');
    const tookIt = await within(
      b.acquire(0),
      1000,
      () =>
        'acquire(0) of a lock another Lock object holds had not returned after 1 s of virtual time; a timeout of 0 means ' +
        '"try once": it must return false at once (0 is a timeout, not "no timeout").',
    );
    check(
      !tookIt,
      'Two Lock objects on the same clerk: B.acquire(0) returned true while A held the lock. Each Lock object needs an identity ' +
        'of its own (made when the Lock is constructed): otherwise B reads the key, sees "its" id, and believes it already ' +
        'holds the lock. Likely causes: one id made when the module loads (shared by every Lock of the program), one id ' +
        'kept per clerk (a table keyed by the clerk), or one made from the time.',
    );
    try {
      await within(b.release(), 1000, () => 'B.release() of a lock it does not hold had not returned after 1 s.');
    } catch (err) {
      if (isTestFailure(err)) throw err;
      // Refusing (throwing) is a fine answer to a release of a lock one does not hold.
    }
    check(
      !(await c.acquire(50)),
      'Lock B (same clerk as the holder A) called release() without holding the lock, and that freed it: Lock C then ' +
        "acquired it. A release must check the key holds this Lock object's own id.",
    );
    let slowest = 0;
    for (let i = 0; i < FRESH_LOCKS; i++) {
      const fresh = ts.makeLock(ck, 'l');
      const t0 = performance.now();
      const got = await fresh.acquire(0);
      slowest = Math.max(slowest, performance.now() - t0);
      check(
        !got,
        `Fresh Lock object number ${i + 1} (made after the holder, on the same clerk) acquired the held lock with acquire(0): its id ` +
          "was the holder's. Ids must not repeat among the Lock objects of a run: draw them from a large space (a random string " +
          'of 10 or more characters, crypto.randomUUID()), not a small number or a counter that starts again.',
      );
    }
    check(
      slowest <= FALSE_AT_ONCE_MS,
      () =>
        `acquire(0) of a held lock took up to ${slowest.toFixed(2)} virtual ms on the reliable network, where a get takes ` +
        `about a tenth of one; expected false at once (at most ${FALSE_AT_ONCE_MS} ms: one look at the key, no pause). Likely ` +
        'causes: a pause before the deadline is checked (look, check the deadline, and only then pause); a first pause ' +
        'before the first look; a timeout of 0 rounded up to a pause of some milliseconds.',
    );
    await checkTurnsHaveOwnIds(ts, ck);
    await checkTimedPollPace(ts, keyedRng(ctx.seed, 'TestLocksShareClerkReliable/timeouts'), 'l');
    // An acquire with no timeout, and one with a huge finite timeout, wait as long as the holder keeps the lock.
    const waiterClerk = ts.makeClerk();
    const waiter = ts.makeLock(waiterClerk, 'l');
    const patient = ts.makeLock(ts.makeClerk(), 'l');
    let early: string | undefined;
    const waiting = waiter.acquire().then((ok) => ((early ??= `acquire() returned ${ok}`), ok));
    await sleep(LONG_HOLD_MS - HUGE_TIMEOUT_WAIT_MS);
    checkPollPace(waiterClerk.calls, LONG_HOLD_MS - HUGE_TIMEOUT_WAIT_MS);
    const waitingHuge = patient.acquire(2 ** 31).then((ok) => ((early ??= `acquire(2 ** 31) returned ${ok}`), ok));
    await sleep(HUGE_TIMEOUT_WAIT_MS);
    check(
      early === undefined,
      () =>
        `${early} while another Lock object held the lock (it had held it for up to ${LONG_HOLD_MS / 1000} virtual seconds without releasing). ` +
        'A lock has no lease: acquire keeps trying for as long as its timeout allows (Infinity when none is given; 2 ** 31 ms is ' +
        'almost 25 days), and never takes a lock its holder has not released. Likely causes: a default timeout of some seconds (the ' +
        'default timeout is Infinity, not a number of seconds); the holder treated as gone after a while; a deadline or timer that ' +
        'cannot hold a large timeout (setTimeout overflows past 2 ** 31 - 1 ms and fires at once); a limit on attempts.',
    );
    await a.release();
    await expectWaitersTakeTurns([
      { lock: waiter, what: 'acquire() without a timeout', done: waiting },
      { lock: patient, what: 'acquire(2 ** 31)', done: waitingHuge },
    ]);
    ts.checkLinearizable();
  },
};

/** A Lock waiting in acquire(): what it is, for messages, and its acquire's outcome. */
interface Waiter {
  readonly lock: DistributedLock;
  readonly what: string;
  readonly done: Promise<boolean>;
}

/** Fails unless, once the lock was released, the waiters take it one after the other (in either order). */
async function expectWaitersTakeTurns(waiters: Waiter[]): Promise<void> {
  for (let turn = 0; turn < 2; turn++) {
    const first = await within(
      Promise.race(waiters.map((w) => w.done.then((ok) => ({ w, ok })))),
      2000,
      () =>
        `${waiters.map((w) => w.what).join(' and ')} had not returned 2 s after the lock was ${turn === 0 ? `released (the holder kept it ${LONG_HOLD_MS / 1000} s)` : 'released again'}.`,
    );
    check(
      first.ok,
      `${first.w.what} returned false; the lock was released long before its timeout. With no timeout, acquire must keep trying until ` +
        'it holds the lock (the default timeout is Infinity, not a number of seconds).',
    );
    await first.w.lock.release();
    waiters.splice(waiters.indexOf(first.w), 1);
  }
}

/** The fault of the lock's lost-reply tests: every put on "l" the server carries out loses its reply. */
const TAKING_REPLY_LOST: LinkRule = { method: 'Put', key: 'l', accepted: true, lose: 'reply' };

const lockLostReply: TestDefinition<Lab2Impl> = {
  name: 'TestLockLostReply',
  description:
    'the reply of the put that takes the lock is lost, then the reply of the put that frees it: the lock still works',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const { ck, link } = ts.makeScriptedClerk();
    const a = ts.makeLock(ck, 'l');
    const b = ts.makeLock(ts.makeClerk(), 'l');
    // Every put of acquire that the server carries out loses its reply, so the one that takes the lock does, whatever
    // else acquire writes first; puts the server refuses pass.
    const taking = link.around(TAKING_REPLY_LOST, () => a.acquire(1000));
    const got = await within(taking.result, 2000, () => 'acquire(1000) had not returned after 2 s of virtual time.');
    check(
      got,
      'acquire(1000) of a free lock returned false; its put had reached the server and taken the lock, only the reply was lost ' +
        '(the clerk then said ErrMaybe). Now nobody can ever take the lock. After ErrMaybe, read the key: if it holds your own id, you hold the lock.',
    );
    check(
      taking.met.count > 0,
      'acquire(1000) of a free lock returned true without a put on "l" that the server carried out: taking the lock must write the key.',
    );
    check(
      !(await b.acquire(50)),
      'Another client acquired the lock while the first held it (its acquire had returned true after a lost reply).',
    );
    const freeing = link.around(TAKING_REPLY_LOST, () => a.release());
    await within(
      freeing.result,
      1000,
      () =>
        'release() did not return within 1 s after the reply of its put was lost. The put had freed the lock, so re-sending it with the ' +
        'same version is refused for ever: after ErrMaybe, read the key again and stop once it no longer holds your id.',
    );
    check(
      freeing.met.count > 0,
      'release() returned without a put on "l" that the server carried out: acquire and release should each write the key.',
    );
    await acquireAtOnce(
      b,
      'a release() whose put lost its reply returned',
      'the put had freed the lock; release() must return only once the key no longer holds its id',
    );
    await b.release();
    ts.checkLinearizable();
  },
};

const acquireTimeoutLostReply: TestDefinition<Lab2Impl> = {
  name: 'TestAcquireTimeoutLostReply',
  description:
    'acquire(50) whose put takes the lock but whose reply is lost after the deadline: true, or false with the lock free',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const { ck, link } = ts.makeScriptedClerk();
    const a = ts.makeLock(ck, 'l');
    const b = ts.makeLock(ts.makeClerk(), 'l');
    // The reply of every put of acquire that the server carries out is held until 100 ms, past the deadline, then lost.
    const taking = link.around({ ...TAKING_REPLY_LOST, until: sleep(100) }, () => a.acquire(50));
    const got = await within(taking.result, 2000, () => 'acquire(50) had not returned after 2 s of virtual time.');
    check(
      taking.met.count > 0,
      `acquire(50) of a free lock returned ${got} without a put on "l" that the server carried out: taking the lock must write the key.`,
    );
    if (got) {
      check(!(await b.acquire(50)), 'acquire(50) returned true, yet another client acquired the lock too.');
      await a.release();
      await acquireAtOnce(b, 'the holder released', 'release() must free the lock before it returns');
    } else {
      check(
        await b.acquire(50),
        'acquire(50) returned false, but its put had taken the lock (the server stored it; the reply was lost 100 ms later, after ' +
          'the deadline): the lock stays held by a client that believes it does not hold it, and no one can take it again. Before ' +
          'returning false after ErrMaybe, read the key: if it holds your id, return true (or free it first).',
      );
    }
    await b.release();
    ts.checkLinearizable();
  },
};

/** How long after its timeout ran out an acquire may still start a look after a pause (virtual ms). */
const LOOK_AFTER_DEADLINE_MS = 100;
/** How many such late looks an acquire that returns false may make: more means it kept polling past its deadline. */
const LATE_LOOKS_AT_MOST = 2;

/**
 * Fails when an acquire(timeout) that returned false made more than LATE_LOOKS_AT_MOST calls that began, after a
 * pause, more than LOOK_AFTER_DEADLINE_MS past its deadline (`spans`: its clerk's calls during the acquire). A call
 * made at once when the last returned (a get after a put answered ErrMaybe) is not a new look.
 */
function checkGaveUp(
  me: number,
  timeout: number,
  began: number,
  spans: ReadonlyArray<{ start: number; end: number }>,
): void {
  const deadline = began + timeout;
  const late = spans.filter(
    (s, i) => s.start > deadline + LOOK_AFTER_DEADLINE_MS && i > 0 && s.start > spans[i - 1].end,
  );
  check(
    late.length <= LATE_LOOKS_AT_MOST,
    () =>
      `client ${me}'s acquire(${timeout}) returned false ${(spans[spans.length - 1].end - began).toFixed(0)} ms after it was called, on the lossy network. ` +
      `After its timeout ran out it went on looking: ${late.length} gets or puts began after a pause, the first ${(late[0].start - deadline).toFixed(0)} ms past the deadline. ` +
      `Expected: acquire gives up once ${timeout} virtual ms have passed since it was called, on the clock (Date.now()), whatever its calls cost (a put answered ErrMaybe may still need one get to learn whether it took the lock). ` +
      'Likely causes: the timeout counted as the sum of the pauses between looks (on a lossy network a get or put alone can take hundreds of ms); a timeout counted in attempts; the deadline measured from the first look that finds the lock held, or reset at each look.',
  );
}

const acquireTimeoutUnreliable: TestDefinition<Lab2Impl> = {
  name: 'TestAcquireTimeoutUnreliable',
  description:
    '10 clients, each attempt a new Lock with a short timeout, for 2 virtual seconds on the lossy network: an acquire that returns false stops looking once its timeout ran out on the clock (at most 2 looks after a pause begin more than 100 ms past it); afterwards the lock is free',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, false);
    let inside: number | undefined;
    const outcomes = await runClients(10, 2000, async (me, done) => {
      const ck = ts.makeClerk();
      // Each client's timeouts and holding times are its own draws, so one client's timing does not shift another's.
      const rng = keyedRng(ctx.world!.seed, `client ${me}`);
      let taken = 0;
      let refused = 0;
      while (!done()) {
        // A new Lock object for every attempt, released by `await using` if it says it holds the lock: a Lock
        // that returned false while its put had taken the lock is never asked again, so the lock stays taken.
        await using lock = ts.makeLock(ck, 'l');
        const timeout = rng.int(30);
        const [began, calls] = [World.current().now(), ck.spans.length];
        if (!(await lock.acquire(timeout))) {
          checkGaveUp(me, timeout, began, ck.spans.slice(calls));
          refused++;
          continue;
        }
        check(
          inside === undefined,
          `client ${me}'s acquire returned true while client ${inside} held the lock (it had not called release()): two holders at once. ${TWO_HOLDERS}`,
        );
        inside = me;
        taken++;
        await sleep(rng.int(5));
        inside = undefined;
        await lock.release();
      }
      return { taken, refused };
    });
    const refused = outcomes.reduce((a, o) => a + o.refused, 0);
    ctx.log(`acquired ${outcomes.map((o) => o.taken).join(' ')}; ${refused} acquires timed out`);
    const last = ts.makeLock(ts.makeClerk(), 'l');
    check(
      await last.acquire(1000),
      `Every client had released the lock or been refused it (${refused} acquires returned false), yet a new client could not acquire it ` +
        'within 1 s: an acquire returned false while the key still named it as the holder. That happens when a put that took the lock is ' +
        'answered ErrMaybe (its reply was lost) and acquire then gives up at its deadline without reading the key: read it first, and ' +
        'return true if it holds your id.',
    );
    await last.release();
  },
};

/**
 * TestLockLostRequest: client A's acquire timeout; how long B holds the lock at least; how long after A's clerk sent
 * its lost put again B goes on holding it; and how long B holds it at most (virtual ms).
 */
const A_TIMEOUT_MS = 5000;
const B_HOLDS_MS = 500;
const B_HOLDS_AFTER_RESEND_MS = 100;
const B_HOLDS_AT_MOST_MS = 3000;

const lockLostRequest: TestDefinition<Lab2Impl> = {
  name: 'TestLockLostRequest',
  description:
    'the put of one acquire is lost while another client takes the lock: the first gets ErrMaybe and must wait, not enter',
  async run(ctx: Ctx) {
    const ts = new KVTester(ctx, true);
    const { ck, link } = ts.makeScriptedClerk();
    const a = ts.makeLock(ck, 'l');
    const b = ts.makeLock(ts.makeClerk(), 'l');
    const bInside = gate();
    let bHolds = false;
    // Every put of A's on "l" is held until B is inside, then lost: the one that would have taken the lock among them.
    const held = link.during({ method: 'Put', key: 'l', lose: 'request', until: bInside.opened }, bInside.opened);
    const aResult = a.acquire(A_TIMEOUT_MS).then((ok) => ({ ok, whileBHeld: bHolds }));
    const first = await Promise.race([
      held.arrived.then(() => 'put' as const),
      aResult.then(() => 'returned' as const),
    ]);
    check(
      first === 'put',
      `Client A's acquire(${A_TIMEOUT_MS}) of a free lock returned before any put of it reached the server: taking the lock must write the key.`,
    );
    check(await b.acquire(1000), "Client B could not acquire a free lock (client A's put had not reached the server).");
    bHolds = true;
    bInside.open();
    // B holds the lock until A's acquire returns, or until A's clerk has sent its put again and had time to hear
    // ErrMaybe (whatever its pace: at least B_HOLDS_MS, at most B_HOLDS_AT_MOST_MS), so that A takes ErrMaybe while B
    // holds the lock, and can still take it after B before its deadline.
    const resent = link.during({ method: 'Put', key: 'l' }, aResult);
    const heardErrMaybe = resent.arrived.then(() => sleep(B_HOLDS_AFTER_RESEND_MS));
    await Promise.race([aResult, Promise.all([heardErrMaybe, sleep(B_HOLDS_MS)]), sleep(B_HOLDS_AT_MOST_MS)]);
    bHolds = false;
    await b.release();
    const r = await within(
      aResult,
      2000,
      () => `Client A's acquire(${A_TIMEOUT_MS}) had not returned 2 s after client B released the lock.`,
    );
    check(
      !r.whileBHeld,
      () =>
        `Client A's acquire returned ${r.ok} while client B held the lock: two holders at once. A's put was lost and B took the lock; ` +
        "A's re-sent put was answered ErrVersion, so A's clerk said ErrMaybe. ErrMaybe does not mean the put happened: read the key and " +
        'enter only if it holds your own id.',
    );
    check(
      r.ok,
      `Client A's acquire(${A_TIMEOUT_MS}) returned false although client B released the lock after at most ${B_HOLDS_AT_MOST_MS} ms.`,
    );
    await a.release();
    ts.checkLinearizable();
  },
};

/**
 * A put of the lock workload's witness key by the lock's holder: OK, or ErrMaybe after a re-send. Anything else
 * is two holders when another client's id is in the key (checked first), else most likely the clerk.
 */
async function putInsideLock(ck: KVClerk, me: number, what: string, value: string, version: number): Promise<void> {
  const got = await ck.put('l0', value, version);
  if (got === 'OK' || got === 'ErrMaybe') return;
  const now = await ck.get('l0');
  const other = now.err === 'OK' && now.value !== '' && now.value !== String(me) ? now.value : undefined;
  check(
    other === undefined,
    `client ${me} held the lock, but client ${other} wrote the witness key "l0" meanwhile (${what} returned ${got}): two clients held the lock at once. ` +
      'Likely causes in lab2/lock.ts: acquire() treating an ErrMaybe from its taking put as success without reading the lock key; ' +
      'release() freeing a lock this object no longer holds; a holder id that is not unique.',
  );
  const sends = ck instanceof RecordingClerk ? ck.lastPutSends : undefined;
  const resent =
    sends === undefined
      ? ''
      : sends > 1
        ? ` The clerk sent this put ${sends} times (it re-sent it after a lost reply), so it cannot know the first did not succeed: that must be ErrMaybe.`
        : ' The clerk sent it once (no re-send).';
  throw new TestFailure(
    `client ${me}: ${what} inside the lock returned ${got}; expected OK, or ErrMaybe if the clerk re-sent it.${resent} The witness key now reads ${show(now)}: no other holder wrote it. ` +
      'Likely causes: the clerk returns ErrVersion (instead of ErrMaybe) for a put it re-sent after a lost reply (lab2/client.ts); ' +
      "the server refuses a put whose version matches the key's (lab2/server.ts); or another client held the lock for a moment and left the key as it found it (lab2/lock.ts).",
  );
}

/** MIT's lock workload: each client repeatedly acquires, checks a witness key is empty, writes it, waits, clears it. */
function lockWorkload(name: string, clients: number, reliable: boolean): TestDefinition<Lab2Impl> {
  return {
    name,
    description: `${clients} client${clients > 1 ? 's take' : ' takes'} turns with one lock for 2 virtual seconds on the ${reliable ? 'reliable' : 'unreliable'} network; nobody ever sees another inside`,
    async run(ctx: Ctx) {
      const ts = new KVTester(ctx, reliable);
      let inside: number | undefined; // who the test saw acquire and not yet release: a second holder is caught directly
      const acquisitions = await runClients(clients, 2000, async (me, done) => {
        const ck = ts.makeClerk();
        const lock = ts.makeLock(ck, 'l');
        await ck.put('l0', '', 0);
        let n = 0;
        while (!done()) {
          check(await lock.acquire(), `client ${me}: acquire() without a timeout returned false.`);
          check(
            inside === undefined,
            `client ${me}'s acquire() returned true while client ${inside} held the lock (it had not called release()): two holders at once. ${TWO_HOLDERS}`,
          );
          inside = me;
          const witness = await ck.get('l0');
          check(
            witness.err === 'OK',
            `client ${me}: get("l0") returned ${show(witness)}; expected the witness key to exist.`,
          );
          check(
            witness.value === '',
            `client ${me} acquired the lock while client ${witness.value} was still inside: two clients held the lock at once.`,
          );
          await putInsideLock(ck, me, `put("l0", "${me}", version ${witness.version})`, String(me), witness.version);
          await new Promise((r) => setTimeout(r, 10));
          await putInsideLock(
            ck,
            me,
            `clearing put("l0", "", version ${witness.version + 1})`,
            '',
            witness.version + 1,
          );
          inside = undefined;
          await lock.release();
          n++;
        }
        return n;
      });
      const total = acquisitions.reduce((a, b) => a + b, 0);
      ctx.log(`acquisitions per client: ${acquisitions.join(' ')}`);
      check(
        total >= clients,
        `Only ${total} acquisitions in 2 seconds by ${clients} client(s): the lock is not being handed over.`,
      );
    },
  };
}

/** Lab 2's suite: the grader loads it with the student's files or the solution's. */
/**
 * What the runner's monitors hold every simulated test to (suite/monitors): the timers live at its end, and the
 * clerk's retry pacing, "at least 2 virtual milliseconds on average" between a lost call and its next copy.
 */
const MONITORS: Monitors = {
  timers: {
    perServer: 1,
    perCall: 1,
    causes: "a clerk's or a lock's wait made with setTimeout or setInterval and never cleared or awaited",
  },
  pacing: [
    {
      rule: 'waiting a little between tries (at least 2 virtual milliseconds on average',
      methods: ['KVServer.Get', 'KVServer.Put'],
      after: 'each',
      meanWaitMs: 2,
      causes:
        'the clerk sends the RPC again at once after a TimeoutError: no wait, a wait of 0 or 1 ms (setTimeout(fn, 0), which waits 1 ms, or ' +
        'setImmediate), a sleep whose promise is not awaited, or a back-off that starts at 0 or is reset to 0 on every try',
    },
  ],
};

export const suite: LabSuite<Lab2Impl> = {
  lab: 'lab2',
  title: 'Lab 2: a versioned key/value server and a lock',
  implFiles: IMPL_FILES,
  load,
  tests: monitored(MONITORS, [
    scored(reliablePut, { points: 4, part: 1 }),
    scored(putWrongVersion, { points: 4, part: 1 }),
    scored(strangeKeys, { points: 4, part: 1 }),
    scored(putConcurrent, { points: 5, part: 1 }),
    scored(memPutManyClients, { points: 5, part: 1, timeoutSec: 180 }),
    scored(modelKV, { points: 3, part: 1, timeoutSec: 60 }),
    scored(unreliableNet, { points: 5, part: 2 }),
    scored(resentPutResults, { points: 6, part: 2 }),
    scored(highDropRate, { points: 4, part: 2 }),
    scored(nemesisKV, { points: 6, part: 2 }),
    scored(reliableBasic, { points: 3, part: 3 }),
    scored(reliableNested, { points: 4, part: 3 }),
    scored(releaseNotHeld, { points: 4, part: 3 }),
    scored(locksShareClerk, { points: 3, part: 3 }),
    scored(lockWorkload('TestOneClientReliable', 1, true), { points: 3, part: 3 }),
    scored(lockWorkload('TestManyClientsReliable', 10, true), { points: 4, part: 3 }),
    scored(lockWorkload('TestOneClientUnreliable', 1, false), { points: 4, part: 3 }),
    scored(lockWorkload('TestManyClientsUnreliable', 10, false), { points: 4, part: 3 }),
    scored(lockLostReply, { points: 4, part: 3 }),
    scored(lockLostRequest, { points: 4, part: 3 }),
    scored(acquireTimeoutLostReply, { points: 4, part: 3 }),
    scored(acquireTimeoutUnreliable, { points: 4, part: 3 }),
    scored(nemesisLock, { points: 6, part: 3 }),
    scored(modelLock, { points: 3, part: 3, timeoutSec: 60 }),
  ]),
};
