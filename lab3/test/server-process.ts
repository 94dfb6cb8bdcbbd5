/**
 * Runs lab 3 servers (the code under test's KVServer behind labrpc's RpcHttpHost) in a process of their own, for
 * TestRealLateStart: server `me` of each level's cluster, so a cluster's servers are in different processes and the
 * test process never loads the code. Loads it from a folder (in a hardened compartment when the grader starts this,
 * as the test process does), then serves HTTP on 127.0.0.1, each server reaching its cluster's peers (itself
 * included) with HttpEnd, as `npm run lab3 -- CONFIG --real` does (lab3/tools/real-server.ts). Every peer call goes
 * through the tester's pacing and re-send watches (the handout's RESEND_MS and RESEND_WITHIN_MS, lab3/test/resend.ts),
 * which the test asks for their findings at the end with the call LabTester.Findings (PACING_SERVICE) on each server's
 * port.
 * Usage: node -r ./grader/register.js lab3/test/server-process.ts <impl dir> compartment|node '<ServerProcessSettings JSON>'
 * Prints "LAB3-SERVER <port>" once every server listens; exits when its parent goes away (stdin closes).
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { die, readyLine, startKitScript } from '../../suite/kit-script';
import { PORT_TAKEN_EXIT_CODE } from '../../suite/server-process';
import { PacingWatch } from '../../suite/monitors/pacing';
import { RealCallBook } from '../../suite/monitors/real';
import { ResendWatch } from '../../suite/monitors/resend';
import { PEER_PACING, PEER_RESEND } from './resend';
import type { ConsistencyLevel } from '../rpc';

/** One cluster this process has a server in. */
export interface ProcessCluster {
  readonly level: ConsistencyLevel;
  /** Every server's base URL, this process's at `me` (its server listens on that port). */
  readonly urls: readonly string[];
}

/** What the test asks of one process. */
export interface ServerProcessSettings {
  /** The servers' index in their clusters. */
  readonly me: number;
  readonly clusters: readonly ProcessCluster[];
  /** A peer call's own timeout, ms. */
  readonly peerTimeoutMs: number;
  /** A late process: its servers start (constructor, then listening) `ms` after every one of `after` listens. */
  readonly late?: { readonly after: readonly string[]; readonly ms: number };
}

/** The line this process prints once its servers listen, followed by the first one's port. */
export const SERVER_READY_PREFIX = 'LAB3-SERVER ';

/** The service beside each KVServer that reports what the pacing and re-send watches found: LabTester.Findings. */
export const PACING_SERVICE = 'LabTester';

/** The reply of LabTester.Findings. */
export interface PacingFindings {
  /** What broke the pacing or the re-send rule, in a few lines, or "" when nothing did. */
  readonly findings: string;
  /** How long until the oldest failed call not sent again yet runs out of time, ms (0: none waits). */
  readonly waitMs: number;
}

/**
 * How much sooner than RESEND_MS a real re-send may come and still count, ms: Node's timers count whole
 * milliseconds, so a correct setTimeout(fn, RESEND_MS) can fire up to about 1 ms before RESEND_MS by the process clock.
 */
const REAL_SLACK_MS = 5;

/** How often a late process tries the others' ports, ms. */
const PROBE_MS = 10;

/** Resolves once something accepts a TCP connection at `url` (tried every PROBE_MS). */
async function acceptsConnections(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(Number(port), hostname);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, PROBE_MS));
  }
}

async function main(): Promise<void> {
  const { dir, settings, nonce } = startKitScript<ServerProcessSettings>(
    'lab 3',
    path.join(__dirname, '..'),
    (s) => `server ${s.me} of each level's cluster (${s.clusters.map((c) => c.level).join(', ')})`,
  );
  const { load } = require('../load') as typeof import('../load');
  const { Server } = require('../../labrpc') as typeof import('../../labrpc');
  const { HttpEnd, RpcHttpHost } = require('../../labrpc/http') as typeof import('../../labrpc/http');
  const impl = load(dir);
  try {
    if (typeof impl.KVServer !== 'function') throw new Error('lab3/server.ts does not export the class KVServer');
  } catch (err) {
    die(`Your KVServer could not be loaded (server ${settings.me})`, err);
  }
  if (settings.late) {
    await Promise.all(settings.late.after.map(acceptsConnections));
    await new Promise((resolve) => setTimeout(resolve, settings.late?.ms));
  }
  const hosts = settings.clusters.map(({ level, urls }) => {
    try {
      const pacing = new PacingWatch(PEER_PACING, REAL_SLACK_MS);
      const resend = new ResendWatch(PEER_RESEND);
      const book = new RealCallBook([pacing, resend]);
      const name = (j: number): string => `server ${j} (${level})`;
      const peers = urls.map((u, j) =>
        book.end(
          new HttpEnd(u, { timeoutMs: settings.peerTimeoutMs, name: `server ${j}` }),
          name(settings.me),
          name(j),
        ),
      );
      const findings = {
        Findings: (): PacingFindings => {
          const now = book.now();
          const found = [pacing.finding(), resend.finding(now)].filter((f) => f !== undefined);
          return { findings: found.join('\n'), waitMs: resend.waitLeft(now) };
        },
      };
      const server = new Server()
        .addService(new impl.KVServer({ me: settings.me, peers, level }), 'KVServer')
        .addService(findings, PACING_SERVICE);
      return { host: new RpcHttpHost(server), port: Number(new URL(urls[settings.me]).port) };
    } catch (err) {
      die(`Your KVServer could not be constructed (server ${settings.me} (${level}))`, err);
    }
  });
  const addresses = await Promise.all(hosts.map(({ host, port }) => host.listen(port))).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`A port chosen for this process was taken by another program: ${String(err)}\n`);
      process.exit(PORT_TAKEN_EXIT_CODE);
    }
    throw err;
  });
  process.stdout.write(readyLine(SERVER_READY_PREFIX, nonce, addresses[0].port));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// Only as a script: the test's side (real.ts) imports this file's settings type and ready line.
if (require.main === module) main().catch((err: unknown) => die('The server process failed', err));
