// The attacker's damaged logs: a record in the middle of a crash copy's appendonly.aof damaged or replaced by hand; the server must refuse to start and leave the file alone.
import fs from 'node:fs';
import * as path from 'node:path';
import { encodeCommand, ProtocolError, RequestParser } from '../resp';
import { TestFailure, isTestFailure, check } from '../../suite';
import { Rng } from '../../world/rng';
import type { ServerOptions } from '../types';
import { Resources } from './harness';

/** A complete record of the log: where it starts and ends, its words, and whether it lies inside a MULTI ... EXEC. */
export interface LogRecord {
  readonly start: number;
  readonly end: number;
  readonly words: readonly string[];
  readonly inTransaction: boolean;
}

/** The complete records of a log (the handout fixes its format: RESP commands), up to a torn tail or damage. */
export function logRecords(log: Buffer): LogRecord[] {
  const parser = new RequestParser();
  parser.push(log);
  const out: LogRecord[] = [];
  let at = 0;
  let open = false;
  for (;;) {
    let words: string[] | undefined;
    try {
      words = parser.next();
    } catch (e) {
      if (e instanceof ProtocolError) return out;
      throw e;
    }
    if (words === undefined) return out;
    const end = log.length - parser.bufferedBytes;
    const name = words[0].toUpperCase();
    if (name === 'MULTI') open = true;
    out.push({ start: at, end, words, inTransaction: open || name === 'EXEC' });
    if (name === 'EXEC') open = false;
    at = end;
  }
}

/** One way to damage a record: what it did, and the log it leaves. */
interface Damage {
  readonly what: string;
  readonly log: Buffer;
}

/**
 * Damages to the record `r` of `log`, each corruption by the handout's definition: bytes the parser refuses, or a
 * well-formed command that is not a record the log writes with its arity, or a MULTI or EXEC out of place.
 */
function damages(log: Buffer, r: LogRecord, rng: Rng): Damage[] {
  const key = r.words[1] ?? 'k';
  const replaced = (words: string[]): Damage => ({
    what: `replaced by hand with ${JSON.stringify(words.join(' ').slice(0, 60))} (well-formed RESP, but not a record the log writes, with its arity)`,
    log: Buffer.concat([
      log.subarray(0, r.start),
      encodeCommand(words.map((w) => Buffer.from(w, 'latin1'))),
      log.subarray(r.end),
    ]),
  });
  const withByte = (at: number, byte: number, what: string): Damage => {
    const damaged = Buffer.from(log);
    damaged[at] = byte;
    return { what, log: damaged };
  };
  const dollar = log.indexOf('$', r.start);
  const out: Damage[] = [
    withByte(r.start, 0x23, `its first byte ('*') replaced by '#'`),
    withByte(dollar, 0x25, `the '$' of its first bulk header replaced by '%'`),
    withByte(dollar + 1, 0x31 + (log[dollar + 1] === 0x31 ? 1 : 0), 'the length of its first word changed'),
    replaced(
      rng.pick([
        ['SET', key],
        ['SET', key, 'v', 'PXAT'],
        ['SET', key, 'v', 'EX', '100'],
      ]),
    ),
    replaced(rng.pick([['DEL'], ['DEL', key, `${key}2`], ['FLUSHALL', 'x'], ['FLUSHAL']])),
    replaced(
      rng.pick([
        ['INCR', key],
        ['EXPIRE', key, '100'],
        ['GET', key],
      ]),
    ),
  ];
  // A transaction's markers out of place: an EXEC with no MULTI before it, a MULTI inside a transaction.
  if (!r.inTransaction) out.push(replaced(['EXEC']));
  else if (r.words[0].toUpperCase() !== 'MULTI') out.push(replaced(['MULTI']));
  return out;
}

/**
 * Damages the record about halfway through the log of the copy `dir` in several ways, each on a copy of its own, and
 * fails unless the server refuses to start on each, naming appendonly.aof, and leaves the file as it was. Returns how
 * many damages were tried (0: the log held too few complete records to damage one in the middle).
 */
export async function checkDamagedLogs(
  res: Resources,
  dir: string,
  options: ServerOptions,
  rng: Rng,
  what: string,
): Promise<number> {
  const file = path.join(dir, 'appendonly.aof');
  if (!fs.existsSync(file)) return 0;
  const log = fs.readFileSync(file);
  const records = logRecords(log);
  if (records.length < 4) return 0;
  const r = records[rng.between(Math.floor(records.length / 4), Math.floor((3 * records.length) / 4) - 1)];
  const all = damages(log, r, rng);
  for (const d of all) {
    const copy = res.tempDir();
    for (const name of fs.readdirSync(dir)) {
      const from = path.join(dir, name);
      if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(copy, name));
    }
    const damaged = path.join(copy, 'appendonly.aof');
    fs.writeFileSync(damaged, d.log);
    const where = `${what}, with the log's record at byte ${r.start} of ${log.length} (record ${records.indexOf(r) + 1} of ${records.length} complete ones) ${d.what}`;
    let refusal: Error | undefined;
    try {
      const s = await res.server({ ...options, dataDir: copy });
      await s.close();
    } catch (e) {
      if (isTestFailure(e)) throw e; // it hung
      refusal = e instanceof Error ? e : new Error(String(e));
    }
    if (refusal === undefined)
      throw new TestFailure(
        `${where}: the server started anyway. A record that cannot be read, or is not a command your log writes (SET key value, SET key value PXAT ms, DEL key, FLUSHALL, MULTI and EXEC around a transaction), ` +
          'in the MIDDLE of the log is corruption, not a crash: startServer must reject with an error naming the file and the byte where the damage is, and leave the file alone. ' +
          'Starting anyway, skipping the record, or cutting the log there silently loses every acknowledged write after that byte. Only an incomplete LAST record, or an unfinished last transaction, is a torn write to cut off.',
      );
    const snapshotBlamed = /snapshot/i.test(refusal.message);
    check(
      refusal.message.includes('appendonly.aof'),
      `${where}: startServer rejected with "${refusal.message.slice(0, 300)}"; the message should name the damaged file (appendonly.aof) and the byte, so that its owner can repair it.` +
        (snapshotBlamed
          ? ' It blamed the snapshot instead: the snapshot in this copy could not be read, before the log was. A copy ' +
            'keeps of each file what a crash left of it (at a power cut, only what was fsynced), so the snapshot must ' +
            'be written aside, fsynced, renamed over the old one: then every copy holds a whole one.'
          : ''),
    );
    const after = fs.readFileSync(damaged);
    check(
      after.equals(d.log),
      `${where}: the server refused to start (good) but changed the file (${d.log.length} bytes before, ${after.length} after): leave a corrupt log exactly as it is, so that nothing more is lost before someone looks at it.`,
    );
  }
  return all.length;
}
