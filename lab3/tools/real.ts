/**
 * `--real`: the configuration's servers as separate OS processes on its ports, talking HTTP (labrpc/http),
 * driven by the same client scripts and judged by the same checks as the simulation. Times are real
 * milliseconds on this machine, so the latencies show the cost of the extra messages without network delay.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { HttpEnd, keepAliveAgent } from '../../labrpc/http';
import type { ReadReply } from '../rpc';
import type { Lab3Config } from './config';
import { ScenarioResult, runScenario } from './scenario';

/** A client call that gets no reply within this long fails the run, ms. */
const CLIENT_TIMEOUT_MS = 30_000;
/** How long to wait for every server process to answer, ms. */
const STARTUP_MS = 60_000;

/** Resolves after `ms` real milliseconds. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts the servers of `config` (implementation from `implDir`), runs the scripts, stops the servers. */
export async function runReal(config: Lab3Config, implDir: string): Promise<ScenarioResult> {
  const script = path.join(__dirname, 'real-server.ts');
  const children: ChildProcess[] = [];
  const agent = keepAliveAgent();
  const endTo = (server: number): HttpEnd =>
    new HttpEnd(`http://127.0.0.1:${config.ports[server][0]}`, {
      timeoutMs: CLIENT_TIMEOUT_MS,
      agent,
      name: `server ${server}`,
    });
  try {
    for (let i = 0; i < config.servers; i++) {
      const child = spawn(
        process.execPath,
        [
          '-r',
          path.join(__dirname, '..', '..', 'grader', 'register.js'),
          script,
          path.resolve(config.file),
          String(i),
          implDir,
        ],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      );
      children.push(child);
    }
    const deadline = Date.now() + STARTUP_MS;
    for (let i = 0; i < config.servers; i++) {
      const probe = new HttpEnd(`http://127.0.0.1:${config.ports[i][0]}`, { timeoutMs: 2000, agent });
      for (;;) {
        try {
          await probe.call<ReadReply>('KVServer.Read', { key: '' });
          break;
        } catch (err) {
          if (children[i].exitCode !== null)
            throw new Error(
              `server ${i} exited (code ${children[i].exitCode}) before answering on port ${config.ports[i][0]}`,
            );
          if (Date.now() > deadline)
            throw new Error(
              `server ${i} did not answer on port ${config.ports[i][0]} within ${STARTUP_MS / 1000} s (${(err as Error).message})`,
            );
          await pause(100);
        }
      }
    }
    const t0 = performance.now();
    return await runScenario(config, {
      endFor: (s) => endTo(s.server),
      readEverywhere: (key) =>
        Promise.all(
          Array.from({ length: config.servers }, (_, i) =>
            endTo(i)
              .call<ReadReply>('KVServer.Read', { key })
              .then((r) => r.value),
          ),
        ),
      sleepMs: () => Math.random() * 1000,
      wait: pause,
      now: () => performance.now() - t0,
    });
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    agent.destroy();
  }
}
