/**
 * The kit's reachability walk: from what the code under test can touch, every object reachable (own properties,
 * accessors' functions, prototypes) must be frozen and none may be the harness's (world/brand.ts).
 */
import { isHarnessObject } from '../../../world/brand';

/** One object the walk found that the code under test must not reach. */
export interface Finding {
  /** How it was reached, from a root: `globals.Date.prototype`, `handed#3.__proto__`. */
  readonly path: string;
  readonly problem: 'harness object' | 'not frozen';
}

/** Where the walk starts. */
export interface Root {
  readonly name: string;
  readonly value: unknown;
  /**
   * True for a value that is the code's own (a copy the harness made for it, a call's fresh result): it, and the
   * plain data inside it, may change.
   */
  readonly ownCopy?: boolean;
}

/** The walk's outcome. */
export interface Walked {
  readonly findings: readonly Finding[];
  /** How many distinct objects were visited. */
  readonly objects: number;
}

/** What a walk step reaches from `o`: its prototype and every own property's value, getter and setter. */
function edges(o: object): Array<[unknown, string]> {
  const out: Array<[unknown, string]> = [[Object.getPrototypeOf(o), '__proto__']];
  for (const key of Reflect.ownKeys(o)) {
    const d = Reflect.getOwnPropertyDescriptor(o, key);
    const name = typeof key === 'symbol' ? `[${key.description ?? ''}]` : key;
    if (!d) continue;
    if ('value' in d) out.push([d.value, name]);
    if (d.get) out.push([d.get, `get ${name}`]);
    if (d.set) out.push([d.set, `set ${name}`]);
  }
  return out;
}

/** True for arrays, typed arrays, maps, sets and objects whose prototype is Object.prototype or null (data, not an object with behaviour). */
function isPlain(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (
    Array.isArray(v) ||
    ArrayBuffer.isView(v) ||
    v instanceof Map ||
    v instanceof Set ||
    proto === Object.prototype ||
    proto === null
  );
}

/** Walks breadth first (so each finding's path is a shortest one) from `roots`. */
export function walk(roots: readonly Root[]): Walked {
  const own = new WeakSet<object>();
  for (const r of roots) if (r.ownCopy && typeof r.value === 'object' && r.value !== null) own.add(r.value);
  const seen = new WeakSet<object>();
  const findings: Finding[] = [];
  let objects = 0;
  const queue: Array<[unknown, string]> = roots.map((r) => [r.value, r.name]);
  for (let i = 0; i < queue.length; i++) {
    const [v, at] = queue[i];
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) continue;
    if (seen.has(v)) continue;
    seen.add(v);
    objects++;
    if (isHarnessObject(v)) {
      findings.push({ path: at, problem: 'harness object' });
      continue;
    }
    if (!Object.isFrozen(v) && !own.has(v)) findings.push({ path: at, problem: 'not frozen' });
    for (const [next, name] of edges(v)) {
      // The plain data inside a value of the code's own is its own too (a copy is copied all the way down).
      if (own.has(v) && name !== '__proto__' && isPlain(next)) own.add(next);
      queue.push([next, `${at}.${name}`]);
    }
  }
  return { findings, objects };
}
