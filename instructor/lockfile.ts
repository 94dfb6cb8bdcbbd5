/** Cuts an npm lockfile (v2/v3) down to the packages a package.json still reaches, so a template's `npm ci` agrees with it. */

/** One entry of a lockfile's `packages` map (only the fields the walk reads). */
interface LockPackage {
  dependencies?: Record<string, string>; // runtime dependencies, name → range
  devDependencies?: Record<string, string>; // only read on the root entry
  optionalDependencies?: Record<string, string>; // installed when the platform allows
  peerDependencies?: Record<string, string>; // npm 7+ installs peers too
  [field: string]: unknown;
}

/** The parts of package-lock.json this module reads and writes. */
export interface Lockfile {
  lockfileVersion: number; // 2 or 3: the versions with a `packages` map
  packages: Record<string, LockPackage>; // "" is the root; others are node_modules paths
  [field: string]: unknown;
}

/** The folder a dependency `name` required from `from` resolves to, as Node resolves it, or undefined. */
function resolveIn(packages: Record<string, LockPackage>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (candidate in packages) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('node_modules/');
    dir = cut <= 0 ? '' : dir.slice(0, cut - 1);
  }
}

/**
 * The lockfile for `pkg` (the package.json that will ship): the root entry's dependency lists replaced by
 * pkg's, and every package no longer reachable from them removed. Throws when the lockfile has no
 * `packages` map (lockfile v1), which this walk cannot read.
 */
export function pruneLockfile(lock: Lockfile, pkg: Record<string, unknown>): Lockfile {
  if (lock.lockfileVersion < 2 || typeof lock.packages !== 'object') {
    throw new Error(
      `package-lock.json is lockfile version ${String(lock.lockfileVersion)}; run npm install with npm 7 or later to upgrade it.`,
    );
  }
  const root: LockPackage = { ...lock.packages[''] };
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const) {
    const wanted = pkg[field] as Record<string, string> | undefined;
    if (wanted === undefined || Object.keys(wanted).length === 0) delete root[field];
    else root[field] = { ...wanted };
  }
  const packages: Record<string, LockPackage> = { ...lock.packages, '': root };
  const reached = new Set<string>(['']);
  const queue = [''];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    const entry = packages[at];
    const names = [
      entry.dependencies,
      entry.optionalDependencies,
      entry.peerDependencies,
      at === '' ? entry.devDependencies : undefined,
    ].flatMap((deps) => Object.keys(deps ?? {}));
    for (const name of names) {
      const found = resolveIn(packages, at, name);
      if (found !== undefined && !reached.has(found)) {
        reached.add(found);
        queue.push(found);
      }
    }
  }
  const kept = Object.fromEntries(Object.entries(packages).filter(([key]) => reached.has(key)));
  return { ...lock, packages: kept };
}
