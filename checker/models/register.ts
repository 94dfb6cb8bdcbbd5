/**
 * A single register with read, write and compare-and-set (the etcd data set). Before any write it holds
 * nothing, and a read returns `null`.
 */
import { hashNumber, hashString } from '../hash';
import type { Model } from '../types';

/** What a register holds. */
export type RegisterValue = number | string;

/** One register request. */
export type RegisterInput =
  { op: 'read' } | { op: 'write'; value: RegisterValue } | { op: 'cas'; from: RegisterValue; to: RegisterValue };

/** The reply: read sets `value` (null = never written), cas sets `ok`, write sets nothing. */
export interface RegisterOutput {
  value?: RegisterValue | null;
  ok?: boolean;
}

/** The register's content; null before the first write. */
export type RegisterState = RegisterValue | null;

/** Text for a register value. */
function show(v: RegisterValue | null | undefined): string {
  if (v === null) return 'nil';
  if (v === undefined) return '?';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The register model. */
export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  name: 'register',
  init: () => null,
  step(state, input, output) {
    switch (input.op) {
      case 'read':
        return output === undefined || output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const matches = state === input.from;
        if (output === undefined) return matches ? input.to : state;
        if (output.ok === true) return matches ? input.to : undefined;
        if (output.ok === false) return matches ? undefined : state;
        return undefined;
      }
    }
  },
  // A read, or a cas that reports it failed, never changes the register.
  readOnly: (input, output) => input.op === 'read' || (input.op === 'cas' && output?.ok === false),
  hash: (s) => (s === null ? 0x5bd1e995 : typeof s === 'number' ? hashNumber(s) : hashString(s)),
  describeOperation(input, output) {
    switch (input.op) {
      case 'read':
        return `read() → ${output === undefined ? '?' : show(output.value)}`;
      case 'write':
        return `write(${show(input.value)})`;
      case 'cas': {
        const res = output === undefined || output.ok === undefined ? '?' : output.ok ? 'ok' : 'fail';
        return `cas(${show(input.from)} → ${show(input.to)}) → ${res}`;
      }
    }
  },
  describeState: (s) => show(s),
};
