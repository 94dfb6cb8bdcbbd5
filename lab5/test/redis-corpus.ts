/**
 * The recorded-Redis corpus: command sequences with the replies redis-server 7.0 gave to each (recorded by the
 * course kit into lab5/test/redis-replies.json), and their replay against any server over real TCP.
 * Strings here are byte strings (one character per byte, 'latin1'), so binary data survives JSON exactly.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { encodeCommand, reply, ReplyParser, RespReply } from '../resp';

/** One step: a command (its arguments as byte strings), or raw bytes sent as they are (an inline command line). */
export type Step = string[] | { inline: string };

/** A sequence of steps run on one fresh connection, its first step a FLUSHDB; with Redis's raw reply to each step. */
export interface RecordedSequence {
  name: string;
  steps: Step[];
  replies: string[];
}

/** The data file. */
export interface Corpus {
  /** redis-server's version line, and how the corpus was generated. */
  redis: string;
  generator: string;
  sequences: RecordedSequence[];
}

/** Where the recording lives. */
export const CORPUS_FILE = path.join(__dirname, 'redis-replies.json');

/** Reads the recording. */
export function loadCorpus(file = CORPUS_FILE): Corpus {
  return JSON.parse(fs.readFileSync(file, 'latin1')) as Corpus;
}

/** The bytes a step sends. */
export function stepBytes(step: Step): Buffer {
  return Array.isArray(step)
    ? encodeCommand(step.map((a) => Buffer.from(a, 'latin1')))
    : Buffer.from(step.inline, 'latin1');
}

/** Where the RESP reply starting at `pos` ends (just past it), or undefined if it has not all arrived. */
export function replyEnd(buf: Buffer, pos: number): number | undefined {
  const lf = buf.indexOf(10, pos);
  if (lf < 0) return undefined;
  const type = buf[pos];
  if (type === 0x24 /* $ */) {
    const len = Number(buf.toString('latin1', pos + 1, lf - 1));
    if (len < 0) return lf + 1;
    return buf.length >= lf + 1 + len + 2 ? lf + 1 + len + 2 : undefined;
  }
  if (type === 0x2a /* * */) {
    let at: number | undefined = lf + 1;
    const count = Number(buf.toString('latin1', pos + 1, lf - 1));
    for (let i = 0; i < count && at !== undefined; i++) at = replyEnd(buf, at);
    return at;
  }
  return lf + 1; // + - : and anything else: one line
}

/** The command's name, lower-case ('' for an inline step that is not one word). */
function commandName(step: Step): string {
  const words = Array.isArray(step) ? step : step.inline.trim().split(/\s+/);
  return (words[0] ?? '').toLowerCase();
}

/**
 * The reply as compared: byte for byte, except where Redis promises no order. KEYS's array and the keys of a SCAN
 * reply come in the order of Redis's hash table, so they are compared as sorted lists.
 */
export function comparable(step: Step, raw: string): string {
  const name = commandName(step);
  if ((name !== 'keys' && name !== 'scan') || !raw.startsWith('*')) return raw;
  const p = new ReplyParser('latin1');
  p.push(Buffer.from(raw, 'latin1'));
  const r = p.next();
  const sorted = (items: RespReply[]): string[] => items.map(String).sort();
  if (name === 'keys' && Array.isArray(r)) return reply.bulkArray(sorted(r));
  if (name === 'scan' && Array.isArray(r) && r.length === 2 && Array.isArray(r[1]))
    return reply.array([reply.bulk(String(r[0])), reply.bulkArray(sorted(r[1]))]);
  return raw;
}

/** Bytes made readable: printable ASCII as is, the rest as escapes ("\r\n", "\x00", "\xff"). */
export function escapeBytes(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\r') out += '\\r';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A step as one would type it: `SET "a b" "\xff"`, or an inline line in quotes. */
export function showStep(step: Step): string {
  if (!Array.isArray(step)) return `(inline) "${escapeBytes(step.inline)}"`;
  return step.map((a) => (/^[\w:.*?[\]^!-]+$/.test(a) ? a : `"${escapeBytes(a)}"`)).join(' ');
}

/** What a server did with one sequence: its raw replies, and how the reading ended. */
export interface SequenceRun {
  replies: string[];
  /** 'ok', or why fewer replies came: 'closed' (the server closed the connection), 'timeout', 'refused'. */
  end: 'ok' | 'closed' | 'timeout' | 'refused';
}

/** Sends a sequence's steps at once on a new connection to `port` and reads `expected` replies (raw bytes). */
export function runSequence(
  port: number,
  steps: readonly Step[],
  expected: number,
  timeoutMs = 3000,
): Promise<SequenceRun> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const replies: string[] = [];
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (end: SequenceRun['end']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, end });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once('connect', () => socket.write(Buffer.concat(steps.map(stepBytes))));
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let pos = 0;
      for (let end = replyEnd(buf, pos); end !== undefined && replies.length < expected; end = replyEnd(buf, pos)) {
        replies.push(buf.toString('latin1', pos, end));
        pos = end;
      }
      buf = buf.subarray(pos);
      if (replies.length >= expected) finish('ok');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? 'refused' : 'closed'));
    socket.on('close', () => finish('closed'));
  });
}

/** The first step of a run whose reply differs from the recording, or undefined if they all agree. */
export function firstDifference(seq: RecordedSequence, run: SequenceRun): number | undefined {
  for (let i = 0; i < seq.replies.length; i++) {
    if (
      i >= run.replies.length ||
      comparable(seq.steps[i], run.replies[i]) !== comparable(seq.steps[i], seq.replies[i])
    )
      return i;
  }
  return undefined;
}

/** The sequence up to the differing step, with Redis's reply and the server's, for a failure message. */
export function explainDifference(seq: RecordedSequence, run: SequenceRun, at: number): string {
  const lines = [`Sequence "${seq.name}" (sent at once, on a new connection):`];
  for (let i = 0; i <= at; i++) {
    lines.push(`  ${i === at ? '>>' : '  '} ${showStep(seq.steps[i])}`);
    if (i < at) lines.push(`        -> "${escapeBytes(seq.replies[i])}"`);
  }
  const theirs =
    at < run.replies.length
      ? `"${escapeBytes(run.replies[at])}"`
      : run.end === 'closed'
        ? '(the connection was closed)'
        : run.end === 'timeout'
          ? '(no reply within the time allowed)'
          : '(could not connect)';
  lines.push(`  redis-server 7.0 replied: "${escapeBytes(seq.replies[at])}"`);
  lines.push(`  your server replied:      ${theirs}`);
  return lines.join('\n');
}
