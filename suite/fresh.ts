/**
 * A private copy of the student's modules for memory tests. A module's top-level variables (a `Map` declared
 * outside any class, say) live as long as the module, and the suite's own copy lives for the whole run; so a
 * memory test builds its servers from a fresh copy that nothing else holds, and what they keep at the top level
 * is freed — and measured — with them.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

/**
 * Runs `load` with a `require` that gives every module under `folder` (the student's files) an instance of its
 * own, shared by the files `load` requires; modules elsewhere (labrpc, tester) stay shared with the suite. The
 * copies are not left in Node's module cache: only what `load` returns holds them.
 */
export function requireFresh<T>(folder: string, load: (freshRequire: NodeJS.Require) => T): T {
  const inside = (id: string): boolean => id.startsWith(path.resolve(folder) + path.sep);
  const cache = require.cache;
  const shared = Object.keys(cache).filter(inside);
  const saved = shared.map((id) => [id, cache[id]] as const);
  for (const id of shared) delete cache[id];
  try {
    // A throw-away parent module: `require` records each loaded module among its parent's children.
    return load(createRequire(path.join(folder, '__fresh__.js')));
  } finally {
    for (const id of Object.keys(cache).filter(inside)) delete cache[id];
    for (const [id, mod] of saved) cache[id] = mod;
  }
}
