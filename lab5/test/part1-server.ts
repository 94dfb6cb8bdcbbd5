/** Part 1's named tests (the server: commands, errors, protocol, pipelining) */
import { encodeCommand, RespError } from '../resp';
import { TestFailure, isTestFailure, check } from '../../suite';
import { describe, RawClient, Resources, same, show } from './harness';
import { realSleep } from '../../world';
import { within } from '../../suite/within';
import { ioredisClient, realTest, word, checkTtl, type Ctx } from './common';
import type { Rng } from '../../world/rng';
import { MULTI_MAX_COMMANDS } from './command-model';

export const setGetDel = realTest(
  'TestSetGetDel',
  'PING, SET, GET, DEL and EXISTS over TCP; values are binary-safe',
  async (res, ctx, rng) => {
    const server = await res.server();
    check(
      server.host === '127.0.0.1',
      `startServer({ port: 0 }) resolved with host ${JSON.stringify(server.host)}; a server started without a host listens on 127.0.0.1 and says so (RunningServer.host).`,
    );
    // A port already in use: startServer rejects with the listen error (it does not crash the process or resolve).
    let busy: unknown;
    await within(
      (await res.student()).startServer({ port: server.port }).then(
        (s) => s.close(),
        (e: unknown) => void (busy = e),
      ),
      5000,
      () => `startServer on port ${server.port}, already in use took more than 5000 ms.`,
    );
    check(
      busy instanceof Error &&
        ((busy as NodeJS.ErrnoException).code === 'EADDRINUSE' || busy.message.includes('EADDRINUSE')),
      `startServer({ port: ${server.port} }) on a port another server listens on ${busy === undefined ? 'resolved' : `rejected with ${String(busy)}`}; expected it to reject with the listen error (EADDRINUSE). ` +
        "Listen for the server's 'error' event until it listens, and reject with that error: without a listener the error crashes the process.",
    );
    const c = await res.connect(server.port);
    await c.expect(['PING'], 'PONG');
    await c.expect(['GET', 'nothing'], null, 'a missing key reads as nil');
    await c.expect(['SET', 'user:1', 'Alice'], 'OK');
    await c.expect(['GET', 'user:1'], 'Alice');
    await c.expect(['SET', 'user:1', 'Alicia'], 'OK');
    await c.expect(['GET', 'user:1'], 'Alicia', 'SET replaces the value');
    const tricky = 'two\r\nlines, spaces, ünïcödé ✓ and a NUL \u0000 byte';
    await c.expect(['SET', 'tricky', tricky], 'OK');
    await c.expect(
      ['GET', 'tricky'],
      tricky,
      'values are binary-safe: any bytes, including CR LF, come back unchanged',
    );
    await c.expect(['SET', 'empty', ''], 'OK');
    await c.expect(['GET', 'empty'], '', 'an empty value is a value, not nil');
    await c.expect(['EXISTS', 'user:1', 'empty', 'nothing'], 2, 'EXISTS counts the keys that exist');
    await c.expect(['DEL', 'user:1', 'nothing', 'tricky'], 2, 'DEL returns how many keys it removed');
    await c.expect(['GET', 'user:1'], null, 'the key was deleted');
    await c.expect(['DEL', 'user:1'], 0, 'the key is already gone');
    const data = new Map<string, string>();
    for (let i = 0; i < 200; i++) data.set(`k:${word(rng, 8)}`, word(rng, rng.between(1, 100)));
    for (const [k, v] of data) await c.expect(['SET', k, v], 'OK');
    for (const [k, v] of data) await c.expect(['GET', k], v);
  },
);

export const errorReplies = realTest(
  'TestErrorReplies',
  'Redis-style errors for unknown commands, wrong arity and bad arguments; the commands redis-cli sends on connect',
  async (res) => {
    const server = await res.server();
    const c = await res.connect(server.port);
    await c.expectError(
      ['FLY', 'me', 'to'],
      "ERR unknown command 'FLY', with args beginning with: 'me' 'to'",
      "Redis's wording, as in the README: the name, then the arguments after it, each in quotes, separated by spaces",
    );
    // Names of members every JavaScript object has: a command table looked up as table[name] finds them. The server
    // runs in a child process here, so that one that crashes on them fails this test, not the tester.
    const proc = await res.serverProcess({});
    const p = await res.connect(proc.port);
    for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf']) {
      const why = `"${name}" is not a command; it is the name of a member of every JavaScript object. Likely cause: the command table is a plain object looked up as table[name], which finds Object.prototype's members (the server then calls something that is not a command, and throws or crashes); use a Map, or check Object.hasOwn(table, name) first.`;
      try {
        await p.expectError([name, 'x'], `ERR unknown command '${name}'`, why);
      } catch (err) {
        if (isTestFailure(err) && !err.message.includes(why)) throw new TestFailure(`${err.message} ${why}`);
        throw err;
      }
    }
    await p.expect(['PING'], 'PONG', 'the server keeps serving after unknown commands');
    const arity: Array<Array<string | number>> = [
      ['GET'],
      ['GET', 'a', 'b'],
      ['SET', 'a'],
      ['DEL'],
      ['EXPIRE', 'a'],
      ['TTL'],
      ['KEYS'],
      ['INCR', 'a', 'b'],
      ['DBSIZE', 'x'],
      ['PING', 'a', 'b'],
    ];
    for (const args of arity)
      await c.expectError(args, 'ERR wrong number of arguments', 'the command has the wrong number of arguments');
    await c.expectError(['SET', 'a', 'b', 'FOREVER'], 'ERR syntax error', 'unknown SET option');
    await c.expectError(
      ['SET', 'a', 'b', 'FOREVER', 10],
      'ERR syntax error',
      'an unknown SET option, even with a number after it: only EX and PX take one',
    );
    await c.expectError(
      ['SET', 'a', 'b', 'EX', 10, 'PX', 100],
      'ERR',
      'EX and PX together: a key has one time to live',
    );
    await c.expect(['SET', 'word', 'hello'], 'OK');
    await c.expectError(['INCR', 'word'], 'ERR value is not an integer', 'INCR of a value that is not an integer');
    await c.expect(['GET', 'word'], 'hello', 'a failed INCR changes nothing');
    await c.expect(['set', 'lower', '1'], 'OK', 'command names are case-insensitive');
    await c.expect(['GeT', 'lower'], '1', 'command names are case-insensitive');
    // What redis-cli and client libraries send when they connect.
    const docs = await c.call('COMMAND', 'DOCS');
    check(
      Array.isArray(docs),
      `COMMAND DOCS replied ${show(docs)}; expected an array (an empty one is fine) — redis-cli sends it on start.`,
    );
    await c.expect(['CLIENT', 'SETNAME', 'tester'], 'OK');
    await c.expect(['CLIENT', 'SETINFO', 'LIB-NAME', 'kvlabs'], 'OK');
    const hello = await c.call('HELLO', 3);
    check(
      hello instanceof RespError,
      `HELLO 3 replied ${show(hello)}; expected an error reply, so that clients fall back to RESP2.`,
    );
    await c.expect(['SELECT', 0], 'OK', 'database 0 is the only one');
    await c.expectError(['SELECT', 1], 'ERR', 'only database 0 exists');
    await c.expect(['PING', 'hi'], 'hi', 'PING with an argument echoes it');
    await c.expect(['ECHO', 'echo me'], 'echo me');
    await c.expect(['INCR', 'counter'], 1, 'INCR of a missing key starts from 0');
    await c.expect(['INCR', 'counter'], 2);
    await c.expect(['PING'], 'PONG', 'the connection still works after error replies');
    await c.expect(['QUIT'], 'OK');
    const closed = await Promise.race([c.whenClosed.then(() => true), realSleep(2000).then(() => false)]);
    check(closed, 'After QUIT replied OK the server did not close the connection within 2 s.');
  },
);

/** A client that writes and reads its own keys in a loop, to show that other clients are unaffected. */
class Witness {
  private readonly c: RawClient;
  private stopped = false;
  private failure: string | undefined;
  private done: Promise<void>;
  ops = 0;

  constructor(c: RawClient) {
    this.c = c;
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const got = await this.c.call('SET', `witness:${i % 50}`, `w${i}`).catch((e: Error) => e.message);
      const back = await this.c.call('GET', `witness:${i % 50}`).catch((e: Error) => e.message);
      if (got !== 'OK' || back !== `w${i}`) {
        this.failure = `a well-behaved client on another connection got ${show(got)} / ${show(back)} for SET/GET witness:${i % 50} w${i}`;
        return;
      }
      this.ops += 2;
      await realSleep(5);
    }
  }

  /** Fails the test if the witness saw anything wrong so far. */
  check(when: string): void {
    check(
      this.failure === undefined,
      () =>
        `${when}: ${this.failure}. One client's bad input must not affect the others. Likely causes: one RequestParser ` +
        "shared by every connection (each connection needs its own); a connection's state kept where another reaches it.",
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

export const malformedInput = realTest(
  'TestMalformedInput',
  'garbage, a huge declared length, half-sent commands and reset connections: an error or a close for that client only',
  async (res, ctx, rng) => {
    const server = await res.server();
    const witness = new Witness(await res.connect(server.port));
    await realSleep(20);

    /** Sends `bytes` on a new connection and requires an error reply or a close within 2 s. */
    const hostile = async (what: string, bytes: Buffer | string): Promise<void> => {
      const c = await res.connect(server.port);
      c.sendRaw(bytes);
      const r = await c.replyOrClose(2000);
      const answer = r === 'closed' ? 'by closing the connection' : r === 'timeout' ? 'nothing for 2 s' : show(r.reply);
      check(
        r === 'closed' || (r !== 'timeout' && r.reply instanceof RespError),
        `After ${what}, the server replied ${answer}; expected an error reply or a closed connection.`,
      );
      c.close();
      witness.check(`after ${what}`);
    };

    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.int(256);
    garbage[0] = 0x01;
    await hostile('4096 random bytes', Buffer.concat([garbage, Buffer.from('\r\n')]));
    await hostile('a bulk length of 99,999,999,999 bytes', '*2\r\n$3\r\nGET\r\n$99999999999\r\n');
    await hostile('an array of 10^15 elements', '*1000000000000000\r\n');
    await hostile('a 2 GB bulk string header', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000000\r\n');
    await hostile('a negative bulk length', '*1\r\n$-7\r\n');
    await hostile("'$' where '*' was expected", '*1\r\n+PING\r\n');
    await hostile('a line of 200 kB without a newline', 'x'.repeat(200_000));
    await hostile('an unknown command', '*1\r\n$7\r\nteapot!\r\n');

    // Half a command: the server must wait for the rest (and serve others meanwhile), then answer it.
    const setup = await res.connect(server.port);
    await setup.expect(['SET', 'half', 'finished'], 'OK');
    const half = await res.connect(server.port);
    half.sendRaw('*2\r\n$3\r\nGET\r\n$4\r\nha');
    const early = await half.replyOrClose(300);
    if (early !== 'timeout') {
      throw new TestFailure(
        `After half a command (GET "ha..."), the server answered ${early === 'closed' ? 'by closing the connection' : show(early.reply)}; it should wait for the rest.`,
      );
    }
    witness.check('while a command was half-sent');
    half.sendRaw('lf\r\n');
    const rest = await half.reply('GET half, sent in two pieces 300 ms apart');
    check(rest === 'finished', `GET half, sent in two pieces, replied ${show(rest)}; expected "finished".`);

    // Connections that vanish mid-command, and one that never reads its replies.
    for (let i = 0; i < 20; i++) {
      const c = await res.connect(server.port);
      c.sendRaw(`*3\r\n$3\r\nSET\r\n$4\r\nrst${i % 10}\r\n$100\r\n${'y'.repeat(rng.int(100))}`);
      await realSleep(2);
      c.socket.resetAndDestroy();
    }
    const greedy = await res.connect(server.port);
    for (let i = 0; i < 200; i++) greedy.send('GET', 'half');
    greedy.close();
    await realSleep(200);
    witness.check('after 20 connections were reset mid-command');

    const fresh = await res.connect(server.port);
    await fresh.expect(['PING'], 'PONG', 'the server still accepts and serves new connections');
    await fresh.expect(['GET', 'half'], 'finished');
    await witness.stop();
    witness.check('at the end');
    check(witness.ops > 10, `The well-behaved client completed only ${witness.ops} operations during the test.`);
  },
);

const SLOW_READER_ECHOS = 512;
/** Clients that do not read, side by side: "about 1 MB" is per connection, so what the server holds adds up. */
const SLOW_READERS = 3;

/** GETs of one 1 MiB value in a single packet (TestSlowReader's second part). */
const SMALL_PACKET_GETS = 600;

const SMALL_PACKET_VALUE_BYTES = 1024 * 1024;

/**
 * Of that packet's GETs, each followed by an INCR of a counter, how many may have run while the reader reads nothing
 * (64 MiB of replies: "about 1 MB" per connection, plus what the kernel's socket buffers take, is far below).
 */
const SMALL_PACKET_RAN_MAX = 64;

const SLOW_READER_ECHO_BYTES = 64 * 1024;

const BACKPRESSURE_HOW =
  'Apply backpressure: before running each command, look at the replies not yet sent (those being collected plus socket.writableLength); past about 1 MB, ' +
  "leave the remaining commands in the RequestParser, stop reading that socket (socket.pause()), and at its 'drain' event run the waiting commands and socket.resume().";

/**
 * What the i-th ECHO of a slow reader sends: `payload` with its number in front, so that no two replies are equal
 * (a server that wrote one Buffer again for a reply equal to the last would weigh nothing for the replies it keeps).
 */
function echoed(payload: string, i: number): string {
  const tag = `${i}:`;
  return tag + payload.slice(tag.length);
}

/** Waits until the server stops taking `greedy`'s commands (the count of its unsent bytes stays put for a second), or took them all. */
async function untilStopped(greedy: RawClient): Promise<void> {
  // With backpressure it stops at once. Generous on purpose: a server without backpressure on a loaded machine still
  // takes them, only slowly and in fits, and must not be judged while it is halfway.
  let unsentBefore = greedy.socket.writableLength;
  let stillFor = 0;
  for (let waited = 0; waited < 15_000 && unsentBefore > 0 && stillFor < 1000; waited += 250) {
    await realSleep(250);
    const unsentNow = greedy.socket.writableLength;
    stillFor = unsentNow === unsentBefore ? stillFor + 250 : 0;
    unsentBefore = unsentNow;
  }
}

/**
 * TestSlowReader's first part: SLOW_READERS clients side by side pipeline 64 kB ECHOs and read nothing. The server
 * must stop reading each with its memory bounded while another client (`c`) is served. Returns those clients, still
 * paused.
 */
async function pileUpReplies(
  res: Resources,
  ctx: Ctx,
  port: number,
  c: RawClient,
  payload: string,
): Promise<RawClient[]> {
  const greedy: RawClient[] = [];
  for (let r = 0; r < SLOW_READERS; r++) greedy.push(await res.connect(port));
  for (const g of greedy) g.socket.pause(); // reads nothing: the replies pile up on the server's side
  const before = await res.weighHost(); // the process that runs your server: its live memory
  for (const g of greedy)
    for (let i = 0; i < SLOW_READER_ECHOS; i++) g.sendRaw(encodeCommand(['ECHO', echoed(payload, i)]));
  const total = (SLOW_READER_ECHOS * encodeCommand(['ECHO', payload]).length) / 1e6;
  await Promise.all(greedy.map(untilStopped));
  await c.expect(['PING'], 'PONG', 'another client is served while others do not read their replies');
  const open = greedy.filter((g) => !g.closed);
  if (open.length === 0) return greedy;
  const grown = ((await res.weighHost()) - before) / 1e6;
  const unsent = open.map((g) => g.socket.writableLength / 1e6);
  ctx.log(
    `memory grew by ${grown.toFixed(1)} MB while ${SLOW_READERS} clients did not read their replies; of each one's ${total.toFixed(0)} MB of commands, ${unsent.map((u) => u.toFixed(1)).join(', ')} MB were still waiting to be sent`,
  );
  check(
    grown < 24,
    `${SLOW_READERS} clients each sent ${SLOW_READER_ECHOS} pipelined ECHOs of 64 kB (${total.toFixed(0)} MB of replies each) and read none of them; the server's memory grew by ${grown.toFixed(1)} MB. ` +
      'Replies that a client does not read pile up in memory without bound: a few clients that never read can take the whole process. ' +
      `The bound is per connection, so it must be small: about 1 MB (a threshold of 16 MB holds ${16 * SLOW_READERS} MB here). ${BACKPRESSURE_HOW}`,
  );
  check(
    unsent.every((u) => u > 0),
    `${SLOW_READERS} clients each sent ${SLOW_READER_ECHOS} pipelined ECHOs of 64 kB (${total.toFixed(0)} MB) and read none of the replies, yet the server read every one of the commands of ${unsent.filter((u) => u === 0).length} of them: ` +
      `it went on reading from a client whose replies were not draining, so their replies had to be kept somewhere. ${BACKPRESSURE_HOW}`,
  );
  return greedy;
}

/** TestSlowReader's second part: the client that did not read starts reading; every reply comes, in order (or it is closed). */
async function drainReplies(ctx: Ctx, greedy: RawClient, payload: string): Promise<void> {
  greedy.socket.resume();
  let received = 0;
  for (let i = 0; i < SLOW_READER_ECHOS; i++) {
    const r = await greedy.replyOrClose(5000);
    if (r === 'closed') break; // an output limit closed it: allowed, as in Redis
    if (r === 'timeout')
      throw new TestFailure(
        `The client that had not read its replies started reading: after ${received} of ${SLOW_READER_ECHOS} replies, nothing came for 5 s. After a pause for backpressure, resume at 'drain' and run the commands still waiting in the parser.`,
      );
    check(
      r.reply === echoed(payload, i),
      `Reply ${i + 1} of ${SLOW_READER_ECHOS} to ECHO <64 kB> was ${show(r.reply).slice(0, 60)}; expected the 64 kB it sent, replies in request order.`,
    );
    received++;
  }
  ctx.log(
    `the slow reader then got ${received} of ${SLOW_READER_ECHOS} replies${greedy.closed && received < SLOW_READER_ECHOS ? ' (then it was closed)' : ''}`,
  );
}

/**
 * TestSlowReader's last part: large replies to small commands, one packet of GETs of a 1 MiB value (19 kB in,
 * 600 MiB out: more than one JavaScript string can hold). The packet is read whole at once, so only a server that
 * counts the replies it is collecting stops in time.
 */
async function onePacketOfLargeReplies(res: Resources, ctx: Ctx, rng: Rng, port: number, c: RawClient): Promise<void> {
  const big = word(rng, 64).repeat(SMALL_PACKET_VALUE_BYTES / 64);
  await c.expect(['SET', 'slow:big', big], 'OK');
  const packet = await res.connect(port);
  packet.socket.pause();
  const start = await res.weighHost();
  // Each GET is followed by an INCR: the counter says how many ran, whatever the replies weigh (one Buffer written
  // again and again weighs nothing, though every reply it stands for is collected).
  const pair = Buffer.concat([encodeCommand(['GET', 'slow:big']), encodeCommand(['INCR', 'slow:ran'])]);
  packet.sendRaw(Buffer.concat(new Array<Buffer>(SMALL_PACKET_GETS).fill(pair)));
  await realSleep(500);
  await c.expect(['PING'], 'PONG', 'another client is served while one does not read its replies');
  const grew = ((await res.weighHost()) - start) / 1e6;
  const ran = Number(await c.call('GET', 'slow:ran'));
  ctx.log(
    `memory grew by ${grew.toFixed(1)} MB after one packet of ${SMALL_PACKET_GETS} GETs of a 1 MiB value; ${ran} of them ran`,
  );
  check(
    packet.closed || ran <= SMALL_PACKET_RAN_MAX,
    `A client sent one packet of ${SMALL_PACKET_GETS} pipelined GETs of a 1 MiB value, each followed by INCR slow:ran, and read none of the replies; ` +
      `${ran} of the GETs ran (slow:ran) while the client read nothing, ${ran} MiB of replies (at most ${SMALL_PACKET_RAN_MAX} expected: about 1 MB, then wait). ` +
      'The packet arrives in one piece, so the unsent bytes of the socket stay put while its commands run: the replies being collected count too. ' +
      BACKPRESSURE_HOW,
  );
  check(
    grew < 24,
    `A client sent one packet of ${SMALL_PACKET_GETS} pipelined GETs of a 1 MiB value (${SMALL_PACKET_GETS} MiB of replies) and read none of them; the server's memory grew by ${grew.toFixed(1)} MB. ` +
      'The packet arrives in one piece, so the unsent bytes of the socket stay put while its commands run: the replies being collected count too ' +
      '(collected in one string, 600 MiB is past the longest string JavaScript allows, and the concatenation throws). ' +
      BACKPRESSURE_HOW,
  );
  packet.close();
}

export const slowReader = realTest(
  'TestSlowReader',
  `${SLOW_READERS} clients each pipeline ${SLOW_READER_ECHOS} ECHOs of 64 kB (32 MB) and read no reply: the server stops reading them, its memory stays bounded, others are served, the replies come when one of them reads; then one packet of ${SMALL_PACKET_GETS} GETs of a 1 MiB value, each followed by an INCR: memory stays bounded and at most ${SMALL_PACKET_RAN_MAX} of them run while the replies wait (the replies being collected count)`,
  async (res, ctx, rng) => {
    const server = await res.server();
    const c = await res.connect(server.port);
    const payload = word(rng, 64).repeat(SLOW_READER_ECHO_BYTES / 64);
    const greedy = await pileUpReplies(res, ctx, server.port, c, payload);
    // One of them reads its replies now (every one must come, in order); the others only needed to hold theirs back.
    for (const g of greedy.slice(1)) g.close();
    await drainReplies(ctx, greedy[0], payload);
    await c.expect(['ECHO', 'still'], 'still', 'the server still works');
    await onePacketOfLargeReplies(res, ctx, rng, server.port, c);
  },
);

export const pipelining = realTest(
  'TestPipelining',
  'many commands in one packet, and one command split over many packets',
  async (res) => {
    const server = await res.server();
    const c = await res.connect(server.port);
    const N = 1000;
    const parts: string[] = [];
    for (let i = 0; i < N; i++)
      parts.push(`*3\r\n$3\r\nSET\r\n$${`p:${i}`.length}\r\np:${i}\r\n$${String(i).length}\r\n${i}\r\n`);
    for (let i = 0; i < N; i++) parts.push(`*2\r\n$3\r\nGET\r\n$${`p:${i}`.length}\r\np:${i}\r\n`);
    c.sendRaw(parts.join(''));
    for (let i = 0; i < N; i++) {
      const r = await c.reply(
        `SET p:${i} (the ${i + 1}th of ${2 * N} commands sent in one write: only the first command of each chunk of ` +
          'input run? A chunk can hold many commands: run every complete one, in order)',
      );
      check(
        r === 'OK',
        `SET p:${i}, sent with ${2 * N - 1} other commands in one write, replied ${show(r)}; expected OK. A chunk of input can hold many commands: answer all of them, in order.`,
      );
    }
    for (let i = 0; i < N; i++) {
      const r = await c.reply(`GET p:${i} (pipelined)`);
      check(
        r === String(i),
        `GET p:${i} (pipelined) replied ${show(r)}; expected "${i}" — replies must come in the order of the commands.`,
      );
    }
    // One command, one byte per packet.
    const bytes = Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nslow!\r\n$11\r\nbyte@a@time\r\n');
    for (const b of bytes) {
      c.sendRaw(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 1));
    }
    const slow = await c.reply('SET slow! byte@a@time, sent one byte at a time');
    check(
      slow === 'OK',
      `SET sent one byte at a time replied ${show(slow)}; expected OK. A command may arrive in many pieces: keep the unparsed bytes until the rest comes.`,
    );
    // Three commands cut at awkward places.
    const three = Buffer.from('*2\r\n$3\r\nGET\r\n$5\r\nslow!\r\n*1\r\n$4\r\nPING\r\nPING\r\n');
    c.sendRaw(three.subarray(0, 17));
    await realSleep(20);
    c.sendRaw(three.subarray(17, 30));
    await realSleep(20);
    c.sendRaw(three.subarray(30));
    const got = [await c.reply('GET slow! (split)'), await c.reply('PING (split)'), await c.reply('PING (inline)')];
    check(
      same(got, ['byte@a@time', 'PONG', 'PONG']),
      `Three commands split across three packets replied ${show(got)}; expected ["byte@a@time", PONG, PONG].`,
    );
  },
);

export const integers = realTest(
  'TestIntegers',
  "INCR, INCRBY, DECR, DECRBY in 64 bits: Redis's strict integers, values past 2^53, the overflow error",
  async (res) => {
    const server = await res.server();
    const c = await res.connect(server.port);
    await c.expect(['INCRBY', 'fresh', 5], 5, 'INCRBY of a missing key starts from 0');
    await c.expect(['DECR', 'down'], -1, 'DECR of a missing key starts from 0');
    await c.expect(['DECRBY', 'down', 10], -11, 'DECRBY subtracts its argument (DECRBY down 10 after -1)');
    await c.expect(['DECRBY', 'down', -20], 9, 'DECRBY of a negative number adds it');
    await c.expect(['INCRBY', 'down', -9], 0, 'INCRBY of a negative number subtracts it');
    // Integer replies past 2^53 reach this test as JavaScript numbers, rounded: the GETs that follow check the exact digits.
    const wide =
      'JavaScript numbers are exact only up to 2^53 (9007199254740992); Redis counts in 64 bits. Parse with the given parseInt64 (lab5/int64.ts) and add bigints';
    await c.expect(['SET', 'big', '9007199254740992'], 'OK');
    await c.expect(['INCR', 'big'], Number('9007199254740993'), wide);
    await c.expect(['GET', 'big'], '9007199254740993', wide);
    await c.expect(['INCRBY', 'big', '9000000000000000000'], Number('9009007199254740993'), wide);
    await c.expect(['GET', 'big'], '9009007199254740993', wide);
    await c.expect(['SET', 'max', '9223372036854775807'], 'OK');
    await c.expectError(
      ['INCR', 'max'],
      'ERR increment or decrement would overflow',
      'the sum does not fit in 64 bits: Redis refuses it with this error',
    );
    await c.expect(['GET', 'max'], '9223372036854775807', 'a refused INCR changes nothing');
    await c.expect(['SET', 'min', '-9223372036854775807'], 'OK');
    await c.expect(['DECR', 'min'], -9223372036854775808, wide);
    await c.expect(['GET', 'min'], '-9223372036854775808', wide);
    await c.expectError(['DECRBY', 'min', 1], 'ERR increment or decrement would overflow', 'below -2^63');
    await c.expectError(
      ['DECRBY', 'zero', '-9223372036854775808'],
      'ERR decrement would overflow',
      'its negation, 2^63, is not a 64-bit integer: Redis says so before looking at the key',
    );
    for (const bad of ['01', '-0', '+1', ' 1', '1.0', '1e3', '', '9223372036854775808']) {
      const why = `"${bad}" is not an integer for Redis: only the canonical decimal form of a 64-bit integer is (no leading zeros, "+", "-0", spaces, decimals or exponents). Number("${bad}") and parseInt accept it; parseInt64 does not`;
      await c.expect(['SET', 'odd', bad], 'OK');
      await c.expectError(['INCR', 'odd'], 'ERR value is not an integer or out of range', why);
      await c.expectError(['INCRBY', 'counter', bad], 'ERR value is not an integer or out of range', why);
      await c.expectError(['SET', 'timed', 'v', 'EX', bad], 'ERR value is not an integer or out of range', why);
    }
    await c.expect(['GET', 'odd'], '9223372036854775808', 'a refused INCR changes nothing');
    await c.expect(['EXISTS', 'counter', 'timed'], 0, 'refused commands create nothing');
    const t = Date.now();
    await c.expect(['SET', 'kept', '1', 'EX', 100], 'OK');
    await c.expect(['INCRBY', 'kept', 10], 11);
    await c.expect(['DECRBY', 'kept', 2], 9);
    await c.expect(['DECR', 'kept'], 8);
    checkTtl(
      await c.call('TTL', 'kept'),
      100,
      t,
      'TTL kept after INCRBY, DECRBY and DECR (they keep the TTL, as INCR does)',
    );
  },
);

/** The handout's limit on the bytes of words one MULTI may queue (the names included); MULTI_MAX_COMMANDS is the other. */
const MULTI_MAX_BYTES = 128 << 20;

const QUEUE_LIMIT_CAUSES = `MULTI queues at most ${MULTI_MAX_COMMANDS} commands and ${MULTI_MAX_BYTES} bytes of words (see "Transactions" in the handout): count both as you queue, refuse the command that would pass either limit with an error, and mark the transaction so that EXEC aborts`;

/** The queue is bounded: the command past either limit is refused, EXEC aborts, and nothing queued runs. */
async function checkQueueLimits(c: RawClient): Promise<void> {
  await c.expect(['MULTI'], 'OK');
  await c.expect(['SET', 'bounded', 'ran'], 'QUEUED');
  c.sendRaw('PING\r\n'.repeat(MULTI_MAX_COMMANDS)); // inline PINGs: the last one is command 100,001
  for (let i = 2; i <= MULTI_MAX_COMMANDS + 1; i++) {
    const got = await c.reply(`queued PING number ${i}`, 10_000);
    const refused = got instanceof RespError && got.message.startsWith('ERR');
    if (i <= MULTI_MAX_COMMANDS)
      check(
        got === 'QUEUED',
        `Queued command number ${i} (a PING) replied ${show(got)}; expected QUEUED. ${QUEUE_LIMIT_CAUSES}.`,
      );
    else
      check(
        refused,
        `Queued command number ${i} (a PING) replied ${show(got)}; expected an error reply: ${QUEUE_LIMIT_CAUSES}.`,
      );
  }
  await c.expectError(['EXEC'], 'EXECABORT', `a command was refused for the queue's size. ${QUEUE_LIMIT_CAUSES}`);
  await c.expect(['EXISTS', 'bounded'], 0, 'the transaction was aborted: its SET must not have run');
  const value = Buffer.alloc(48 << 20, 'v'); // three of these are 144 MiB of words
  await c.expect(['MULTI'], 'OK');
  for (const key of ['big1', 'big2', 'big3']) {
    c.sendRaw(encodeCommand(['SET', key, value]));
    const got = await c.reply(`SET ${key} <48 MiB> inside MULTI`, 20_000);
    const want = key === 'big3' ? 'an error reply' : 'QUEUED';
    const ok = key === 'big3' ? got instanceof RespError && got.message.startsWith('ERR') : got === 'QUEUED';
    check(
      ok,
      `Inside MULTI, SET ${key} with a 48 MiB value replied ${show(got)}; expected ${want}. ${QUEUE_LIMIT_CAUSES}.`,
    );
  }
  await c.expectError(['EXEC'], 'EXECABORT', `a command was refused for the queue's size. ${QUEUE_LIMIT_CAUSES}`);
  await c.expect(['EXISTS', 'big1', 'big2', 'big3'], 0, 'the transaction was aborted: none of its SETs may have run');
  await c.expect(['MULTI'], 'OK', 'a new transaction starts with an empty queue');
  await c.expect(['SET', 'small', 'ok'], 'QUEUED', 'the sizes count again from zero in a new transaction');
  await c.expect(['EXEC'], ['OK']);
}

export const transactions = realTest(
  'TestTransactions',
  'MULTI, EXEC and DISCARD: commands are queued, then run together; a refused command aborts the transaction',
  async (res) => {
    const server = await res.server();
    const c = await res.connect(server.port);
    const other = await res.connect(server.port);
    await c.expect(['MULTI'], 'OK');
    await c.expect(['SET', 'tx', '1'], 'QUEUED', 'inside MULTI a command is queued, not run');
    await c.expect(['INCRBY', 'tx', 10], 'QUEUED');
    await other.expect(
      ['SET', 'bystander', 'b'],
      'OK',
      'MULTI on one connection does not put the others in a transaction: keep the queue per connection',
    );
    await other.expect(['GET', 'tx'], null, 'a queued SET must not run before EXEC (another client saw its value)');
    await c.expect(['GET', 'tx'], 'QUEUED');
    await c.expectError(['MULTI'], 'ERR MULTI calls can not be nested', 'MULTI inside MULTI');
    await c.expect(
      ['EXEC'],
      ['OK', 11, '11'],
      'EXEC runs the queued commands in order and replies with the array of their replies',
    );
    await c.expect(['GET', 'tx'], '11', 'after EXEC the connection is out of the transaction');
    await c.expectError(['EXEC'], 'ERR EXEC without MULTI', 'EXEC outside a transaction');
    await c.expectError(['DISCARD'], 'ERR DISCARD without MULTI', 'DISCARD outside a transaction');
    // A command that fails when it runs does not stop the others.
    await c.expect(['SET', 'word', 'hello'], 'OK');
    await c.expect(['MULTI'], 'OK');
    await c.expect(['INCR', 'word'], 'QUEUED');
    await c.expect(['SET', 'after', 'yes'], 'QUEUED');
    await c.expect(
      ['EXEC'],
      [new RespError('ERR value is not an integer or out of range'), 'OK'],
      'an error when a queued command runs is its place in the array; the rest still run',
    );
    // A command refused while queuing (unknown, wrong arity) aborts the whole transaction: nothing queued runs.
    for (const refused of [['NOSUCHCOMMAND', 'x'], ['GET']]) {
      await c.expect(['MULTI'], 'OK');
      await c.expect(['SET', 'aborted', 'written'], 'QUEUED');
      await c.expectError(refused, 'ERR', 'a command refused at once');
      await c.expectError(
        ['EXEC'],
        'EXECABORT Transaction discarded because of previous errors.',
        `${describe(refused)} was refused while queuing, so EXEC must abort the transaction (Redis replies EXECABORT) and run nothing`,
      );
      await c.expect(
        ['EXISTS', 'aborted'],
        0,
        `the SET queued before the refused ${describe(refused)} must not have run: an aborted transaction changes nothing`,
      );
    }
    await c.expect(['MULTI'], 'OK');
    await c.expect(['SET', 'discarded', 'x'], 'QUEUED');
    await c.expect(['DISCARD'], 'OK');
    await c.expect(['EXISTS', 'discarded'], 0, 'DISCARD drops the queued commands');
    await c.expect(['PING'], 'PONG', 'after DISCARD the connection is out of the transaction');
    await checkQueueLimits(c);
    // What ordinary clients do: ioredis's multi().exec().
    // No ready check: ioredis would send INFO, which is part 2.
    const redis = ioredisClient(res, server.port, { enableReadyCheck: false });
    await within(redis.connect(), 5000, () => `ioredis connecting took more than 5000 ms.`);
    const results = await within(
      redis.multi().set('io', '41').incr('io').get('io').exec(),
      3000,
      () => `ioredis multi().set().incr().get().exec() took more than 3000 ms.`,
    ).catch((e: Error) => e);
    check(
      JSON.stringify(results) ===
        JSON.stringify([
          [null, 'OK'],
          [null, 42],
          [null, '42'],
        ]),
      `ioredis multi().set('io', '41').incr('io').get('io').exec() gave ${results instanceof Error ? `the error "${results.message}"` : JSON.stringify(results)}; expected [[null,"OK"],[null,42],[null,"42"]].`,
    );
  },
);
