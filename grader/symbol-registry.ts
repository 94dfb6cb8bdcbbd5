/** Closes the realm's global symbol registry (`Symbol.for`) to the code under test: a strong table it could hide memory in. */

/** The keys fast-check registers (`instructor/test/grader/symbol-registry.test.ts` reads them from the package). */
export const FAST_CHECK_KEYS: readonly string[] = [
  'fast-check/PreconditionFailure',
  'fast-check/asyncToStringMethod',
  'fast-check/cloneMethod',
  'fast-check/plugin/life-cycle',
  'fast-check/toStringMethod',
];

/**
 * Keys node and the kit's packages look up again while the code runs, registered before it loads or not: node's
 * inspect and promisify hooks, the explicit-resource-management symbols TypeScript's helpers fall back to, and
 * fast-check's (so that the model-based tests' package may load at its first use, after the code under test).
 */
export const ALWAYS_KEPT: readonly string[] = [
  'nodejs.util.inspect.custom',
  'nodejs.util.promisify.custom',
  'nodejs.rejection',
  'Symbol.dispose',
  'Symbol.asyncDispose',
  'Symbol.metadata',
  ...FAST_CHECK_KEYS,
];

/** The keys that `Symbol.for` still answers once sealed: those above, and every key registered through it before. */
const known = new Set<string>(ALWAYS_KEPT);
/** Whether the code under test may have started: from then on, no new key is registered. */
let sealed = false;
/** Whether `Symbol.for` is already this module's. */
let guarded = false;

/** How a refused key reads in the message (a key can be any length). */
function shown(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}...` : key);
}

/** The error the code under test gets for a key that was not registered before it loaded. */
function refusal(key: string): TypeError {
  return new TypeError(
    `Symbol.for(${shown(key)}) is not available to lab code. The global symbol registry is one table for the whole ` +
      'test process, shared by every server and clerk the tests make, and it never frees what it holds, so the ' +
      'memory tests could not count what your code keeps there. Use Symbol(' +
      shown(key) +
      ') for a symbol of your own, and a Map or an object for a table.',
  );
}

/**
 * Puts this module's `Symbol.for` in place of the realm's (before lockdown freezes `Symbol`): it registers keys as
 * before until `sealSymbolRegistry()`, and from then on answers only keys it knows. Node's internals keep their own
 * reference to the original and are not affected.
 */
export function guardSymbolRegistry(): void {
  if (guarded) return;
  guarded = true;
  const registered = Symbol.for;
  const methods = {
    for(key: unknown): symbol {
      const name = String(key);
      if (sealed && !known.has(name)) throw refusal(name);
      known.add(name);
      return registered(name);
    },
  };
  Object.defineProperty(Symbol, 'for', { value: methods.for, writable: true, enumerable: false, configurable: true });
}

/** Closes the registry to new keys: called before the first module of the code under test is evaluated. */
export function sealSymbolRegistry(): void {
  sealed = true;
}
