/**
 * Lab 2's versioned store as an executable specification (one node, one call at a time), written from lab 2's
 * handout: the model that lab 2's and lab 6's model-based tests (TestModelKV) run beside the student's code.
 */
import type { KeyPast } from './nemesis/edge-grammar';

/** What Get answers: the value and version, or ErrNoKey. */
export type StoreGet = { err: 'OK'; value: string; version: number } | { err: 'ErrNoKey' };

/** Whether a get's answer is the store's: the same error, and for OK the same value and version. */
export function sameGet(got: { err: string; value?: unknown; version?: unknown }, want: StoreGet): boolean {
  if (got.err !== want.err) return false;
  return want.err !== 'OK' || (got.value === want.value && got.version === want.version);
}

/** What the store answers a Put (a clerk's ErrMaybe is the tests' business, not the store's). */
export type StorePutErr = 'OK' | 'ErrNoKey' | 'ErrVersion';

/** Which of the handout's rules decided a put: the one for a missing key, or the version check of an existing one. */
export type PutRuleKind = 'missing' | 'version';

/** A put's answer, the handout's rule that gives it, and which kind of rule that is (each test words its causes). */
export interface StorePutAnswer {
  readonly err: StorePutErr;
  readonly rule: string;
  readonly kind: PutRuleKind;
}

/** One key of the model: its value, its version, and the values it held before. */
interface ModelEntry {
  value: string;
  version: number;
  before: string[];
}

/** The handout's versioned store, on one node: what Get and Put answer, and which rule decides it. */
export class KVModel {
  private readonly data = new Map<string, ModelEntry>();
  /** Numbers fresh values, so that each is unique. */
  n = 0;

  /** The key's version now (0 when it does not exist). */
  version(key: string): number {
    return this.data.get(key)?.version ?? 0;
  }

  /** What the key holds now and held before (for values that repeat one). */
  past(key: string): KeyPast {
    const e = this.data.get(key);
    return { held: e?.value, before: e?.before ?? [] };
  }

  /** Get(key): the value and version, or ErrNoKey. */
  get(key: string): StoreGet {
    const e = this.data.get(key);
    return e ? { err: 'OK', value: e.value, version: e.version } : { err: 'ErrNoKey' };
  }

  /** Put(key, value, version): the answer and the handout's rule that gives it; applies it when it is OK. */
  put(key: string, value: string, version: number): StorePutAnswer {
    const e = this.data.get(key);
    if (!e) {
      if (version !== 0)
        return {
          err: 'ErrNoKey',
          rule: 'the key does not exist and the version is not 0 (negative and fractional versions included)',
          kind: 'missing',
        };
      this.data.set(key, { value, version: 1, before: [] });
      return { err: 'OK', rule: 'version 0 creates a missing key, at version 1', kind: 'missing' };
    }
    if (e.version !== version)
      return {
        err: 'ErrVersion',
        rule: `the key exists at version ${e.version}, and any other number (behind, ahead, negative, fractional, huge) changes nothing`,
        kind: 'version',
      };
    e.before.push(e.value);
    e.value = value;
    e.version += 1;
    return {
      err: 'OK',
      rule: 'the key is at the version named: store the value (even the one it holds) and add 1',
      kind: 'version',
    };
  }
}
