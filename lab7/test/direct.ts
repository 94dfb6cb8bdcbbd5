/**
 * The tester's own RPCs straight to a group's servers: the check that every shard is served by exactly the group the
 * stored configuration names, late copies of a controller's RPCs, and reads that fill a group's log.
 */
import { TimeoutError } from '../../labrpc';
import type { ClientEnd } from '../../labrpc';
import { sleep, World } from '../../world';
import { showCommand } from '../../lab6/test/harness';
import type { GetReply } from '../rpc';
import { GID1, key2shard, NSHARDS, NUM_FIRST, type Gid, type ShardConfig } from '../shardcfg';
import { fail, keysCoveringShards, TESTER, type ShardTester } from './harness';

/** How long a group may take to answer one of the tester's gets (virtual ms). */
const ANSWER_MS = 10_000;
/** The pause after a round of a group's servers in which none led (virtual ms). */
const ROUND_PAUSE_MS = 100;

/** One key of each shard, by shard. */
function keyPerShard(): Map<number, string> {
  return new Map(keysCoveringShards().map((k) => [key2shard(k), k]));
}

/**
 * Sends `method` with `args` to the servers of group `gid` in turn, through the tester's own ends, until one that
 * leads answers (not ErrWrongLeader); undefined if none does in ANSWER_MS.
 */
export async function callGroup<R extends { err: string }>(
  ts: ShardTester,
  gid: Gid,
  method: string,
  args: object,
): Promise<R | undefined> {
  const makeEnd = ts.makeEnd(TESTER);
  return askLeader<R>(
    ts.servers(gid).map((name) => makeEnd(name)),
    method,
    args,
  );
}

/** Asks the servers of a group in turn until one that leads answers; undefined if none in ANSWER_MS. */
async function askLeader<R extends { err: string }>(
  ends: readonly ClientEnd[],
  method: string,
  args: object,
): Promise<R | undefined> {
  const world = World.current();
  const t0 = world.now();
  while (world.now() - t0 < ANSWER_MS) {
    for (const end of ends) {
      try {
        const r = await end.call<R>(method, args);
        if (r.err !== 'ErrWrongLeader') return r;
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
      }
    }
    await sleep(ROUND_PAUSE_MS);
  }
  return undefined;
}

/**
 * Fails unless, for every shard, the group that `cfg` says owns it serves it (a get of one of its keys is not
 * answered ErrWrongGroup) and every other group with a majority of its servers running answers ErrWrongGroup. `when`
 * says when, for the message. The gets go straight to the groups' servers, outside any clerk's history.
 */
export async function checkOwnership(ts: ShardTester, cfg: ShardConfig, when: string): Promise<void> {
  const keys = keyPerShard();
  const makeEnd = ts.makeEnd(TESTER);
  for (const [gid, group] of ts.groups) {
    const size = ts.size(gid);
    const running = Array.from({ length: size }, (_, i) => group.isRunning(i)).filter(Boolean).length;
    if (2 * running <= size) continue;
    const ends = ts.servers(gid).map((name) => makeEnd(name));
    for (let s = 0; s < NSHARDS; s++) {
      const key = keys.get(s) as string;
      const r = await askLeader<GetReply>(ends, 'KVServer.Get', { key });
      if (r === undefined)
        fail(
          `${when}, no server of group ${gid} (${running} of ${size} running, the network reliable) answered ` +
            `a get of ${showCommand(key)} within ${ANSWER_MS / 1000} s. Expected a group with a majority running to ` +
            'elect a leader and answer. Likely causes: the RSM or Raft stuck after restarts (npm run grade lab6).',
        );
      judge(gid, s, key, r, cfg, when);
    }
  }
}

/** Fails when group `gid`'s answer `r` to a get of `key` (shard `s`) is not what owner or not-owner must say. */
function judge(gid: Gid, s: number, key: string, r: GetReply, cfg: ShardConfig, when: string): void {
  const owner = cfg.shards[s];
  const serves = r.err !== 'ErrWrongGroup';
  if (serves === (owner === gid)) return;
  if (serves)
    fail(
      `${when}, group ${gid} answered a get of ${showCommand(key)} (shard ${s}) with ${showCommand(r)}, but the ` +
        `stored configuration ${cfg.num} says group ${owner} owns shard ${s}. Expected every group but the owner to ` +
        'answer ErrWrongGroup: a shard served by two groups loses writes. Likely causes: a frozen or deleted shard ' +
        'still served (decide ErrWrongGroup in doOp from the shard’s state), an InstallShard of an older ' +
        'configuration applied after a newer move of the shard (refuse a number below the one the shard has seen), ' +
        'shard states lost across a restart (snapshot and restore every shard’s status and number), or two ' +
        'controllers that both moved the shard for one configuration number (an ErrMaybe answer to a claim taken ' +
        'as a win: read the key again).',
    );
  fail(
    `${when}, group ${gid} answered a get of ${showCommand(key)} (shard ${s}) with ErrWrongGroup, but the stored ` +
      `configuration ${cfg.num} says group ${gid} owns shard ${s}. Expected the owner to serve it once a configuration ` +
      'naming it is stored. Likely causes: a Get or Put handler that answers ErrWrongGroup without looking at the ' +
      `shard's state (group ${GID1} starts out serving every shard at configuration ${NUM_FIRST}); the configuration ` +
      'stored before every move finished; a change a failed or cut-off controller left unfinished and ' +
      'initController did not finish; or an InstallShard refused or lost.',
  );
}

/** Characters of the key of the reads that fill a group's log, and how many: past maxRaftState several times. */
const FILLER_KEY_BYTES = 300;
const FILLER_READS = 12;

/**
 * Reads sent straight to group `gid` (of keys it may not serve: each goes through its log all the same), so that
 * with snapshots its servers take one now, with every shard operation before them in it.
 */
export async function snapshotNow(ts: ShardTester, gid: Gid): Promise<void> {
  for (let i = 0; i < FILLER_READS; i++)
    await callGroup<GetReply>(ts, gid, 'KVServer.Get', { key: `${i}`.padEnd(FILLER_KEY_BYTES, '-') });
}
