/**
 * `npm run lincheck -- [options] FILE...`: checks history files in the porcupine formats and prints one line
 * per file, `FILE ok|illegal|unknown <time>`. Exit code 0 when no file is illegal, 1 when some file is,
 * 2 on bad usage or a malformed file (with a one-line message).
 */
import { Command, CommanderError, Option } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { colorsFor } from '../suite/colors';
import { checkLoaded, loadHistoryFile, writeLoadedHtml } from './files';
import { DEFAULT_TIMEOUT_MS, HistoryError } from './linearizability';
import { HistoryFormat, ParseError } from './parse/porcupine';
import type { CheckMode, Verdict } from './types';

/** The parsed command-line options. */
interface CliOptions {
  model?: HistoryFormat;
  timeout: string;
  html?: string;
  htmlAll?: boolean;
  sequential?: boolean;
}

/** A problem worth a one-line message and exit code 2. */
class UsageError extends Error {}

/** Colors only for a terminal. */
const color = colorsFor(process.stdout);

/** The verdict word, colored on a terminal. */
function paint(v: Verdict): string {
  return v === 'ok' ? color.green(v) : v === 'illegal' ? color.red(color.bold(v)) : color.yellow(v);
}

/** A one-line message for an error, without a stack trace. */
function describeError(err: unknown): string {
  if (err instanceof ParseError || err instanceof HistoryError || err instanceof UsageError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && e.code === 'ENOENT') return `cannot read ${e.path ?? 'file'}: no such file`;
  if (e && typeof e === 'object' && e.code === 'EISDIR') return `cannot read ${e.path ?? 'file'}: it is a directory`;
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/** Picks a page name in `dir` for `file` that no earlier file took. */
function pageName(dir: string, file: string, taken: Set<string>): string {
  const base = path.basename(file).replace(/\.[^.]*$/, '');
  let name = `${base}.html`;
  for (let k = 2; taken.has(name); k++) name = `${base}-${k}.html`;
  taken.add(name);
  return path.join(dir, name);
}

/** Runs the CLI on `argv` (without the node and script entries); returns the exit code. */
export function main(argv: string[]): number {
  const program = new Command()
    .name('npm run lincheck --')
    .description('Check histories for linearizability (or sequential consistency) with the kvlabs checker.')
    .argument('<files...>', 'history files: kv ({:process ...} lines) or etcd (Jepsen log lines)')
    .addOption(
      new Option('--model <model>', 'history format and model (default: detected per file)').choices(['kv', 'etcd']),
    )
    .option(
      '--timeout <ms>',
      'time budget per file in milliseconds; beyond it the verdict is "unknown"',
      String(DEFAULT_TIMEOUT_MS),
    )
    .option('--html <dir>', 'write a history viewer page into DIR for each illegal (or unknown) file')
    .option('--html-all', 'with --html: write a page for every file, passing ones too')
    .option('--sequential', 'check sequential consistency (per-client order only) instead of linearizability')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`lincheck: ${s.trim()} (run with --help for usage)\n`),
    });
  let files: string[];
  let opts: CliOptions;
  try {
    program.parse(argv, { from: 'user' });
    files = program.args;
    opts = program.opts<CliOptions>();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const timeoutMs = Number(opts.timeout);
  if (!/^\d+$/.test(opts.timeout) || timeoutMs <= 0) {
    process.stderr.write(
      `lincheck: error: --timeout expects a positive whole number of milliseconds, got ${JSON.stringify(opts.timeout)}\n`,
    );
    return 2;
  }
  if (opts.htmlAll && !opts.html) {
    process.stderr.write('lincheck: error: --html-all needs --html DIR\n');
    return 2;
  }
  const mode: CheckMode = opts.sequential ? 'sequential' : 'linearizable';
  const taken = new Set<string>();
  let illegal = false;
  let failed = false;
  for (const file of files) {
    try {
      const start = performance.now();
      const history = loadHistoryFile(file, opts.model);
      const result = checkLoaded(history, { timeoutMs, mode });
      const ms = performance.now() - start;
      process.stdout.write(`${file} ${paint(result.verdict)} ${Math.round(ms)}ms\n`);
      if (result.verdict === 'illegal') illegal = true;
      if (opts.html && (result.verdict !== 'ok' || opts.htmlAll)) {
        fs.mkdirSync(opts.html, { recursive: true });
        const page = writeLoadedHtml(pageName(opts.html, file, taken), history, result);
        process.stderr.write(`lincheck: wrote ${page}\n`);
      }
    } catch (err) {
      process.stderr.write(`lincheck: error: ${describeError(err)}\n`);
      failed = true;
    }
  }
  return failed ? 2 : illegal ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
