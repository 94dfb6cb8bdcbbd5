/** Reads node's CPU profiles (.cpuprofile files) and says where the time went: self time by function, by module group and by process kind. */
import fs from 'node:fs';
import path from 'node:path';

/** One node of a .cpuprofile's call tree. */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

/** A .cpuprofile as node's --cpu-prof and the inspector's Profiler.stop write it (times in µs). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** One process's profile and its kind (the subfolder it was written to: bench, test-process, student-host, ...). */
export interface KindedProfile {
  readonly kind: string;
  readonly profile: CpuProfile;
}

/** What a folder of profiles adds up to, ms. */
export interface ProfileSummary {
  /** By process kind: how many processes, their summed wall time and the part of it not idle. */
  readonly kinds: ReadonlyArray<{ kind: string; processes: number; wallMs: number; busyMs: number }>;
  /** Self time by module group, over every process, largest first. */
  readonly groups: ReadonlyArray<{ group: string; ms: number }>;
  /** Self time by function, over every process, largest first. */
  readonly functions: ReadonlyArray<{ fn: string; group: string; ms: number }>;
}

/** What a sample that is not idle is spent on, by the file its function is in (first match wins). */
const GROUP_RULES: ReadonlyArray<[RegExp, string]> = [
  [/\/node_modules\/(ses|@endo)\//, 'compartment/SES'],
  [
    /\/grader\/(compartment|crossing|endowments|isolate|kit-surface|net-guard|node-prototypes|hide-harness|symbol-registry)\./,
    'compartment/SES',
  ],
  [/\/grader\/ts-(hook|preload)\.js|\/node_modules\/(typescript|ts-node)\//, 'loading TypeScript'],
  [/\/grader\//, 'grader'],
  [/\/labrpc\//, 'labrpc'],
  [/\/world\//, 'world'],
  [/\/checker\//, 'checker'],
  [/\/suite\//, 'suite (test runner)'],
  [/\/solutions\/lab\d+\//, 'student code (the reference)'],
  [/\/lab\d+\/test\//, 'lab tests and harness'],
  [/\/lab\d+\//, "the lab's code and given files"],
  [/\/instructor\//, 'bench'],
  [/\/node_modules\//, 'other packages'],
];

/** The module group of a function, by its file (node internals and V8's own entries by their names). */
export function groupOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle/waiting';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)' || functionName === '(root)') return 'node/V8 native';
  if (url === '' || url.startsWith('node:')) return 'node internals';
  const file = url.replace(/^file:\/\//, '');
  for (const [re, group] of GROUP_RULES) if (re.test(file)) return group;
  return 'other';
}

/** Self time of each node of a profile, µs: each sample holds the time until the next one. */
function selfTimes(p: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const us = i + 1 < deltas.length ? deltas[i + 1] : 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, us));
  }
  return self;
}

/** A function's name for the table: its name, its file relative to `root`, its line. */
function functionLabel(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (url === '') return name;
  const file = url.replace(/^file:\/\//, '');
  const shown = file.startsWith(root) ? path.relative(root, file) : file.replace(/^.*\/node_modules\//, '');
  return `${name} ${shown}:${lineNumber + 1}`;
}

/** Adds `ms` to `key`'s entry of `m`. */
function add(m: Map<string, number>, key: string, ms: number): void {
  m.set(key, (m.get(key) ?? 0) + ms);
}

/**
 * Sums profiles by process kind, module group and function (paths shown relative to `root`). The processes of the
 * kinds in `kindsOnly` count in the kinds only: the bench's own, which loads the kit through ts-node where
 * `npm run grade` reads its compile cache.
 */
export function summarize(
  profiles: readonly KindedProfile[],
  root: string,
  kindsOnly: readonly string[] = [],
): ProfileSummary {
  const kinds = new Map<string, { processes: number; wallMs: number; busyMs: number }>();
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  const groupOfFn = new Map<string, string>();
  for (const { kind, profile } of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const k = kinds.get(kind) ?? { processes: 0, wallMs: 0, busyMs: 0 };
    k.processes++;
    k.wallMs += (profile.endTime - profile.startTime) / 1000;
    for (const [id, us] of selfTimes(profile)) {
      const node = byId.get(id);
      if (!node) continue;
      const ms = us / 1000;
      const group = groupOf(node.callFrame.url, node.callFrame.functionName);
      if (group !== 'idle/waiting') k.busyMs += ms;
      if (kindsOnly.includes(kind)) continue;
      add(groups, group, ms);
      const fn = functionLabel(node, root);
      add(functions, fn, ms);
      groupOfFn.set(fn, group);
    }
    kinds.set(kind, k);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    kinds: [...kinds].map(([kind, v]) => ({ kind, ...v })).sort((a, b) => b.busyMs - a.busyMs),
    groups: sorted(groups).map(([group, ms]) => ({ group, ms })),
    functions: sorted(functions).map(([fn, ms]) => ({ fn, group: groupOfFn.get(fn) ?? 'other', ms })),
  };
}

/** Every .cpuprofile under `dir`, each with its kind: the name of the subfolder it is in. */
export function readProfiles(dir: string): KindedProfile[] {
  const out: KindedProfile[] = [];
  for (const kind of fs.readdirSync(dir)) {
    const sub = path.join(dir, kind);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const f of fs.readdirSync(sub).filter((n) => n.endsWith('.cpuprofile')))
      out.push({ kind, profile: JSON.parse(fs.readFileSync(path.join(sub, f), 'utf8')) as CpuProfile });
  }
  return out;
}

/** A Markdown table. */
function markdownTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

/** The summary as three Markdown tables (processes, module groups, the `top` heaviest functions), for docs/performance.md. */
export function summaryTables(s: ProfileSummary, top = 20): string {
  const busy = s.groups.reduce((a, g) => a + (g.group === 'idle/waiting' ? 0 : g.ms), 0);
  const pct = (ms: number) => `${((100 * ms) / Math.max(busy, 1)).toFixed(1)}%`;
  const kinds = markdownTable(
    ['process kind', 'processes', 'wall s (summed)', 'busy s'],
    s.kinds.map((k) => [k.kind, String(k.processes), seconds(k.wallMs), seconds(k.busyMs)]),
  );
  const groups = markdownTable(
    ['module group', 'self s', 'of busy'],
    s.groups.map((g) => [g.group, seconds(g.ms), g.group === 'idle/waiting' ? '' : pct(g.ms)]),
  );
  const fns = markdownTable(
    ['function (self time)', 'group', 'self s', 'of busy'],
    s.functions
      .filter((f) => f.group !== 'idle/waiting')
      .slice(0, top)
      .map((f) => [`\`${f.fn}\``, f.group, seconds(f.ms), pct(f.ms)]),
  );
  return `${kinds}\n\n${groups}\n\n${fns}\n`;
}
