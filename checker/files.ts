/** Loading and checking history files in the porcupine formats (used by the CLI, the tests and the bench). */
import * as fs from 'fs';
import * as path from 'path';
import { explainResult } from './explain';
import { check } from './linearizability';
import { KvInput, KvOutput, KvState, kvModelIgnoringAppendOutput } from './models/kv';
import { RegisterInput, RegisterOutput, RegisterState, registerModel } from './models/register';
import { detectFormat, HistoryFormat, ParseError, parseEtcdHistory, parseKvHistory } from './parse/porcupine';
import type { CheckOptions, CheckResult, Model, Operation } from './types';
import { writeHistoryHtml, ViewerOptions } from './viewer/html';

/** A parsed file with the model that fits its format. */
export type LoadedHistory =
  | { file: string; format: 'kv'; model: Model<KvState, KvInput, KvOutput>; ops: Operation<KvInput, KvOutput>[] }
  | {
      file: string;
      format: 'etcd';
      model: Model<RegisterState, RegisterInput, RegisterOutput>;
      ops: Operation<RegisterInput, RegisterOutput>[];
    };

/** Parses text in `format` (detected from the first line when omitted); `file` names it in errors. */
export function parseHistory(text: string, file: string, format?: HistoryFormat): LoadedHistory {
  const detected = detectFormat(text);
  const fmt = format ?? detected;
  if (fmt === undefined) {
    throw new ParseError(
      file,
      1,
      'expected a kv history ({:process ...} lines) or an etcd Jepsen log (INFO jepsen.util ... lines); pass --model to choose',
    );
  }
  if (fmt === 'kv') return { file, format: 'kv', model: kvModelIgnoringAppendOutput, ops: parseKvHistory(text, file) };
  return { file, format: 'etcd', model: registerModel, ops: parseEtcdHistory(text, file) };
}

/** Reads and parses a history file. */
export function loadHistoryFile(file: string, format?: HistoryFormat): LoadedHistory {
  return parseHistory(fs.readFileSync(file, 'utf8'), file, format);
}

/** Checks a loaded history (one call per branch, so each type-checks with its own model). */
export function checkLoaded(h: LoadedHistory, options: CheckOptions = {}): CheckResult {
  return h.format === 'kv' ? check(h.model, h.ops, options) : check(h.model, h.ops, options);
}

/** Writes the viewer page for a loaded history and its result; returns the path. */
export function writeLoadedHtml(
  file: string,
  h: LoadedHistory,
  result: CheckResult,
  options: ViewerOptions = {},
): string {
  const opts: ViewerOptions = { timeUnit: 'line', title: path.basename(h.file), ...options };
  if (h.format === 'kv') {
    return writeHistoryHtml(file, h.model, h.ops, result, {
      explanation: explainResult(h.model, h.ops, result, { timeUnit: 'line' }),
      ...opts,
    });
  }
  return writeHistoryHtml(file, h.model, h.ops, result, {
    explanation: explainResult(h.model, h.ops, result, { timeUnit: 'line' }),
    ...opts,
  });
}

/** One history of the porcupine data set with its expected verdict. */
export interface DatasetEntry {
  file: string;
  format: HistoryFormat;
  expected: 'ok' | 'illegal';
}

/** Lists the porcupine data set's 108 histories in `dir` with their expected verdicts (kv by file name, etcd by VERDICTS.txt). */
export function porcupineDataset(dir: string): DatasetEntry[] {
  const kv = fs
    .readdirSync(path.join(dir, 'kv'))
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f): DatasetEntry => ({
      file: path.join(dir, 'kv', f),
      format: 'kv',
      expected: f.includes('-bad') ? 'illegal' : 'ok',
    }));
  const verdicts = fs.readFileSync(path.join(dir, 'etcd', 'VERDICTS.txt'), 'utf8');
  const etcd = verdicts
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length === 2)
    .map(([f, v]): DatasetEntry => ({
      file: path.join(dir, 'etcd', f),
      format: 'etcd',
      expected: v === 'linearizable' ? 'ok' : 'illegal',
    }));
  return [...kv, ...etcd];
}
