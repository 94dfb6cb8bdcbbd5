// The attacker's fsync-policy check: each round starts a quiet server of its own with one policy ('always', 'no', or none given: 'everysec') and judges the fsyncs it sees against what the handout says that policy promises.
import { keyedRng, Rng } from '../../world/rng';
import type { FsyncPolicy } from '../types';
import { word } from './common';
import { checkAlways, checkEverysec, checkNo, closeWithPowerCut, randomWrites, watchPowerCuts } from './fsync-checks';
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
