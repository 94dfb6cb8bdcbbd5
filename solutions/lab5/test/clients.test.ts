/** The kit's checks that ordinary Redis clients work against the reference lab 5: node-redis, redis-py's bytes, redis-benchmark. */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { createClient } from 'redis';
import { startServer } from '../server';
import { encodeCommand, RespError, RespReply } from '../../../lab5/resp';
import type { RunningServer } from '../../../lab5/types';
import { RawClient } from '../../../lab5/test/harness';

/** A connection to the server as the test's own client. */
async function connect(port: number): Promise<RawClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return new RawClient(socket);
}

/** Sends `commands` in one write, as a client that packs a batch does, and reads one reply per command. */
async function packed(c: RawClient, commands: Array<Array<string | number>>): Promise<RespReply[]> {
  c.sendRaw(Buffer.concat(commands.map((args) => encodeCommand(args))));
  const out: RespReply[] = [];
  for (const args of commands) out.push(await c.reply(args.join(' ')));
  return out;
}

describe('lab5 with ordinary clients (reference solution)', function () {
  this.timeout(30_000);
  let server: RunningServer;
  beforeEach(async () => {
    server = await startServer({ port: 0 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('node-redis 5: its ordinary calls, multi().exec(), scanIterator with MATCH and COUNT, and a pipeline', async () => {
    const client = createClient({ socket: { host: '127.0.0.1', port: server.port, reconnectStrategy: false } });
    const errors: Error[] = [];
    client.on('error', (e: Error) => errors.push(e));
    await client.connect();
    try {
      expect(await client.set('greeting', 'hello')).to.equal('OK');
      expect(await client.get('greeting')).to.equal('hello');
      expect(await client.set('temp', 'v', { EX: 100 })).to.equal('OK');
      expect(await client.expire('greeting', 200)).to.equal(1);
      expect(await client.ttl('greeting')).to.be.within(198, 200);
      expect(await client.ttl('temp')).to.be.within(98, 100);
      expect((await client.keys('*')).sort()).to.deep.equal(['greeting', 'temp']);
      expect(await client.del(['temp', 'missing'])).to.equal(1);
      expect(await client.get('temp')).to.equal(null);

      expect(await client.incr('n')).to.equal(1);
      expect(await client.incrBy('n', 41)).to.equal(42);
      expect(await client.decr('n')).to.equal(41);
      expect(await client.decrBy('n', 40)).to.equal(1);

      expect(await client.multi().set('tx', '9').incr('tx').get('tx').exec()).to.deep.equal(['OK', 10, '10']);
      expect(await client.get('tx')).to.equal('10');
      // A command refused while queuing aborts the whole transaction: node-redis rejects (with the refusal), nothing ran.
      const aborted = await client
        .multi()
        .set('tx', 'lost')
        .addCommand(['NOSUCHCOMMAND'])
        .exec()
        .catch((e: Error) => e);
      expect(aborted).to.be.instanceOf(Error);
      expect(String((aborted as Error).message)).to.match(/unknown command 'NOSUCHCOMMAND'|EXECABORT/);
      expect(await client.get('tx')).to.equal('10');

      const made = new Set<string>();
      for (let i = 0; i < 300; i++) made.add(`scan:${i}`);
      await Promise.all([...made].map((k) => client.set(k, 'v'))); // node-redis pipelines concurrent calls
      const seen: string[] = [];
      for await (const keys of client.scanIterator({ MATCH: 'scan:*', COUNT: 17 })) seen.push(...keys);
      expect(seen.length, 'every key exactly once').to.equal(made.size);
      expect(new Set(seen)).to.deep.equal(made);

      // multi().execAsPipeline(): the commands sent together, without MULTI/EXEC.
      expect(await client.multi().set('p', '1').incr('p').get('p').execAsPipeline()).to.deep.equal(['OK', 2, '2']);
      expect(errors).to.deep.equal([]);
    } finally {
      client.destroy();
    }
  });

  /*
   * redis-py 4.x and 5.x cannot be installed here (no PyPI), so this test writes the bytes they send. The shapes are
   * facts about how those releases behave on the wire (none of their code is reproduced here):
   * - every command is an array of bulk strings, with the name as the caller wrote it in upper case;
   * - `pipeline()` is transactional by default: `execute()` packs MULTI, the queued commands and EXEC and sends
   *   them in one write, then reads +OK, one +QUEUED (or an error) per command, then EXEC's array;
   *   `pipeline(transaction=False)` sends the commands alone, also in one write;
   * - `incr(name)` sends INCRBY name 1 (amount defaults to 1), `decr(name)` sends DECRBY name 1;
   * - `scan_iter(match=p, count=n)` sends SCAN cursor MATCH p COUNT n, starting at cursor 0, until a reply's cursor is 0;
   * - redis-py 5 announces itself on connecting with CLIENT SETINFO LIB-NAME redis-py and CLIENT SETINFO LIB-VER
   *   <version>, and ignores an error reply to either.
   */
  it("redis-py's bytes: CLIENT SETINFO, pipeline() as MULTI…EXEC in one write, incr as INCRBY k 1, scan_iter's SCAN", async () => {
    const c = await connect(server.port);
    try {
      expect(await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'redis-py')).to.equal('OK');
      expect(await c.call('CLIENT', 'SETINFO', 'LIB-VER', '5.0.8')).to.equal('OK');
      // r.pipeline().set('a', '1').incr('a').get('a').execute()
      expect(await packed(c, [['MULTI'], ['SET', 'a', '1'], ['INCRBY', 'a', 1], ['GET', 'a'], ['EXEC']])).to.deep.equal(
        ['OK', 'QUEUED', 'QUEUED', 'QUEUED', ['OK', 2, '2']],
      );
      // A run-time error is one element of EXEC's array (redis-py raises it after reading the array).
      const runtime = await packed(c, [['MULTI'], ['SET', 'w', 'word'], ['INCRBY', 'w', 1], ['EXEC']]);
      const results = runtime[3] as RespReply[];
      expect(results[0]).to.equal('OK');
      expect(results[1]).to.be.instanceOf(RespError);
      // r.pipeline(transaction=False)
      expect(
        await packed(c, [
          ['SET', 'b', '5'],
          ['DECRBY', 'b', 1],
          ['GET', 'b'],
        ]),
      ).to.deep.equal(['OK', 4, '4']);
      // r.incr('n'), r.decr('n')
      expect(await c.call('INCRBY', 'n', 1)).to.equal(1);
      expect(await c.call('DECRBY', 'n', 1)).to.equal(0);
      // r.set('t', 'v', ex=100), r.expire, r.ttl, r.keys, r.delete
      expect(await c.call('SET', 't', 'v', 'EX', 100)).to.equal('OK');
      expect(await c.call('EXPIRE', 't', 50)).to.equal(1);
      expect(await c.call('TTL', 't')).to.be.within(49, 50);
      expect(((await c.call('KEYS', 't*')) as string[]).sort()).to.deep.equal(['t']);
      expect(await c.call('DEL', 't', 'missing')).to.equal(1);
      // list(r.scan_iter(match='u:*', count=7))
      const made = new Set<string>();
      for (let i = 0; i < 100; i++) made.add(`u:${i}`);
      await packed(
        c,
        [...made].map((k) => ['SET', k, 'v']),
      );
      const seen: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = (await c.call('SCAN', cursor, 'MATCH', 'u:*', 'COUNT', 7)) as [string, string[]];
        seen.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.length, 'every key exactly once').to.equal(made.size);
      expect(new Set(seen)).to.deep.equal(made);
    } finally {
      c.close();
    }
  });

  it('redis-benchmark -t ping,set,get,incr (the commands lab 5 has) runs without an error, one at a time and pipelined', async function () {
    if (spawnSync('redis-benchmark', ['--version']).status !== 0) {
      console.log('      skipped: redis-benchmark is not installed (apt-get install -y redis-tools)');
      this.skip();
    }
    for (const pipeline of ['1', '16']) {
      const args = ['-h', '127.0.0.1', '-p', String(server.port), '-q', '--csv', '-n', '3000', '-c', '10'];
      args.push('-r', '1000', '-P', pipeline, '-t', 'ping,set,get,incr');
      const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      const what = `redis-benchmark ${args.join(' ')}:\n${out}`;
      expect(code, what).to.equal(0);
      expect(out, what).not.to.match(/Error/i);
      for (const test of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR'])
        expect(out, what).to.match(new RegExp(`^"${test}","[1-9]`, 'm'));
    }
  });
});
