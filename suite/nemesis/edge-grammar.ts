/**
 * The edges of keys and values that every lab's generators draw from (model-based tests with fast-check, generic
 * attackers with the world's Rng): keys a plain object already has, empty, numeric-looking, non-ASCII, huge; values
 * empty, huge, prototype-named, non-ASCII, and the one a key holds or held before.
 */
import { fc } from '../fast-check';
import type { Rng } from '../../world';
import { OBJECT_KEYS } from './values';

/** A 4 KiB key: keys are arbitrary strings, long ones too. */
const HUGE_KEY = 'k'.repeat(4096);

/** Keys at the edges: names a plain object already has, empty, numeric-looking, non-ASCII, a newline, huge, ordinary. */
export const GRAMMAR_KEYS: readonly string[] = [...OBJECT_KEYS, '', '0', '-1', '1e3', 'ключ 🔑', 'a\nb', HUGE_KEY, 'k'];

/** How a written value is drawn: fresh, or one at an edge (empty, huge, prototype-named, the one held, one held before). */
export type ValueKind = 'fresh' | 'empty' | 'huge' | 'proto' | 'non-ASCII' | 'held' | 'held before';

/** Every value kind, in a fixed order. */
export const VALUE_KIND_NAMES: readonly ValueKind[] = [
  'fresh',
  'empty',
  'huge',
  'proto',
  'non-ASCII',
  'held',
  'held before',
];

/** What the key's past holds, for the kinds that repeat a value: its value now and the values it held before. */
export interface KeyPast {
  readonly held: string | undefined;
  readonly before: readonly string[];
}

/**
 * The value of kind `kind`; `n` makes a fresh one unique and picks among the values held before. A kind that repeats
 * a value the key never held (no key yet, no past) gives the empty string, itself an edge.
 */
export function valueOf(kind: ValueKind, n: number, past: KeyPast, hugeBytes = 64 * 1024): string {
  switch (kind) {
    case 'fresh':
      return `v${n}`;
    case 'empty':
      return '';
    case 'huge':
      return `${n}`.padEnd(hugeBytes, 'x');
    case 'proto':
      return '__proto__';
    case 'non-ASCII':
      return `é${n}\u{1F600}\u0000`;
    case 'held':
      return past.held ?? '';
    case 'held before':
      return past.before.length > 0 ? past.before[n % past.before.length] : '';
  }
}

/** fast-check's draw of a key. */
export const keyArb = (): fc.Arbitrary<string> => fc.constantFrom(...GRAMMAR_KEYS);
/** fast-check's draw of a value kind. */
export const valueKindArb = (): fc.Arbitrary<ValueKind> => fc.constantFrom(...VALUE_KIND_NAMES);

/** The Rng's draw of a value kind for the attackers. */
export function drawValueKind(rng: Rng): ValueKind {
  return rng.pick(VALUE_KIND_NAMES);
}
