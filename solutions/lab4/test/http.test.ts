/**
 * labrpc/http: a labrpc Server served over real HTTP and called through HttpEnd. Lives here (not in
 * instructor/test/labrpc/) because .mocharc.json's spec globs do not include labrpc/http/test.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RpcUsageError, Server, TimeoutError } from '../../../labrpc';
import { HttpEnd, HttpError, RemoteError, RpcHttpHost, keepAliveAgent } from '../../../labrpc/http';

class Echo {
  calls = 0;
  Echo(args: { text: string }): { text: string; n: number } {
    this.calls++;
    return { text: args.text, n: this.calls };
  }
  async Slow(args: { ms: number }): Promise<string> {
    await new Promise((r) => setTimeout(r, args.ms));
    return 'done';
  }
  Crash(): never {
    throw new Error('boom');
  }
  Refuse(): never {
    throw new HttpError(422, 'not acceptable input');
  }
  Nothing(): void {
    return undefined;
  }
}

/** A raw request, to send what HttpEnd never would. */
function raw(
  url: string,
  method: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: { error?: string } }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string },
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('labrpc/http', function () {
  this.timeout(20_000);
  let host: RpcHttpHost;
  let echo: Echo;
  const ends: HttpEnd[] = [];
  const end = (options?: ConstructorParameters<typeof HttpEnd>[1]): HttpEnd => {
    const e = new HttpEnd(host.url, options);
    ends.push(e);
    return e;
  };

  beforeEach(async () => {
    echo = new Echo();
    host = new RpcHttpHost(new Server().addService(echo, 'Echo'), { maxBodyBytes: 1024 });
    await host.listen(0);
  });

  afterEach(async () => {
    for (const e of ends.splice(0)) e.close();
    await host.close();
  });

  it('calls a handler and returns its reply; counts calls on the Server', async () => {
    const e = end();
    expect(await e.call('Echo.Echo', { text: 'hi' })).to.deep.equal({ text: 'hi', n: 1 });
    expect(await e.call('Echo.Echo', { text: 'again' })).to.deep.equal({ text: 'again', n: 2 });
    expect(await e.call('Echo.Nothing')).to.equal(null);
    expect(host.server.count).to.equal(3);
  });

  it('reuses one keep-alive connection for sequential calls', async () => {
    const agent = keepAliveAgent(4);
    const e = end({ agent });
    let connections = 0;
    host.http.on('connection', () => connections++);
    for (let i = 0; i < 50; i++) await e.call('Echo.Echo', { text: String(i) });
    expect(connections).to.equal(1);
    agent.destroy();
  });

  it('handles many concurrent calls', async () => {
    // 200 calls at once: each may wait well past the default 1 s on a busy machine; this test is about answers, not speed.
    const e = end({ timeoutMs: 20_000 });
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => e.call<{ text: string }>('Echo.Echo', { text: String(i) })),
    );
    expect(replies.map((r) => r.text)).to.deep.equal(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('rejects with TimeoutError when nothing listens', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const e = new HttpEnd(`http://127.0.0.1:${port}`);
    ends.push(e);
    const err = await e.call('Echo.Echo', { text: 'x' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).to.be.instanceOf(TimeoutError);
  });

  it('rejects with TimeoutError when the reply is late', async () => {
    const e = end({ timeoutMs: 50 });
    const err = await e.call('Echo.Slow', { ms: 500 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).to.be.instanceOf(TimeoutError);
    expect(await e.call('Echo.Slow', { ms: 1 })).to.equal('done'); // the end still works afterwards
  });

  it('rejects with RpcUsageError naming the methods for an unknown method', async () => {
    const err = await end()
      .call('Echo.Nope', {})
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect(err).to.be.instanceOf(RpcUsageError);
    expect((err as Error).message).to.match(/Echo\.Echo/);
  });

  it('rejects with RemoteError 500 when a handler crashes, and a handler HttpError keeps its status', async () => {
    const crash = await end()
      .call('Echo.Crash', {})
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect(crash).to.be.instanceOf(RemoteError);
    expect((crash as RemoteError).status).to.equal(500);
    expect((crash as Error).message).to.match(/boom/);
    const refused = await end()
      .call('Echo.Refuse', {})
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect((refused as RemoteError).status).to.equal(422);
  });

  it('answers bad requests with a 4xx and a JSON error, and keeps serving', async () => {
    expect((await raw(host.url, 'POST', '/rpc/Echo.Echo', '{"text":')).status).to.equal(400);
    expect((await raw(host.url, 'GET', '/rpc/Echo.Echo', '')).status).to.equal(405);
    expect((await raw(host.url, 'POST', '/elsewhere', '{}')).status).to.equal(404);
    const badPath = await raw(host.url, 'POST', '/rpc/Echo.%E0%A4%A', '{}');
    expect([badPath.status, badPath.json.error]).to.deep.equal([
      400,
      'the method name in the path is not valid percent-encoding: /rpc/Echo.%E0%A4%A',
    ]);
    const big = await raw(host.url, 'POST', '/rpc/Echo.Echo', JSON.stringify({ text: 'x'.repeat(5000) }));
    expect(big.status).to.equal(413);
    expect(big.json.error).to.match(/limit/);
    expect(await end().call('Echo.Echo', { text: 'still up' })).to.deep.equal({ text: 'still up', n: 1 });
  });

  it('cuts off a request whose body stalls (408, connection closed) within requestTimeoutMs, and keeps serving', async function () {
    const slow = new RpcHttpHost(new Server().addService(new Echo(), 'Echo'), { requestTimeoutMs: 300 });
    const at = await slow.listen();
    try {
      const started = Date.now();
      const outcome = await new Promise<string>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: at.port,
            method: 'POST',
            path: '/rpc/Echo.Echo',
            headers: { 'content-length': '100000' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(`status ${res.statusCode}`));
          },
        );
        req.on('error', () => resolve('closed'));
        req.write('{"text": "'); // and never the rest
      });
      expect(outcome).to.be.oneOf(['status 408', 'closed']);
      expect(Date.now() - started, "cut off near the limit, not after Node's 5-minute default").to.be.below(5_000);
      expect(await new HttpEnd(slow.url, { timeoutMs: 2000 }).call('Echo.Echo', { text: 'next' })).to.deep.equal({
        text: 'next',
        n: 1,
      });
    } finally {
      await slow.close();
    }
  });

  it('refuses arguments that are not JSON', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const err = await end()
      .call('Echo.Echo', cyclic)
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect(err).to.be.instanceOf(RpcUsageError);
  });
});
