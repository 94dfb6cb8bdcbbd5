/** In the host: turns what the code under test returns or throws into plain data for the wire (host-protocol.ts). */
import type { Plain, WireError } from './host-protocol';

/** Nesting deeper than this is cut (a value of lab 5 is a reply, an address or INFO's statistics). */
const MAX_DEPTH = 32;

/** A RespError (from lab5/resp.ts) by its shape, whichever module instance made it. */
function isRespError(v: object): v is { message: string } {
  return (v as { constructor?: { name?: unknown } }).constructor?.name === 'RespError';
}

/** `v` as plain data: RespError replies marked, errors as name and message, functions and undefined left out. */
export function toPlain(v: unknown, depth = 0): Plain | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object' || depth > MAX_DEPTH) return undefined;
  if (isRespError(v)) return { $respError: String(v.message) };
  if (Array.isArray(v)) return v.map((x) => toPlain(x, depth + 1) ?? null);
  if (v instanceof Error || typeof (v as { stack?: unknown }).stack === 'string')
    return { name: String((v as Error).name), message: String((v as Error).message) };
  const out: { [key: string]: Plain } = {};
  for (const key of Object.keys(v)) {
    const p = toPlain((v as Record<string, unknown>)[key], depth + 1);
    if (p !== undefined) out[key] = p;
  }
  return out;
}

/** A thrown value as it crosses: an error's name, message, stack and plain own fields; anything else as text. */
export function toWireError(e: unknown): WireError {
  if (typeof e !== 'object' || e === null || typeof (e as { message?: unknown }).message !== 'string')
    return { name: 'Error', message: `non-Error value thrown: ${String(e)}`, stack: '', fields: {} };
  const err = e as Error & Record<string, unknown>;
  const fields: { [key: string]: Plain } = {};
  for (const key of Object.keys(err)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    const p = toPlain(err[key], 1);
    if (p !== undefined) fields[key] = p;
  }
  return { name: String(err.name), message: err.message, stack: String(err.stack ?? ''), fields };
}
