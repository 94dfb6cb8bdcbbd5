/**
 * `npm run bench -- --profile SECTION`: runs one section with CPU profiles on (this process through the inspector,
 * every process a grade starts through node's --cpu-prof) and says where the time went.
 */
import fs from 'node:fs';
import * as nodeInspector from 'node:inspector';
import path from 'node:path';
import type { GradeOptions } from '../../grader';
import { readProfiles, summarize, summaryTables } from './cpu-profile';

/** The profile folder while a section is profiled. */
let profiling: string | undefined;

/**
 * What a bench section adds to its grade() calls: nothing, or while it is profiled, the folder for the processes'
 * profiles, and no permission model (node's writes no profile under it: the figures leave its cost out).
 */
export function profileOptions(): Pick<GradeOptions, 'cpuProfileDir' | 'permissions'> {
  return profiling === undefined ? {} : { cpuProfileDir: profiling, permissions: false };
}

/** node's connection to this process's own inspector. */
const { Session: InspectorConnection } = nodeInspector;

/** Posts one inspector command and resolves to its result. */
function post<T>(to: InstanceType<typeof InspectorConnection>, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    to.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
  );
}

/**
 * Runs `run` with profiles on, writing them under `dir` (emptied first): this process's in `dir/bench/`, the
 * grader's test processes' in `dir/test-process/`, each kit script's in a folder of its name. Resolves to what
 * `run` resolved to and the summary's tables (where the bench's own process counts in the kinds of process only,
 * unless it is the only one profiled).
 */
export async function profiled<T>(dir: string, run: () => Promise<T>): Promise<{ result: T; tables: string }> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'bench'), { recursive: true });
  const inspector = new InspectorConnection();
  inspector.connect();
  await post(inspector, 'Profiler.enable');
  await post(inspector, 'Profiler.setSamplingInterval', { interval: 1000 });
  await post(inspector, 'Profiler.start');
  profiling = dir;
  let result: T;
  try {
    result = await run();
  } finally {
    profiling = undefined;
    const { profile } = await post<{ profile: object }>(inspector, 'Profiler.stop');
    fs.writeFileSync(path.join(dir, 'bench', `bench-${process.pid}.cpuprofile`), JSON.stringify(profile));
    inspector.disconnect();
  }
  // Processes ended by closing their input write their profiles as they exit: give the last ones a moment.
  await new Promise((r) => setTimeout(r, 1000));
  const root = path.join(__dirname, '..', '..');
  // A section that grades waits in this process while others work: count this one in the kinds of process only.
  // A section that runs here (labrpc, the checker) is all this process.
  const profiles = readProfiles(dir);
  const waits = profiles.some((p) => p.kind !== 'bench');
  const tables = summaryTables(summarize(profiles, root, waits ? ['bench'] : []));
  fs.writeFileSync(path.join(dir, 'summary.md'), tables);
  return { result, tables };
}
