// The attacker's fsync-policy check: each round starts a quiet server of its own with one policy ('always', 'no', or none given: 'everysec') and judges the fsyncs it sees against what the handout says that policy promises.
import { keyedRng, Rng } from '../../world/rng';
import type { FsyncPolicy } from '../types';
import { word } from './common';
import { checkAlways, checkEverysec, checkNo, closeWithPowerCut, watchPowerCuts, type Write } from './fsync-checks';
import { Resources } from './harness';

/** The policy a round checks: over three rounds, each of 'always', the default ('everysec') and 'no' once, in an order drawn from the seed. */
export function policyOfRound(seed: number, round: number): FsyncPolicy | undefined {
  const order: Array<FsyncPolicy | undefined> = ['always', undefined, 'no'];
  const rng = keyedRng(seed, 'lab5-nemesis-policies');
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order[round % order.length];
}

/**
 * Random writes that each change the store (so each must reach the log): SET with and without a TTL, INCR, EXPIRE and
 * PEXPIRE of a live key, DEL of a live key, FLUSHDB; with the reply each must get.
 */
function randomWrites(rng: Rng, n: number): Write[] {
  const live = new Set<string>();
  let counter: number | undefined;
  const writes: Write[] = [];
  while (writes.length < n) {
    const key = `pol:${rng.int(6)}`;
    const r = rng.int(10);
    const some = [...live][rng.int(Math.max(1, live.size))];
    if (r < 3) {
      writes.push([['SET', key, word(rng, rng.between(1, 40)), ...(rng.chance(0.3) ? ['PX', '60000'] : [])], 'OK']);
      live.add(key);
    } else if (r < 5 && (counter !== undefined || !live.has('pol:n'))) {
      counter = (counter ?? 0) + 1;
      live.add('pol:n');
      writes.push([['INCR', 'pol:n'], counter]);
    } else if (r < 7 && some !== undefined) {
      writes.push([rng.chance(0.5) ? ['EXPIRE', some, 100] : ['PEXPIRE', some, 100_000], 1]);
    } else if (r < 9 && some !== undefined) {
      writes.push([['DEL', some], 1]);
      live.delete(some);
      if (some === 'pol:n') counter = undefined;
    } else if (live.size > 0) {
      writes.push([['FLUSHDB'], 'OK']);
      live.clear();
      counter = undefined;
    }
  }
  return writes;
}

/** Starts a quiet server (no snapshot or sweep due) with `policy` and checks its fsyncs; returns a summary for the log. */
export async function checkPolicyRound(
  res: Resources,
  policy: FsyncPolicy | undefined,
  rng: Rng,
  where: string,
): Promise<string> {
  const dataDir = res.tempDir();
  const quiet = { snapshotIntervalMs: 60_000, sweepIntervalMs: 60_000 };
  const server = await res.server(policy === undefined ? { dataDir, ...quiet } : { dataDir, fsync: policy, ...quiet });
  const watch = await res.watchSyncs(dataDir, server.port);
  // Under 'everysec' and 'no', a power cut during close()'s snapshot (each file keeps only what was fsynced).
  const disk = policy === 'always' ? undefined : await watchPowerCuts(res, dataDir);
  const c = await res.connect(server.port);
  const label = policy === undefined ? "fsync not given (the default, 'everysec')" : `fsync '${policy}'`;
  const at = `${where}, its fsync check (a server of its own, ${label}, no snapshot due): `;
  let summary: string;
  if (policy === 'always') {
    const writes = randomWrites(rng, rng.between(8, 16));
    const batch = Array.from({ length: rng.between(5, 20) }, (_, i) => ['SET', `batch:${i}`, word(rng, 10)]);
    await checkAlways(c, watch, writes, batch, at);
    summary = `${(await watch.report()).syncs.length} fsync(s) for ${writes.length + batch.length} acknowledged writes`;
  } else if (policy === 'no') {
    const writes = randomWrites(rng, 20);
    summary = `${await checkNo(c, watch, writes, at)} fsync(s) for ${writes.length} writes`;
  } else {
    const value = word(rng, rng.between(5, 60));
    summary = await checkEverysec(
      c,
      watch,
      (i) => ['SET', `burst:${i % 50}`, `${i}:${value}`],
      policy === undefined,
      at,
    );
  }
  c.close();
  if (disk === undefined) await server.close();
  else summary += `; ${await closeWithPowerCut(res, server, disk, policy, at)}`;
  return `${label}: ${summary}`;
}
