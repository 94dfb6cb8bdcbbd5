'use strict';
/** `node -r grader/ts-preload.js`: the sandbox's fs shims, its signal lock and read-only TypeScript loader, for processes the grader starts for a test (cache: $KVLABS_TS_CACHE). */
require('./sandbox-fs.js').allowSyncs();
require('./sandbox-process.js').lockSignals();
require('./ts-hook.js').install(process.env.KVLABS_TS_CACHE || require('./ts-hook.js').DEFAULT_CACHE_DIR);
// Classroom and batch grading: node loads from the tree only the files the template's manifest lists.
if (process.env.KVLABS_KIT_MANIFEST === '1') require('./ts-hook.js').guardKitLoads(undefined, { manifest: true });
