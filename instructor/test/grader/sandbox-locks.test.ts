/** The sandbox's locks on node itself: a test's process may signal only itself, and code that gets lab 5's net or fs cannot patch node's emitter and stream prototypes (each checked in a child process, as the lock is for good). */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { prepareSandbox } from '../../../grader/sandbox';

const GRADER = path.join(__dirname, '..', '..', '..', 'grader');

/** Runs `code` in a fresh node (with the kit's loader, grader/register.js, for its TypeScript) and returns what it printed. */
function inChild(code: string): string {
  const r = spawnSync(process.execPath, ['-r', './grader/register.js', '-e', code], {
    cwd: path.join(GRADER, '..'),
    encoding: 'utf8',
    timeout: 20_000, // a patched emit can leave the child waiting for an event that never comes
  });
  if (r.status !== 0) throw new Error(`the child failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

describe('grader: the sandbox’s locks on node', function () {
  this.timeout(60_000);

  it('lets a test’s process signal only itself, for good (red team: SIGSTOP to the grader hung it)', () => {
    const out = inChild(`
      require('./grader/sandbox-process.js').lockSignals();
      const tried = [];
      for (const name of ['kill', '_kill']) {
        try { process[name](process.ppid, 0); tried.push(name + ' allowed'); } catch (e) { tried.push(name + ' refused'); }
      }
      try { process.kill = () => true; } catch {}
      try { Object.defineProperty(process, 'kill', { value: () => true }); tried.push('redefined'); } catch { tried.push('kept'); }
      tried.push(String(process.kill(process.pid, 0)));
      console.log(tried.join(', '));
    `);
    expect(out).to.equal('kill refused, _kill refused, kept, true');
  });

  it('keeps EventEmitter’s emit out of reach once lab 5 code gets net, while emitters still set their own properties (red team: a patched emit caught process)', () => {
    const out = inChild(`
      const { lockNodePrototypes } = require('./grader/node-prototypes.ts');
      const { EventEmitter } = require('node:events');
      const emit = EventEmitter.prototype.emit;
      lockNodePrototypes('emitters');
      const seen = [];
      try { EventEmitter.prototype.emit = function () { seen.push(this); }; } catch {}
      try { Object.defineProperty(EventEmitter.prototype, 'emit', { value: () => 0 }); } catch {}
      try { EventEmitter.init = () => 0; } catch {}
      const e = new EventEmitter();
      e.on('x', () => seen.push('handled'));
      e.emit('x');
      e.emit = () => 'own';
      console.log([EventEmitter.prototype.emit === emit, seen.join('+'), e.emit(), process.stdout.write !== undefined].join(' '));
    `);
    expect(out).to.equal('true handled own true');
  });

  it("in the student host also locks node's stream, socket and server prototypes, and sockets still work", () => {
    const out = inChild(`
      const { lockNodePrototypes } = require('./grader/node-prototypes.ts');
      const net = require('node:net');
      const write = net.Socket.prototype.write;
      lockNodePrototypes('all');
      try { net.Socket.prototype.write = () => true; } catch {}
      const server = net.createServer((s) => s.on('data', (d) => { s.write('echo:' + d); s.end(); }));
      server.listen(0, '127.0.0.1', () => {
        const c = net.connect(server.address().port, '127.0.0.1', () => c.write('hi'));
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('end', () => { console.log([net.Socket.prototype.write === write, got].join(' ')); server.close(); });
      });
    `);
    expect(out).to.equal('true echo:hi');
  });

  it("in the student host locks a socket handle's write functions, a timer's and a stream state's prototypes one by one, the socket-write spy sees every write path, and sockets still work (red team: a replaced writeLatin1String hid replies and read the kit's channel)", () => {
    const out = inChild(`
      const { hookSocketWrites, onSocketWrites } = require('./lab5/test/host-spies.ts');
      const { lockNodePrototypes, tcpHandlePrototypes } = require('./grader/node-prototypes.ts');
      const net = require('node:net');
      const { Writable } = require('node:stream');
      hookSocketWrites();
      lockNodePrototypes('all');
      const { stream } = tcpHandlePrototypes();
      const timer = Object.getPrototypeOf(setTimeout(() => 0, 0));
      const state = Object.getPrototypeOf(new Writable()._writableState);
      const kept = [];
      for (const [owner, name] of [[stream, 'writeLatin1String'], [stream, 'writev'], [stream, 'readStart'], [timer, 'refresh'], [state, 'ended']]) {
        const before = Object.getOwnPropertyDescriptor(owner, name);
        try { owner[name] = () => 0; } catch {}
        try { Object.defineProperty(owner, name, { value: () => 0 }); } catch {}
        const after = Object.getOwnPropertyDescriptor(owner, name);
        kept.push(before.value === after.value && before.get === after.get);
      }
      const seen = [];
      onSocketWrites({ before: (ends) => { if (ends.localPort === server.address().port) seen.push(ends.remotePort); } });
      const server = net.createServer((s) => s.on('data', (d) => {
        Writable.prototype.write.call(s, 'a:' + d);
        s._write(Buffer.from(','), 'buffer', () => 0);
        s.write('');
        s.end('z');
      }));
      server.listen(0, '127.0.0.1', () => {
        const c = net.connect(server.address().port, '127.0.0.1', () => c.write('hi'));
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('end', () => { console.log([kept.join(','), got, seen.length >= 3].join(' ')); server.close(); });
      });
    `);
    expect(out).to.equal('true,true,true,true,true a:hi,z true');
  });

  it('gives processes that run code under test zeroed memory from Buffer.allocUnsafe (red team: it handed out unzeroed memory)', () => {
    const suitePath = path.join(GRADER, '..', 'lab5', 'test', 'suite.ts');
    const sandbox = prepareSandbox(
      { suitePath, implDir: path.join(GRADER, '..', 'solutions', 'lab5') },
      { heapLimitMb: 256 },
    );
    try {
      const code = `
        for (let i = 0; i < 64; i++) Buffer.from('x'.repeat(4000) + i).toString();
        const seen = [Buffer.allocUnsafe(64), Buffer.allocUnsafe(100000), Buffer.allocUnsafeSlow(64)];
        console.log(seen.every((b) => b.every((x) => x === 0)));`;
      const r = spawnSync(process.execPath, [...sandbox.execArgv, '-e', code], {
        encoding: 'utf8',
        env: { ...sandbox.env },
      });
      expect(r.stdout.trim(), r.stderr).to.equal('true');
    } finally {
      sandbox.dispose();
    }
  });
});
