/**
 * The kit's own checks of lab 5: the given RESP parser and glob matcher are right, and the untouched skeleton fails
 * every named test without crashing (the reference passes each, in real time: reference.full.test.ts; every mutant is
 * caught by a named test: mutants.full.test.ts).
 */
import { expect } from 'chai';
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { record, redisServerPath, serialise, startRedis } from '../../../instructor/redis-record';
import { globMatch } from '../../../lab5/glob';
import * as sinon from 'sinon';
import { encodeCommand, ProtocolError, ReplyParser, reply, RequestParser, type RespReply } from '../../../lab5/resp';
import { itChecksHandoutTable, itChecksScoring } from '../../kit';
import { materialiseMutant, Mutant, removeMutant } from '../../mutants';
import { tracePage } from '../../../grader/reports/trace';
import { runNamedTest } from '../../../suite';
import { mutants } from '../mutants';
import { CORPUS_FILE, loadCorpus } from '../../../lab5/test/redis-corpus';
import { suite } from '../../../lab5/test/suite';

const SOLUTION_DIR = path.resolve(__dirname, '..');
const SKELETON_DIR = path.resolve(__dirname, '../../../lab5');

/** Feeds `data` to a parser in the given pieces and collects every command (or the protocol error). */
function parseAll(data: Buffer, cuts: number[]): { commands: string[][]; error?: string } {
  const p = new RequestParser({ maxBulkBytes: 1 << 20, maxLineBytes: 4096 });
  const commands: string[][] = [];
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...points, data.length]) {
      p.push(data.subarray(from, to));
      from = to;
      for (let c = p.next(); c !== undefined; c = p.next()) commands.push(c);
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { commands, error: err.message };
  }
  return { commands };
}

describe('lab5 given code', () => {
  it('RequestParser: any split of a stream of commands gives the same commands', () => {
    const arg = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(
        fc.array(fc.array(arg, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (cmds, cuts) => {
          const data = Buffer.concat(cmds.map((c) => encodeCommand(c)));
          const got = parseAll(data, cuts);
          const want = cmds.map((c) => c.map((a) => Buffer.from(a, 'utf8').toString('latin1')));
          expect(got.error).to.equal(undefined);
          expect(got.commands).to.deep.equal(want);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('RequestParser: one command may not declare more than maxCommandBytes in all (refused at the header, before the bytes arrive)', () => {
    const p = new RequestParser({ maxCommandBytes: 1000 });
    p.push(Buffer.from(`*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$600\r\n${'v'.repeat(600)}\r\n`));
    expect(p.next()).to.equal(undefined); // three arguments so far, 604 bytes: within the limit
    p.push(Buffer.from('$500\r\n'));
    expect(() => p.next()).to.throw(ProtocolError, 'command larger than 1000 bytes');
    const q = new RequestParser({ maxCommandBytes: 1000 });
    q.push(encodeCommand(['SET', 'k', 'v'.repeat(990)]));
    expect(q.next()).to.have.length(3); // 994 bytes: accepted, and the count starts again for the next command
    q.push(encodeCommand(['SET', 'k', 'v'.repeat(990)]));
    expect(q.next()).to.have.length(3);
  });

  it('RequestParser: random bytes end in commands or a ProtocolError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        parseAll(Buffer.from(bytes), cuts);
      }),
      { numRuns: 500 },
    );
  });

  it('RequestParser: refuses oversized declarations at once', () => {
    const bads = [
      '*1\r\n$99999999999\r\n',
      '*99999999999999\r\n',
      '*1234567890123456789\r\n',
      '*1\r\n$-3\r\n',
      '*x\r\n',
      '*-\r\n',
      '*1\rX\n',
      '*1\r\n:1\r\n',
      'a'.repeat(5000),
    ];
    for (const bad of bads) {
      expect(parseAll(Buffer.from(bad), []).error, JSON.stringify(bad.slice(0, 30))).to.match(/Protocol error/);
    }
    expect(parseAll(Buffer.from('PING\r\nECHO  hi  there\n\r\n'), []).commands).to.deep.equal([
      ['PING'],
      ['ECHO', 'hi', 'there'],
    ]);
    // An incomplete header waits for the rest instead of failing.
    expect(parseAll(Buffer.from('*2\r\n$3\r\nGET\r\n$1'), [])).to.deep.equal({ commands: [] });
    expect(parseAll(Buffer.from('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n'), [])).to.deep.equal({ commands: [['PING']] });
  });

  it('ReplyParser reads what the reply encoders write, in any split', () => {
    const wire =
      reply.ok +
      reply.error('ERR x') +
      reply.integer(-5) +
      reply.bulk('a\r\nb') +
      reply.nil +
      reply.bulkArray(['x', '']) +
      reply.array([reply.integer(1), reply.bulk(null)]);
    const data = Buffer.from(wire, 'latin1');
    for (let cut = 0; cut <= data.length; cut++) {
      const p = new ReplyParser();
      const out: unknown[] = [];
      for (const piece of [data.subarray(0, cut), data.subarray(cut)]) {
        p.push(piece);
        for (let r = p.next(); r !== undefined; r = p.next()) out.push(r);
      }
      expect(JSON.stringify(out)).to.equal(
        JSON.stringify(['OK', { message: 'ERR x' }, -5, 'a\r\nb', null, ['x', ''], [1, null]]),
      );
    }
  });

  it('ReplyParser reads replies with long bulk strings cut into pieces of any sizes', () => {
    const bulk = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 200, maxLength: 3000 }));
    const one = fc.oneof(
      bulk.map((b) => ({ wire: reply.bulk(b), value: b as RespReply })),
      fc.integer().map((n) => ({ wire: reply.integer(n), value: n as RespReply })),
      fc.array(bulk, { maxLength: 4 }).map((items) => ({ wire: reply.bulkArray(items), value: items as RespReply })),
    );
    fc.assert(
      fc.property(
        fc.array(one, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (replies, cuts) => {
          const data = Buffer.from(replies.map((r) => r.wire).join(''), 'latin1');
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const p = new ReplyParser('latin1');
          const out: RespReply[] = [];
          let from = 0;
          for (const to of [...points, data.length]) {
            p.push(data.subarray(from, to));
            from = to;
            for (let r = p.next(); r !== undefined; r = p.next()) out.push(r);
          }
          expect(out).to.deep.equal(replies.map((r) => r.value));
        },
      ),
      { numRuns: 300, seed: 20261129 },
    );
  });

  it('ReplyParser copies a megabyte reply read in 64 kB pieces about once, not once per piece', () => {
    const value = 'v'.repeat(1 << 20);
    const data = Buffer.from(reply.bulkArray([value, 'x']) + reply.bulk(value), 'latin1');
    const p = new ReplyParser('latin1');
    const concat = sinon.spy(Buffer, 'concat');
    const got: RespReply[] = [];
    try {
      for (let from = 0; from < data.length; from += 64 * 1024) {
        p.push(data.subarray(from, from + 64 * 1024));
        for (let r = p.next(); r !== undefined; r = p.next()) got.push(r);
      }
    } finally {
      concat.restore();
    }
    expect(got).to.deep.equal([[value, 'x'], value]);
    const copied = concat.getCalls().reduce((n, c) => n + (c.returnValue as Buffer).length, 0);
    expect(copied, 'bytes copied by Buffer.concat').to.be.at.most(2 * data.length);
  });

  it('globMatch agrees with a regular expression on random patterns', () => {
    const toRegExp = (g: string): RegExp =>
      new RegExp(
        `^${g
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '[^]*')
          .replace(/\?/g, '[^]')}$`,
      );
    const ch = fc.constantFrom('a', 'b', ':', '*', '?');
    fc.assert(
      fc.property(
        fc.array(ch, { maxLength: 8 }).map((a) => a.join('')),
        fc.array(fc.constantFrom('a', 'b', ':'), { maxLength: 10 }).map((a) => a.join('')),
        (pattern, text) => {
          // Redis's matcher never matches the empty text, except with the empty pattern, and `*` (which KEYS does not match at all).
          const want = text === '' ? pattern === '' || pattern === '*' : toRegExp(pattern).test(text);
          expect(globMatch(pattern, text), `${pattern} vs ${text}`).to.equal(want);
        },
      ),
      { numRuns: 2000 },
    );
    expect(globMatch('user:[0-9]', 'user:7')).to.equal(true);
    expect(globMatch('user:[^0-9]', 'user:7')).to.equal(false);
    expect(globMatch('a\\*b', 'a*b')).to.equal(true);
    expect(globMatch('a\\*b', 'axb')).to.equal(false);
  });

  it("globMatch's corner cases are Redis's stringmatchlen's (also checked against redis-server by TestRedisReplies)", () => {
    const cases: Array<[string, string, boolean]> = [
      ['[a', 'a', true], // no closing bracket: the set {a}
      ['[a', '[a', false],
      ['[]]', ']', false], // a ']' right after '[' closes the set, which is empty: nothing matches
      ['[]a]', 'a]', false],
      ['[a-]', '^', true], // the ']' ends a range a..] (which is ]..a), and the set is still open
      ['[a-]', '-', false],
      ['[-a]', '-', true],
      ['[z-a]', 'm', true], // a reversed range
      ['[\\]]', ']', true],
      ['\\', '\\', true], // a backslash at the end is itself
      ['[^]', 'x', true],
      ['[', '[', false],
      ['*', '', true],
      ['**', '', false],
      ['?', '', false],
      ['', '', true],
      ['[\u0000-\u00ff]', '\u0080', false], // bytes compare as C's signed char: 0x80..0xff sort below 0x00
      ['[\u0080-a]', '\u00ff', true],
    ];
    for (const [pattern, text, want] of cases)
      expect(globMatch(pattern, text), `${JSON.stringify(pattern)} vs ${JSON.stringify(text)}`).to.equal(want);
    expect(
      globMatch('*a'.repeat(5000) + 'b', 'a'.repeat(5000)),
      'thousands of stars: no stack overflow, no match',
    ).to.equal(false);
  });

  it('RequestParser splits inline commands as Redis does: quotes, escapes, unbalanced quotes', () => {
    expect(
      parseAll(
        Buffer.from('SET q "hello world"\r\nSET r \'it\\\'s\'\r\nSET h "\\x41\\n\\t\\\\"\r\nECHO ""\n', 'latin1'),
        [],
      ).commands,
    ).to.deep.equal([
      ['SET', 'q', 'hello world'],
      ['SET', 'r', "it's"],
      ['SET', 'h', 'A\n\t\\'],
      ['ECHO', ''],
    ]);
    expect(parseAll(Buffer.from('SET q "open\r\n'), []).error).to.equal(
      'ERR Protocol error: unbalanced quotes in request',
    );
    expect(parseAll(Buffer.from('SET q "a"b\r\n'), []).error).to.equal(
      'ERR Protocol error: unbalanced quotes in request',
    );
  });
});

describe('lab5 recorded Redis replies', function () {
  this.timeout(120_000);
  it('lab5/test/redis-replies.json is what redis-server replies today (re-recorded when redis-server is installed)', async function () {
    const binary = redisServerPath();
    if (binary === undefined) {
      console.log(
        '      skipped: redis-server is not installed (apt-get install -y redis-server), so the recording cannot be checked',
      );
      this.skip();
    }
    const redis = await startRedis(binary!);
    try {
      // Another Redis release may answer differently on purpose: that is a new recording to review, not a stale one.
      const release = (v: string): string => /v=(\d+\.\d+)/.exec(v)?.[1] ?? v;
      const recorded = loadCorpus().redis;
      if (release(redis.version) !== release(recorded)) {
        console.log(
          `      skipped: the installed redis-server is ${redis.version}, the recording is of ${recorded}; re-record on purpose and review the differences`,
        );
        this.skip();
      }
      const fresh = serialise(await record(redis.port, redis.version));
      const stale = fs.readFileSync(CORPUS_FILE, 'latin1') !== fresh;
      expect(
        stale,
        `the recording is stale (${redis.version}): run node -r ts-node/register/transpile-only instructor/redis-record.ts, and check the reference still passes TestRedisReplies`,
      ).to.equal(false);
    } finally {
      await redis.stop();
    }
  });
});

describe('lab5 suite', function () {
  this.timeout(120_000);
  itChecksScoring(suite);
  itChecksHandoutTable(suite, path.join(__dirname, '..', '..', '..', 'lab5'));

  it('skeleton fails every test with a message pointing at the handout', async () => {
    const skeleton = suite.load(SKELETON_DIR);
    for (const test of suite.tests) {
      const outcome = await runNamedTest(test, skeleton, 1);
      expect(outcome.status, test.name).to.equal('failed');
      expect(outcome.message, test.name).to.match(/TODO/);
    }
  });

  it('a failing real-time test counts its operations and carries the transcript its page draws', async () => {
    const mutant = mutants.find((m) => m.name === 'utf8-replies') as Mutant;
    const dir = materialiseMutant(SOLUTION_DIR, mutant);
    try {
      const test = suite.tests.find((t) => t.name === 'TestSetGetDel')!;
      const outcome = await runNamedTest(test, suite.load(dir), 1);
      expect(outcome.status).to.equal('failed');
      expect(
        outcome.ops,
        'each reply the test got is one operation (before, a failed real-time test said 0)',
      ).to.be.greaterThan(3);
      const trace = outcome.trace!;
      expect(trace.clock).to.equal('real');
      const calls = trace.events.filter((e) => e.k === 'call');
      expect(calls.length).to.be.at.least(outcome.ops - 1);
      expect(calls[0]).to.deep.include({ from: 'connection 1' });
      expect((calls[0] as { to: string }).to).to.match(/^server :\d+$/);
      expect(calls.map((c) => (c as { method: string }).method)).to.include('SET');
      expect(trace.events.filter((e) => e.k === 'reply').length).to.equal(outcome.ops);
      expect(trace.events[trace.events.length - 1]).to.deep.include({ k: 'fail' });
      const page = tracePage({
        lab: 'lab5',
        target: 'solution',
        description: test.description,
        run: { ...outcome, output: '', trace },
      });
      expect(page)
        .to.contain('the failing run’s transcript')
        .and.contain('--test TestSetGetDel')
        .and.not.contain('--seed');
    } finally {
      removeMutant(dir);
    }
  });
});
