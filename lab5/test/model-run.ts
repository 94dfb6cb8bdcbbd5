/**
 * Runs a TestCommandModel program against a server over TCP, judging every reply by the command model (and, after
 * every packet, a probe of the whole store on a connection of its own), and shrinks a failing program to the
 * shortest one that still fails.
 */
import * as net from 'node:net';
import { encodeCommand, RequestParser } from '../resp';
import { CommandModel, newConnection, type Expectation, type ModelConnection } from './command-model';
import { CONNECTIONS, MODEL_KEYS, type Packet } from './model-grammar';
import { judgeReply, modelPacket, showExpectation, type PacketStep } from './model-judge';
import { escapeBytes, replyEnd, showStep } from './redis-corpus';
import type { Resources } from './harness';

/** A raw connection: sends bytes, reads whole raw replies, sees the close. */
class RawConn {
  private buf: Buffer = Buffer.alloc(0);
  closed = false;
  private wake: () => void = () => undefined;

  readonly socket: net.Socket;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, res: Resources): Promise<RawConn> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    res.defer(() => void socket.destroy());
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new RawConn(socket)));
      socket.once('error', (e) => reject(new Error(`could not connect to the server on port ${port}: ${e.message}`)));
    });
  }

  /** Up to `n` whole replies, waiting at most `ms` (fewer if the connection closes or time runs out). */
  async replies(n: number, ms: number): Promise<string[]> {
    const out: string[] = [];
    const until = Date.now() + ms;
    for (;;) {
      let end = replyEnd(this.buf, 0);
      while (end !== undefined && out.length < n) {
        out.push(this.buf.toString('latin1', 0, end));
        this.buf = this.buf.subarray(end);
        end = this.buf.length > 0 ? replyEnd(this.buf, 0) : undefined;
      }
      if (out.length >= n || this.closed || Date.now() >= until) return out;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Waits until the connection closes or `ms` pass, reading nothing. */
  async closedWithin(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    return this.closed;
  }

  /** Bytes received and not read as a reply. */
  leftover(): string {
    return this.buf.toString('latin1');
  }
}

/** One packet as it went: who sent it, each command with what the model expected and what came back. */
export interface PacketLog {
  readonly label: string;
  /** Every command of the packet as sent (those after one that ends the connection included). */
  readonly sent: readonly string[];
  readonly steps: ReadonlyArray<{ shown: string; expect: Expectation; got: string | undefined; ok: boolean }>;
}

/** A program's run: the log, and where and why it failed. */
export interface ProgramRun {
  readonly log: PacketLog[];
  /** The index of the failing packet (the probe after packet i counts as i), or undefined. */
  readonly failedAt?: number;
  readonly why?: string;
  /** The failing command's name, lower case ('probe' when the probe after a packet disagreed). */
  readonly failedName?: string;
}

/** How long a reply may take on a busy machine before it counts as missing, ms. */
const REPLY_MS = 5000;

/** The probe after every packet: the whole store, as GET and PTTL of every key, then DBSIZE (which may sweep). */
const PROBE: string[][] = [
  ...MODEL_KEYS.flatMap((k) => [
    ['GET', k],
    ['PTTL', k],
  ]),
  ['DBSIZE'],
];

/** The sides of one connection: the server's socket and the model's state. */
interface Side {
  conn: RawConn;
  model: ModelConnection;
  /** How many connections this id has had (a new one after each end). */
  generation: number;
}

/** The state of one run: the server, the model, the connections, the slack allowed for TTLs read over the network. */
class Run {
  model: CommandModel;
  readonly sides = new Map<number, Side>();
  maxLatency = 0;
  readonly log: PacketLog[] = [];
  /** The failing command's name (lower case; 'quit' for a connection that did not end as it should). */
  failedName = '';

  readonly res: Resources;
  readonly port: number;

  constructor(res: Resources, port: number) {
    this.res = res;
    this.port = port;
    this.model = new CommandModel(Date.now());
  }

  private async side(id: number): Promise<Side> {
    const s = this.sides.get(id);
    if (s !== undefined && !s.model.closed) return s;
    const fresh = {
      conn: await RawConn.open(this.port, this.res),
      model: newConnection(),
      generation: (s?.generation ?? 0) + 1,
    };
    this.sides.set(id, fresh);
    return fresh;
  }

  /** Sends one packet on connection `id` and judges what comes back; returns why it failed, or undefined. */
  async packet(id: number, commands: Packet['commands'], label: string): Promise<string | undefined> {
    const side = await this.side(id);
    const bytes = Buffer.concat(
      commands.map((c) =>
        'raw' in c ? Buffer.from(c.raw, 'latin1') : encodeCommand(c.map((w) => Buffer.from(w, 'latin1'))),
      ),
    );
    const sentAt = Date.now();
    this.model.now = BigInt(sentAt);
    const first = this.trial(side.model, bytes, false);
    const expected = first.steps.filter((s) => s.expect.kind !== 'none').length;
    side.conn.socket.write(bytes);
    const got = await side.conn.replies(expected, REPLY_MS);
    this.maxLatency = Math.max(this.maxLatency, Date.now() - sentAt);
    let chosen = first;
    let why = this.judge(first.steps, got);
    if (why !== undefined && first.asked) {
      const second = this.trial(side.model, bytes, true); // a GT/LT tie the clocks cannot settle: the other way
      if (this.judge(second.steps, got) === undefined) [chosen, why] = [second, undefined];
    }
    const slack = 2 * this.maxLatency + 20;
    const shown = chosen.steps.map((s, i) => ({
      shown: s.args ? showStep([...s.args]) : `(bytes) "${escapeBytes(bytes.toString('latin1'))}"`,
      expect: s.expect,
      got: got[i],
      ok:
        s.expect.kind === 'none' || (got[i] !== undefined && judgeReply(s.expect, got[i], s.args, slack) === undefined),
    }));
    if (why !== undefined)
      this.failedName = chosen.steps.find((s, i) => !shown[i].ok)?.args?.[0]?.toLowerCase() ?? 'quit';
    const sent = commands.map((c) => ('raw' in c ? `(bytes) "${escapeBytes(c.raw)}"` : showStep([...c])));
    this.log.push({
      label: `${label}${side.generation > 1 ? ` (connection ${side.generation})` : ''}`,
      sent,
      steps: shown,
    });
    this.model = chosen.model;
    side.model = chosen.conn;
    if (why !== undefined) return why;
    const end = await this.ending(side, got.length);
    if (end !== undefined) this.failedName = 'quit';
    return end;
  }

  /** The packet run on copies of the model (`choice` settles GT/LT ties); `asked` says whether a tie came up. */
  private trial(
    conn: ModelConnection,
    bytes: Buffer,
    choice: boolean,
  ): { model: CommandModel; conn: ModelConnection; steps: PacketStep[]; asked: boolean } {
    const model = this.model.clone();
    const c = { queue: conn.queue && [...conn.queue], dirty: conn.dirty, closed: conn.closed };
    let asked = false;
    model.tieMs = BigInt(2 * this.maxLatency + 20);
    model.decide = () => {
      asked = true;
      return choice;
    };
    const steps = modelPacket(model, c, new RequestParser(), bytes);
    return { model, conn: c, steps, asked };
  }

  private judge(steps: readonly PacketStep[], got: readonly string[]): string | undefined {
    const slack = 2 * this.maxLatency + 20;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      if (s.expect.kind === 'none') continue;
      const shown = s.args ? showStep([...s.args]) : '(bytes the parser refuses)';
      if (got[i] === undefined)
        return `${shown}: no reply came within ${REPLY_MS} ms (expected ${showExpectation(s.expect)})`;
      const why = judgeReply(s.expect, got[i], s.args, slack);
      if (why !== undefined)
        return `${shown}: the server replied "${escapeBytes(got[i])}", the model expected ${showExpectation(s.expect)} (${why})`;
    }
    return undefined;
  }

  /** After the replies: a connection the model ended must close, with nothing more sent; any other must stay open. */
  private async ending(side: Side, replies: number): Promise<string | undefined> {
    if (!side.model.closed) {
      if (side.conn.closed)
        return `the server closed the connection after ${replies} replies, though nothing asked it to`;
      return undefined;
    }
    await side.conn.closedWithin(REPLY_MS);
    const extra = side.conn.leftover();
    if (extra.length > 0)
      return `after the reply to the command that ends the connection, the server sent more: "${escapeBytes(extra.slice(0, 200))}" (a reply to a command sent after it, which must not run)`;
    if (!side.conn.closed) return `the connection stayed open ${REPLY_MS} ms after the command that ends it`;
    return undefined;
  }
}

/** Runs `program` on a fresh server; stops at the first failure. */
export async function runProgram(res: Resources, program: readonly Packet[]): Promise<ProgramRun> {
  const server = await res.server({ sweepIntervalMs: 3_600_000 });
  const run = new Run(res, server.port);
  try {
    for (let i = 0; i < program.length; i++) {
      const p = program[i];
      const why = await run.packet(p.conn, p.commands, `connection ${p.conn + 1}`);
      if (why !== undefined) return { log: run.log, failedAt: i, why, failedName: run.failedName };
      const probe = await run.packet(CONNECTIONS, PROBE, 'probe (its own connection)');
      if (probe !== undefined) return { log: run.log, failedAt: i, why: probe, failedName: 'probe' };
    }
    return { log: run.log };
  } finally {
    await server.close();
  }
}

/** Candidate programs one step smaller: without one packet, or without one command of a packet. */
function smaller(program: readonly Packet[]): Packet[][] {
  const out: Packet[][] = [];
  for (let i = program.length - 1; i >= 0; i--) out.push([...program.slice(0, i), ...program.slice(i + 1)]);
  program.forEach((p, i) => {
    if (p.commands.length < 2) return;
    for (let j = p.commands.length - 1; j >= 0; j--)
      out.push([
        ...program.slice(0, i),
        { conn: p.conn, commands: [...p.commands.slice(0, j), ...p.commands.slice(j + 1)] },
        ...program.slice(i + 1),
      ]);
  });
  return out;
}

/** Shrinks a failing program: drops packets and commands while it still fails, within `budgetMs`. */
export async function shrink(
  res: Resources,
  program: readonly Packet[],
  failed: ProgramRun,
  budgetMs: number,
): Promise<{ program: readonly Packet[]; run: ProgramRun; tries: number }> {
  const until = Date.now() + budgetMs;
  let best = { program: program.slice(0, (failed.failedAt ?? program.length - 1) + 1), run: failed };
  let tries = 0;
  let progress = true;
  while (progress && Date.now() < until) {
    progress = false;
    for (const candidate of smaller(best.program)) {
      if (Date.now() >= until) break;
      tries++;
      const run = await runProgram(res, candidate);
      if (run.failedAt === undefined) continue;
      best = { program: candidate.slice(0, run.failedAt + 1), run };
      progress = true;
      break;
    }
  }
  return { ...best, tries };
}

/** The failing run as a replay: every packet, each command with the reply expected and got. */
export function showReplay(run: ProgramRun): string {
  const lines: string[] = [];
  run.log.forEach((p, i) => {
    const last = i === run.log.length - 1;
    const probe = p.label.startsWith('probe');
    if (probe && !last) return; // probes that agreed are left out
    if (p.sent.length === 1) lines.push(`  ${p.label} sends one command:`);
    else if (probe)
      lines.push(`  ${p.label} sends one packet of ${p.sent.length} (GET and PTTL of every key, DBSIZE):`);
    else
      lines.push(
        `  ${p.label} sends one packet of ${p.sent.length}: ${p.sent.map((c) => (c.length > 60 ? `${c.slice(0, 60)}...` : c)).join(' | ')}`,
      );
    const unanswered = p.sent.length - p.steps.length;
    for (const s of p.steps) {
      if (probe && s.ok) continue; // of the probe, only what disagreed
      const got =
        s.got === undefined
          ? '(no reply)'
          : `"${escapeBytes(s.got.length > 300 ? `${s.got.slice(0, 300)}...` : s.got)}"`;
      const cmd = s.shown.length > 200 ? `${s.shown.slice(0, 200)}...` : s.shown;
      lines.push(`    ${cmd}\n      expected ${showExpectation(s.expect).slice(0, 400)}\n      got      ${got}`);
    }
    if (unanswered > 0 && !probe)
      lines.push(`    (the ${unanswered} command(s) after the one that ends the connection: no reply, no effect)`);
  });
  return lines.join('\n');
}
