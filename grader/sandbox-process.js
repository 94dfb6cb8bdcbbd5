'use strict';
/**
 * Inside the grader's sandbox, a process may signal only itself: process.kill (and the binding it calls) refuse
 * any other process id, for good (not writable, not configurable), before any lab or student code loads. Node's
 * permission model refuses child processes and process.binding, but not process.kill: code that reached `process`
 * could otherwise stop the grader (SIGSTOP to its parent) and hang a whole class's grading.
 */

function lockSignals() {
  const own = process.pid;
  for (const name of ['kill', '_kill']) {
    const original = process[name];
    if (typeof original !== 'function') continue;
    const guarded = function (pid, signal) {
      if (Number(pid) !== own)
        throw new Error(
          `The grader's sandbox lets a test's process signal only itself (process.${name}(${pid}) refused).`,
        );
      return original.call(process, pid, signal);
    };
    Object.defineProperty(guarded, 'name', { value: name });
    Object.defineProperty(process, name, { value: guarded, writable: false, enumerable: false, configurable: false });
  }
}

module.exports = { lockSignals };
