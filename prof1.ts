import { grade } from './grader';
import { readProfiles, summarize, summaryTables } from './instructor/bench/cpu-profile';
import fs from 'node:fs';
(async () => {
  const [lab, test, dir] = process.argv.slice(2);
  fs.rmSync(dir, { recursive: true, force: true });
  const r = await grade({ lab, target: 'solution', tests: [test], writeReports: false, cpuProfileDir: dir, permissions: false } as never);
  console.log(JSON.stringify((r as any).labs?.[0]?.tests?.map((t: any) => [t.name, t.status, t.realMs]) ?? Object.keys(r as object)));
  await new Promise((res) => setTimeout(res, 1000));
  console.log(summaryTables(summarize(readProfiles(dir), __dirname, ['bench']), 30));
})();
