/**
 * `npm run lab3 -- CONFIG.json [--seed N] [--solution] [--html FILE] [--real]`
 *
 * Runs a cluster configuration in the original's JSON format: starts the servers, runs every client's requests,
 * prints each operation with its start and end times and result, the verdict for the consistency level, and
 * the mean latency. By default the cluster is simulated (virtual time, a seed replays the run exactly); with
 * `--real` each server is a separate OS process on the configuration's first port, talking HTTP.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { World, freshSeed } from '../../world';
import { Cluster, Lab3Impl } from '../test/harness';
import { load } from '../load';
import { ConfigError, Lab3Config, loadConfig } from './config';
import { OpRecord, ScenarioResult, runScenario } from './scenario';
import { colorsFor } from '../../suite/colors';
import { implFolder, NoSolutionError } from '../../suite/solution';

const pc = colorsFor();

/** Seconds with three decimals. */
function secs(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/** One operation as a line. */
function describe(r: OpRecord): string {
  const time = `start ${secs(r.start).padStart(9)}   end ${secs(r.end).padStart(9)}   `;
  switch (r.kind) {
    case 'sleep':
      return `  sleep                     ${time}(${(r.end - r.start).toFixed(0)} ms pause)`;
    case 'write':
      return `  write ${`${r.key} = ${JSON.stringify(r.value)}`.padEnd(20)}${time}${(r.end - r.start).toFixed(2)} ms`;
    case 'read':
      return `  read  ${`${r.key} → ${JSON.stringify(r.result)}`.padEnd(20)}${time}${(r.end - r.start).toFixed(2)} ms`;
  }
}

/** Prints a finished run. */
export function printResult(res: ScenarioResult, how: string, htmlPath?: string): void {
  const cfg = res.config;
  console.log(
    pc.bold(
      `${path.basename(cfg.file)}: ${cfg.servers} server${cfg.servers > 1 ? 's' : ''}, ${cfg.level}, ${cfg.clients.length} client${cfg.clients.length > 1 ? 's' : ''} (${how})`,
    ),
  );
  cfg.clients.forEach((c, i) => {
    console.log(pc.cyan(`client ${c.client} → server ${c.server}`));
    for (const r of res.records[i]) console.log(describe(r));
  });
  console.log('replicas after the last request and a quiet period:');
  for (const [key, values] of res.replicas) {
    const same = values.every((v) => v === values[0]);
    console.log(
      `  ${key}: ${same ? `${JSON.stringify(values[0])} on every server` : values.map((v, i) => `server ${i} ${JSON.stringify(v)}`).join(', ')}`,
    );
  }
  const mark = res.verdict.ok ? pc.green('passed') : pc.red('FAILED');
  console.log(`check (${res.verdict.check}): ${mark}`);
  for (const line of res.verdict.text.split('\n')) console.log(`  ${line}`);
  if (res.verdict.html && htmlPath) {
    fs.writeFileSync(htmlPath, res.verdict.html);
    console.log(`  history viewer written to ${htmlPath}`);
  }
  const n = res.history.length;
  console.log(
    pc.bold(`mean latency: ${res.meanLatencyMs.toFixed(2)} ms over ${n} read/write operation${n === 1 ? '' : 's'}`),
  );
}

/** Runs `config` on a simulated cluster with `seed`. */
export async function simulate(impl: Lab3Impl, config: Lab3Config, seed: number): Promise<ScenarioResult> {
  return new World({ seed, virtualLimitMs: 10 * 60_000 }).run(async () => {
    const cluster = new Cluster(impl, { servers: config.servers, level: config.level });
    return runScenario(config, cluster.scenarioDriver());
  });
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run lab3 --')
    .argument('<config>', "a cluster configuration in the original's format, e.g. lab3/configs/t2.json")
    .option('--seed <n>', 'seed of the simulated run (the same seed replays it exactly)')
    .option('--solution', 'run the reference solution (solutions/lab3) instead of lab3/server.ts')
    .option('--html <file>', 'write the history viewer here when the check fails')
    .option('--real', 'run each server as a separate process on its configured port, over HTTP')
    .parse();
  const opts = program.opts<{ seed?: string; solution?: boolean; html?: string; real?: boolean }>();
  const file = program.args[0];
  let config: Lab3Config;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(pc.red(`bad configuration: ${err.message}`));
      process.exit(2);
    }
    throw err;
  }
  let dir: string;
  try {
    dir = implFolder('lab3', opts.solution === true);
  } catch (err) {
    if (!(err instanceof NoSolutionError)) throw err;
    console.error(pc.red(err.message));
    process.exit(2);
  }
  if (opts.real) {
    const { runReal } = require('./real') as typeof import('./real');
    const res = await runReal(config, dir);
    printResult(res, `real processes on ports ${config.ports.map((p) => p[0]).join(', ')}`, opts.html);
    process.exit(res.verdict.ok ? 0 : 1);
  }
  const seed = opts.seed === undefined ? freshSeed() : Number(opts.seed);
  const impl = load(dir);
  let res: ScenarioResult;
  try {
    res = await simulate(impl, config, seed);
  } catch (err) {
    console.error(pc.red(`the run stopped: ${(err as Error).message}`));
    console.error(`seed=${seed}  replay: npm run lab3 -- ${file} --seed ${seed}${opts.solution ? ' --solution' : ''}`);
    process.exit(1);
  }
  printResult(res, `simulated, seed ${seed}; replay with --seed ${seed}`, opts.html);
  process.exit(res.verdict.ok ? 0 : 1);
}

if (require.main === module) void main();
