/**
 * Runs lab 5's code under test in a process of its own, for one test: the harness never loads it. Puts the process
 * in the sandbox's shape (in a hardened compartment when the grader starts it, as the test process used to), with
 * the kit's socket-write hook in place first (host-spies.ts) and every fs call routed through the spies' table
 * (grader/fs-facade.ts; the code under test gets a facade of fs when isolated), then serves the harness's requests (host-protocol.ts)
 * over one TCP connection on 127.0.0.1, signing every line it sends with the key from its command line. The code
 * under test loads at the harness's 'load' request, after any spies the test installs.
 * Usage: node -r ./grader/register.js lab5/test/student-host.ts <impl dir> compartment|node <key>
 * Prints "LAB5-HOST <port>" once it listens; exits when that connection closes.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { NODE_MODULES } from '../load';
import type { Lab5Impl } from './harness';
import { Dispatcher, type Loaded } from './host-dispatch';
import { routeFileSystem } from '../../grader/fs-facade';
import { READY_PREFIX, lineReader, parsed, signedLine, signingKey, type HostMessage } from './host-protocol';
import { hookSocketWrites } from './host-spies';
import { toWireError } from './host-values';

/** Loads the code under test (through the compartment's loader once isolated). */
function loadCode(dir: string): Loaded {
  try {
    const { load } = require('../load') as { load: (dir: string) => Lab5Impl };
    return { impl: load(dir) };
  } catch (error) {
    return { error };
  }
}

/** A Timeout as node keeps it: `_destroyed` once it fired or was cleared, and its delay (an interval's period), ms. */
interface NodeTimeout {
  readonly _destroyed?: boolean;
  readonly _idleTimeout?: number;
}

/**
 * Notes every Timeout made through the global setTimeout and setInterval from now on (the kit's own checks of the
 * reference, which load the code without a compartment), and returns the delay of each one still live, ms.
 */
function timeoutsMadeFromNow(): () => number[] {
  const made = new Set<NodeTimeout>();
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const real = globalThis[name] as (...args: unknown[]) => NodeTimeout;
    const noting = (...args: unknown[]): NodeTimeout => {
      const t = real(...args);
      made.add(t);
      return t;
    };
    Object.assign(noting, real); // util.promisify's custom form, as node's own has it
    (globalThis as Record<string, unknown>)[name] = noting;
  }
  return () => {
    const delays: number[] = [];
    for (const t of made) {
      if (t._destroyed === true) made.delete(t);
      else delays.push(t._idleTimeout ?? 0);
    }
    return delays;
  };
}

/**
 * The delay of each live timer the code under test set, ms (set, and neither fired nor cleared; unref'd ones too):
 * in the compartment, exactly those it made; without it (the kit's own checks of the reference), those made through
 * the globals once this host started.
 */
function liveTimers(mode: string | undefined): () => number[] {
  if (mode === 'compartment') {
    const { liveCodeTimers } = require('../../grader/endowments') as typeof import('../../grader/endowments');
    return liveCodeTimers;
  }
  return timeoutsMadeFromNow();
}

function main(): void {
  const [dir, mode, hex] = process.argv.slice(2);
  process.argv.length = Math.min(process.argv.length, 4); // the key stays in this closure only
  if (!/^[0-9a-f]{64}$/.test(hex ?? '')) {
    process.stderr.write('student-host.ts: no signing key given.\n');
    process.exit(2);
  }
  const key = signingKey(hex);
  const implDir = path.resolve(dir);
  hookSocketWrites();
  routeFileSystem();
  if (mode === 'compartment') {
    const { isolateCodeUnderTest } = require('../../grader/isolate') as typeof import('../../grader/isolate');
    isolateCodeUnderTest({ implDir, labDir: path.join(__dirname, '..'), nodeModules: NODE_MODULES });
  }
  let channel: net.Socket | undefined;
  let sent = 0;
  const line = (msg: HostMessage): string => signedLine(key, sent++, msg);
  const send = (msg: HostMessage): void => {
    if (channel && !channel.destroyed) channel.write(line(msg));
  };
  const dispatcher = new Dispatcher(() => loadCode(implDir), send, liveTimers(mode));
  const crash = (kind: 'uncaught' | 'unhandled-rejection') => (e: unknown) => {
    setTimeout(() => process.exit(1), 1000).unref();
    if (channel && !channel.destroyed)
      channel.end(line({ event: 'crash', kind, error: toWireError(e) }), () => process.exit(1));
    else process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught'));
  process.on('unhandledRejection', crash('unhandled-rejection'));
  const listener = net.createServer((socket) => {
    listener.close(); // one harness, one connection
    if (channel) return void socket.destroy();
    channel = socket;
    socket.setNoDelay(true);
    socket.on(
      'data',
      lineReader(
        (text) => dispatcher.handle(parsed(text)),
        () => socket.destroy(),
      ),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => process.exit(0));
  });
  listener.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${READY_PREFIX}${(listener.address() as net.AddressInfo).port}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main();
