// Preloaded into a child process a lab 5 test starts (node --require): saves which mutants the child reached, for instructor/mutation/spec.ts.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.KVLABS_MUTATION_CHILD_COVERAGE;
if (dir) {
  const file = path.join(dir, `${process.pid}.json`);
  // The child may be killed with SIGKILL at any moment: save often, and atomically (write, then rename).
  const save = () => {
    const coverage = globalThis.__stryker__ && globalThis.__stryker__.mutantCoverage;
    if (!coverage) return;
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(coverage));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // The test has ended and removed the folder: nothing left to record.
    }
  };
  setInterval(save, 25).unref();
  process.on('exit', save);
}
