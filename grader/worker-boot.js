'use strict';
/**
 * Entry point of the grader's sandboxed test process (started by supervisor.ts under node's permission
 * model). Makes .ts files loadable from the compile cache the grader prepared (read-only here), then hands
 * over to worker.ts, which reads the run's secret and configuration from the grader's channel before any
 * student code loads.
 */
const path = require('node:path');
const { allowSyncs } = require('./sandbox-fs.js');
const { lockSignals } = require('./sandbox-process.js');
const { guardKitLoads, install } = require('./ts-hook.js');

allowSyncs();
lockSignals();
install(process.env.KVLABS_TS_CACHE || path.join(__dirname, '..', 'node_modules', '.cache', 'kvlabs-grader'));
// Classroom and batch grading: node loads from the tree only the files the template's manifest lists (ts-hook.js).
if (process.env.KVLABS_KIT_MANIFEST === '1') guardKitLoads(undefined, { manifest: true });
require('./worker.ts').start();
