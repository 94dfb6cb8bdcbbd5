'use strict';
/**
 * `node -r ./grader/register.js grader/cli.ts`: the grader's own process loads its TypeScript through a compile
 * cache of its own (node_modules/.cache/kvlabs-grader/self), instead of ts-node compiling every file at every start.
 */
const path = require('node:path');
const hook = require('./ts-hook.js');

hook.installCaching(path.join(hook.DEFAULT_CACHE_DIR, 'self'));
