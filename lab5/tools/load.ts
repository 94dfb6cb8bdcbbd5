/** Loads the student's files (lab5/) or, with --solution, the reference solution's — for the lab 5 tools. */
import * as path from 'node:path';
import { requireFresh } from '../../suite/fresh';
import { implFolder } from '../../suite/solution';
import type { ClientOptions, KVClient, ServerAddress, StartServer } from '../types';

/** What the tools use. */
export interface ToolImpl {
  startServer: StartServer;
  ShardedClient: new (servers: readonly ServerAddress[], options?: ClientOptions) => KVClient;
}

/**
 * The server and client the tools run. Each server started is a machine of its own, as in the tests: a fresh copy of
 * the modules, so that a variable at a module's top level belongs to one server even when a tool starts three in
 * one process.
 */
export function loadImpl(solution: boolean): ToolImpl {
  const dir = implFolder('lab5', solution);
  const serverFile = path.join(dir, 'server.ts');
  const startServer: StartServer = (options) =>
    requireFresh(dir, (req) => (req(serverFile) as Pick<ToolImpl, 'startServer'>).startServer)(options);
  const { ShardedClient } = require(path.join(dir, 'client.ts')) as Pick<ToolImpl, 'ShardedClient'>;
  return { startServer, ShardedClient };
}

/** Parses "7001,7002,7003" into ports (0 asks for a free port). */
export function parsePorts(text: string): number[] {
  const ports = text.split(',').map((p) => Number(p.trim()));
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 0 || p > 65535)
      throw new Error(`"${text}" is not a list of ports such as 7001,7002,7003`);
  }
  return ports;
}
