/** How the tests, the tools and the demo load lab 5's code from a folder: yours (lab5/) or the reference solution. */
import * as path from 'node:path';
import { codeLoader, isolatedLoader, type MachineGrants } from '../suite/loader';
import { machineClass, machineFunction } from '../suite/machines';
import type { Lab5Impl } from './test/harness';

/** The node modules lab 5's code may import (the suite's `nodeModules`, and what its processes give the code). */
export const NODE_MODULES = ['net', 'fs', 'path', 'crypto'] as const;

/** The files of the folder that hold the code under test (what the grader type-checks and batch grading takes from a submission). */
export const IMPL_FILES = ['server.ts', 'persistence.ts', 'client.ts'] as const;

/** A whole-number port in 1-65535, or undefined. */
function portIn(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536 ? (value as number) : undefined;
}

/**
 * What a server started with `startServer(options)` may reach: it listens on its own port (or any free one), dials
 * none, and has the files of its data folder (when it has one).
 */
function serverGrants(args: readonly unknown[]): MachineGrants {
  const options = args[0] as { port?: unknown; dataDir?: unknown } | undefined;
  const port = portIn(options?.port);
  const folder = typeof options?.dataDir === 'string' && options.dataDir !== '' ? options.dataDir : undefined;
  return { connect: [], listen: port === undefined ? [] : [port], folder, what: 'a server' };
}

/** What a client made with `new ShardedClient(servers, options)` may reach: its servers' ports; no listening, no files. */
function clientGrants(args: readonly unknown[]): MachineGrants {
  const servers = Array.isArray(args[0]) ? (args[0] as unknown[]) : [];
  const ports = servers.map((s) => portIn((s as { port?: unknown } | null)?.port)).filter((p) => p !== undefined);
  return { connect: ports, listen: [], what: 'a client' };
}

/** What the copy that md5Shard and HashRing come from may reach: nothing (they compute). */
const SHARED_GRANTS: MachineGrants = { connect: [], listen: [], what: 'code outside a server or client' };

/** Lab 5's code from `dir` (absolute), ready for a test or a tool. */
export function load(dir: string): Lab5Impl {
  const loader = codeLoader();
  const serverFile = path.join(dir, 'server.ts');
  const clientFile = path.join(dir, 'client.ts');
  // Each server started and each client made is a machine of its own (a fresh copy of the modules), whose network
  // is only its own: a server listens on its port and dials nothing, a client dials its servers. So a client that
  // shared a copy with the servers cannot call them in memory instead of over TCP, a server restarted on a crash
  // copy cannot answer from a table the one before it kept, nor through that one's sockets. md5Shard and HashRing
  // compute, and come from a copy that may reach nothing.
  const shared = <T>(req: (file: string) => unknown): T =>
    ({ ...(req(serverFile) as object), ...(req(clientFile) as object) }) as T;
  const code = isolatedLoader()
    ? loader.fresh(dir, (req) => shared<Lab5Impl>(req), SHARED_GRANTS)
    : shared<Lab5Impl>((file) => loader.require(file));
  return {
    dir,
    startServer: machineFunction(dir, serverFile, 'startServer', code.startServer, serverGrants),
    ShardedClient: machineClass(dir, clientFile, 'ShardedClient', code.ShardedClient, clientGrants),
    md5Shard: code.md5Shard,
    HashRing: code.HashRing,
  };
}
