/** The kit's files that a set of entry files reach through relative imports (require, import, import()). */
import fs from 'node:fs';
import path from 'node:path';

/** A relative module specifier in `import … from`, `export … from`, `require(…)`, `import(…)` or `require.resolve(…)`. */
const SPECIFIER = /(?:\bfrom\s*|\brequire(?:\.resolve)?\s*\(\s*|\bimport\s*\(\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\1/g;

/** What Node (with ts-node) tries for a relative specifier, in order. */
const CANDIDATES = ['', '.ts', '.js', '.json', '/index.ts', '/index.js'];

/** The file a relative specifier names from `fromFile` (absolute), or undefined when none exists. */
export function resolveRelative(fromFile: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const suffix of CANDIDATES) {
    const file = base + suffix;
    if (fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true) return file;
  }
  return undefined;
}

/** Every file reachable from `entries` (absolute paths) by relative imports, the entries included; packages are not followed. */
export function importClosure(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.(ts|js|cjs|mjs)$/.test(file)) continue;
    for (const m of fs.readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const target = resolveRelative(file, m[2]);
      if (target !== undefined && !seen.has(target)) queue.push(target);
    }
  }
  return seen;
}
