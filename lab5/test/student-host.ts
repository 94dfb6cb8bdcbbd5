/**
 * Runs lab 5's code under test in a process of its own, for one test: the harness never loads it. Loads the code
 * from a folder (in a hardened compartment when the grader starts it, as the test process used to), then serves
 * the harness's requests (host-protocol.ts) over one TCP connection on 127.0.0.1.
 * Usage: node -r ts-node/register/transpile-only lab5/test/student-host.ts <impl dir> compartment|node
 * Prints "LAB5-HOST <port>" once it listens; exits when that connection closes.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import type { Lab5Impl } from './harness';
import { Dispatcher, type Loaded } from './host-dispatch';
import { READY_PREFIX, frame, lineReader, type HostMessage } from './host-protocol';
import { toWireError } from './host-values';

/** The node modules lab 5's code may import (as the suite declares). */
const NODE_MODULES = ['net', 'fs', 'path', 'crypto'] as const;

/** Loads the code under test; in a compartment, the realm is locked down first, as in the grader's test process. */
function loadCode(dir: string, isolated: boolean): Loaded {
  try {
    if (isolated) {
      const { isolateCodeUnderTest } = require('../../grader/isolate') as typeof import('../../grader/isolate');
      isolateCodeUnderTest({ implDir: dir, labDir: path.join(__dirname, '..'), nodeModules: NODE_MODULES });
    }
    const { load } = require('../load') as { load: (dir: string) => Lab5Impl };
    return { impl: load(dir) };
  } catch (error) {
    return { error };
  }
}

function main(): void {
  const [dir, mode] = process.argv.slice(2);
  const loaded = loadCode(path.resolve(dir), mode === 'compartment');
  let channel: net.Socket | undefined;
  const send = (msg: HostMessage): void => void channel?.write(frame(msg));
  const dispatcher = new Dispatcher(loaded, send);
  const crash = (kind: 'uncaught' | 'unhandled-rejection') => (e: unknown) => {
    const msg = frame({ event: 'crash', kind, error: toWireError(e) });
    setTimeout(() => process.exit(1), 1000).unref();
    if (channel && !channel.destroyed) channel.end(msg, () => process.exit(1));
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
        (req) => dispatcher.handle(req),
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
