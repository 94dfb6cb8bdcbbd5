/**
 * Batch grading's network isolation: each submission's grader runs in a network namespace of its own (Linux, where
 * `unshare --net` works: as root, or with a user namespace), with only its own loopback, so no classmate's server
 * is reachable from it; elsewhere the grader's port guard (grader/net-guard.ts) is what keeps classmates apart.
 */
import { spawnSync } from 'node:child_process';

/** How a batch keeps submissions' networks apart. */
export interface NetworkIsolation {
  /** 'namespace': a network namespace per submission; 'port-guard': the grader's port guard alone. */
  readonly kind: 'namespace' | 'port-guard';
  /** The command line put before the grader's (empty for 'port-guard'). */
  readonly prefix: readonly string[];
  /** For the batch's log: what was chosen and why. */
  readonly why: string;
}

/** Ways to enter a new network namespace, tried in order: as root, then as a user mapped to root in a user namespace. */
const UNSHARE = [
  ['unshare', '--net'],
  ['unshare', '--net', '--map-root-user'],
] as const;

/** Brings the namespace's loopback up, then runs the command that follows. */
const LOOPBACK_UP = ['sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

/** Finds out once whether this machine can give each submission a network namespace (and loopback in it). */
export function probeNetworkIsolation(): NetworkIsolation {
  if (process.platform !== 'linux')
    return { kind: 'port-guard', prefix: [], why: `no network namespaces on ${process.platform}` };
  let last = '';
  for (const how of UNSHARE) {
    const r = spawnSync(how[0], [...how.slice(1), ...LOOPBACK_UP, 'true'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0)
      return {
        kind: 'namespace',
        prefix: [...how, ...LOOPBACK_UP],
        why: `each submission in its own (${how.join(' ')})`,
      };
    last = (r.error?.message ?? r.stderr ?? '').trim().split('\n')[0] ?? '';
  }
  return { kind: 'port-guard', prefix: [], why: `unshare --net does not work here (${last || 'refused'})` };
}

/** `cmd args` as run under `isolation`: the command and its arguments. */
export function isolatedCommand(isolation: NetworkIsolation, cmd: string, args: readonly string[]): [string, string[]] {
  const [first, ...rest] = isolation.prefix;
  return first === undefined ? [cmd, [...args]] : [first, [...rest, cmd, ...args]];
}
