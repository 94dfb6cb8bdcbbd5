/** Lab 7's workloads and checks: keys written and read back, and clerks racing on many keys while shards move. */
import { within } from '../../suite';
import { keyedRng, sleep } from '../../world';
import type { Version } from '../../lab6/kvapi';
import { showCommand } from '../../lab6/test/harness';
import type { RecordingClerk } from '../../lab6/test/kvharness';
import { EARLIER_LABS, fail, ShardTester } from './harness';

/** What the tester last wrote to each key: value and version. */
export type Written = Map<string, { value: string; version: Version }>;

/** Characters every value putAll writes carries: separators and quotes a shard's encoding must keep (JSON does). */
const SEPARATORS = ',;|:=\t\n"\'\\[]{}';

/** Puts a fresh value to every key of `keys` (at its next version) and remembers it in `written`. */
export async function putAll(
  ck: RecordingClerk,
  keys: readonly string[],
  written: Written,
  tag: string,
  size = 0,
): Promise<void> {
  for (const key of keys) {
    const version = written.get(key)?.version ?? 0;
    // Characters a hand-made shard encoding might split on: a value must cross a move as it was written. A large
    // value is random after them, so that no server keeps a copy of it in less than its size by noticing a pattern.
    const head = `${tag}-${key}${SEPARATORS}`;
    const value = size > head.length ? head + keyedRng(0, `${tag}/${key}`).text(size - head.length) : head;
    const err = await ck.put(key, value, version);
    // With nobody else writing, ErrMaybe (a re-sent put answered ErrVersion) means an earlier copy took effect.
    if (err !== 'OK' && err !== 'ErrMaybe')
      fail(
        `put(${showCommand(key)}, version ${version}) returned ${err} with nobody else writing; expected OK (or ` +
          'ErrMaybe after a lost reply). Likely ' +
          'causes: the put reached a group that does not own the key (ErrWrongGroup must make the clerk read the ' +
          'configuration again); a group restarted from its snapshot serving shards it had given away (each ' +
          'shard’s status lost in the snapshot); a shard installed without its keys or versions; a shard deleted at ' +
          'its old owner before it was installed at the new one (a controller that fails between the two loses the ' +
          'keys); or a put applied twice. ' +
          EARLIER_LABS,
      );
    written.set(key, { value, version: version + 1 });
  }
}

/** Reads every key of `keys` back and fails unless it holds what `written` says. */
export async function checkAll(
  ck: RecordingClerk,
  keys: readonly string[],
  written: Written,
  when: string,
): Promise<void> {
  for (const key of keys) {
    const want = written.get(key);
    const r = await ck.get(key);
    const ok =
      want === undefined
        ? r.err === 'ErrNoKey'
        : r.err === 'OK' && r.value === want.value && r.version === want.version;
    if (!ok)
      fail(
        `${when}, get(${showCommand(key)}) returned ${showCommand(r)}; expected ${want ? `value ${showCommand(want.value)} at version ${want.version}` : 'ErrNoKey'}. ` +
          'Likely causes: a shard moved without its keys (FreezeShard must return them and InstallShard restore ' +
          'them, versions included); a shard served by a group that froze it; an InstallShard repeated at the ' +
          'number the shard is already served at that installs its state again over the writes made since; a shard ' +
          'deleted at its old owner before it was installed at the new one; or data lost across a restart (shard ' +
          'state kept outside the RSM’s state machine or its snapshot). ' +
          EARLIER_LABS,
      );
  }
}

/** Fails unless `op` ends within `ms` virtual milliseconds. */
export function promptly<T>(op: Promise<T>, ms: number, what: string): Promise<T> {
  return within(
    op,
    ms,
    () =>
      `${what} did not finish within ${ms / 1000} s. Expected operations on shards that are not moving, and that a ` +
      'running group owns, to go on. Likely causes: a server that stops serving every shard while one moves; a ' +
      'controller or clerk that waits on a group that is down; a shard frozen that the new configuration does not ' +
      'move; or initController storing the next configuration a failed controller left without doing its moves ' +
      '(the shards it froze stay frozen, served by nobody).',
  );
}

/** Keys the concurrent clerks write (MIT's concurrent-clerk tests). */
const WORKLOAD_KEYS = 20;

/**
 * Clerks that, until told to stop, read a random key of `keys` and put their own value at the version they read
 * (ErrVersion and ErrMaybe are fine: another clerk may have written first). Returns how many operations they made.
 */
export function runClerks(
  ts: ShardTester,
  clerks: readonly RecordingClerk[],
  stop: () => boolean,
  keys: readonly string[] = Array.from({ length: WORKLOAD_KEYS }, (_, i) => `w${i}`),
): Promise<number> {
  return ts.background(
    Promise.all(
      clerks.map(async (ck, me) => {
        let ops = 0;
        while (!stop()) {
          const key = keys[Math.floor(Math.random() * keys.length)];
          const r = await ck.get(key);
          const version = r.err === 'OK' ? r.version : 0;
          const err = await ck.put(key, `c${me}-${ops}`, version);
          if (err !== 'OK' && err !== 'ErrVersion' && err !== 'ErrMaybe')
            fail(
              `clerk ${me}'s put(${showCommand(key)}, version ${version}) returned ${err}; expected OK, ErrVersion or ErrMaybe.`,
            );
          ops += 2;
          await sleep(Math.floor(Math.random() * 20));
        }
        return ops;
      }),
    ).then((counts) => counts.reduce((a, b) => a + b, 0)),
  );
}
