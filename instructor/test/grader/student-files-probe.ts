/**
 * `node -r ./grader/register.js instructor/test/grader/student-files-probe.ts`, run by student-files.test.ts in a
 * process of its own (it locks the realm down): loads a lab folder with a student's .ts and .js helpers through
 * the compartment loader, with no manifest, a manifest that lists the given file's hash, and one that lists
 * another, and prints what each file could reach (the symbol registry's new keys too) as one JSON line.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compartmentLoader, lockDownRealm } from '../../../grader/compartment';
import { MANIFEST_PATH } from '../../../grader/manifest';

const KIT = path.resolve(__dirname, '..', '..', '..');

/** What a helper reports of its sandbox (the same code in .ts and in .js). */
const REPORT = `
function report() {
  const out = {};
  try { out.process = typeof globalThis.process; } catch (err) { out.process = err.name; }
  out.requireCache = typeof require.cache;
  try { require('node:fs'); out.fs = 'loaded'; } catch { out.fs = 'refused'; }
  out.bufferPool = Buffer.from('x').buffer.byteLength;
  const register = (name, symbolFor) => {
    try { symbolFor('kvlabs-probe ' + name); return 'registered'; } catch (err) { return err.name; }
  };
  out.newSymbolKey = register('global', Symbol.for);
  out.newSymbolKeyViaPrototype = register('prototype', Object(Symbol.iterator).constructor.for);
  out.nodeSymbolKey = typeof Symbol.for('nodejs.util.inspect.custom');
  const compiles = (make) => {
    try { make(); return 'compiled'; } catch (err) { return err.name; }
  };
  out.compilers = [
    compiles(() => (0, eval)('1')),
    compiles(() => new Function('return 1')),
    compiles(() => new Compartment()),
  ].join(' ');
  out.functionsAreFunctions = (() => 1) instanceof Function;
  return out;
}
`;

/** The lab folder: the kit's given rpc.ts, a client that imports it and two helpers of the student's own. */
function labFolder(root: string): string {
  const lab = path.join(root, 'lab2');
  fs.mkdirSync(lab, { recursive: true });
  fs.copyFileSync(path.join(KIT, 'lab2', 'rpc.ts'), path.join(lab, 'rpc.ts'));
  fs.writeFileSync(path.join(lab, 'helper.ts'), `${REPORT}\nexport const seen = report();\n`);
  fs.writeFileSync(path.join(lab, 'plain.js'), `${REPORT}\nexports.seen = report();\n`);
  fs.writeFileSync(
    path.join(lab, 'client.ts'),
    "import * as rpc from './rpc';\nimport { seen } from './helper';\nconst plain = require('./plain');\n" +
      'export const probe = { rpc, ts: seen, js: plain.seen };\n',
  );
  return lab;
}

/** What the client saw in one setting: its helpers' reports, and whether rpc.ts came as the kit's (shared, frozen). */
function look(manifest: 'none' | 'matching' | 'other'): object {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-student-files-'));
  try {
    const lab = labFolder(root);
    if (manifest !== 'none') {
      const bytes = fs.readFileSync(path.join(lab, 'rpc.ts'));
      const sha = crypto
        .createHash('sha256')
        .update(manifest === 'matching' ? bytes : 'another file')
        .digest('hex');
      fs.mkdirSync(path.join(root, '.kvlabs'));
      fs.writeFileSync(
        path.join(root, MANIFEST_PATH),
        JSON.stringify({ version: 1, generatedBy: 'test', files: { 'lab2/rpc.ts': sha } }),
      );
    }
    const loader = compartmentLoader({ implDir: lab, labDir: lab, kitDirs: [], cacheDir: '' });
    const client = path.join(lab, 'client.ts');
    const a = loader.fresh(lab, (req) => req(client)) as { probe: { rpc: object; ts: object; js: object } };
    const b = loader.fresh(lab, (req) => req(client)) as { probe: { rpc: object } };
    return {
      ts: a.probe.ts,
      js: a.probe.js,
      rpcFrozen: Object.isFrozen(a.probe.rpc),
      rpcShared: a.probe.rpc === b.probe.rpc,
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

lockDownRealm();
process.stdout.write(`${JSON.stringify({ none: look('none'), matching: look('matching'), other: look('other') })}\n`);
