/** The tamper check on a small made-up template: changed, missing and harmful added files; a student's own files pass. */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import {
  addedFileProblem,
  checkTree,
  findAddedFiles,
  Manifest,
  MANIFEST_PATH,
  protectedFolders,
  sha256File,
  TamperError,
} from '../../../grader/manifest';
import { tempDir } from './helpers';

/** The template's files; the ones after the first group are protected. */
const STUDENT_FILES = ['lab3/server.ts', 'lab3/README.md', 'README.md', '.gitignore'];
const PROTECTED_FILES = [
  'lab3/rpc.ts',
  'lab3/test/suite.ts',
  'lab3/test/rubric.json',
  'lab5/glob.ts',
  'checker/models/index.ts',
  'checker/models/kv.ts',
  'labrpc/index.ts',
  'grader/worker-boot.js',
  'package.json',
];

/** Folders made by makeTemplate, removed after the tests. */
const made: string[] = [];

/** Writes the made-up template into a fresh folder, with its manifest. */
function makeTemplate(): { root: string; manifest: Manifest } {
  const root = tempDir('kvlabs-manifest-');
  made.push(root);
  for (const rel of [...STUDENT_FILES, ...PROTECTED_FILES]) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), `// ${rel}\n`);
  }
  const manifest: Manifest = {
    version: 1,
    generatedBy: 'test',
    files: Object.fromEntries(PROTECTED_FILES.map((f) => [f, sha256File(path.join(root, f))])),
  };
  fs.mkdirSync(path.join(root, '.kvlabs'));
  fs.writeFileSync(path.join(root, MANIFEST_PATH), JSON.stringify(manifest));
  return { root, manifest };
}

function add(root: string, rel: string, text = 'module.exports = {};\n'): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

describe('grader: tamper check (manifest)', () => {
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('protects the folders that hold protected files, not the root and not the lab folders', () => {
    const { manifest } = makeTemplate();
    expect([...protectedFolders(manifest)].sort()).to.deep.equal([
      'checker',
      'checker/models',
      'grader',
      'lab3/test',
      'labrpc',
    ]);
  });

  it('finds nothing in the untouched template, nor after a student adds their own files and grading output', () => {
    const { root } = makeTemplate();
    expect(checkTree(root)).to.deep.equal({ manifest: true, tampered: [] });
    fs.appendFileSync(path.join(root, 'lab3/server.ts'), "import { broadcast } from './broadcast';\n");
    add(root, 'lab3/broadcast.ts', 'export function broadcast(): void {}\n');
    add(root, 'lab3/util/queue.ts');
    add(root, 'lab3/notes.js');
    add(root, 'reports/lab3/results.json', '{}');
    add(root, 'node_modules/chai/index.js');
    add(root, 'checker/NOTES.md', 'my notes');
    // What operating systems and editors leave behind, and data a student adds next to the given data.
    for (const junk of [
      'lab3/test/.DS_Store',
      'checker/.DS_Store',
      'lab3/test/.suite.ts.swp',
      'lab3/test/suite.ts~',
      'checker/models/Thumbs.db',
      'lab3/test/my-config.json',
    ])
      add(root, junk, 'x');
    expect(checkTree(root)).to.deep.equal({ manifest: true, tampered: [] });
  });

  it('names an added module that Node would load instead of a protected one', () => {
    const { root, manifest } = makeTemplate();
    add(root, 'lab5/glob.js');
    add(root, 'lab3/rpc.json', '{}');
    add(root, 'labrpc.js');
    add(root, 'lab3/rpc'); // red team: node loads a file named exactly as required before it adds an extension
    expect(findAddedFiles(root, manifest)).to.deep.equal([
      { file: 'lab3/rpc', change: 'added', why: 'would be loaded instead of lab3/rpc.ts' },
      { file: 'lab3/rpc.json', change: 'added', why: 'would be loaded instead of lab3/rpc.ts' },
      { file: 'lab5/glob.js', change: 'added', why: 'would be loaded instead of lab5/glob.ts' },
      { file: 'labrpc.js', change: 'added', why: 'would be loaded instead of labrpc/index.ts' },
    ]);
  });

  it('names any added file inside a protected folder, a nested node_modules and a project .npmrc', () => {
    const { root, manifest } = makeTemplate();
    add(root, 'checker/models/index.js');
    add(root, 'lab3/test/harness.js');
    add(root, 'grader/extra/plugin.ts');
    add(root, 'lab3/node_modules/chai/index.js');
    // Red team: a lab folder's package.json named "ioredis", whose exports sent the kit's import to a student file.
    add(root, 'lab3/package.json', '{"name":"ioredis","exports":"./shim.js"}');
    add(root, '.npmrc', 'node-options=--require ./lab3/server.ts\n');
    fs.symlinkSync(path.join(root, 'lab3', 'server.ts'), path.join(root, 'checker', 'linked.ts'));
    expect(findAddedFiles(root, manifest).map((f) => `${f.file}: ${f.why}`)).to.deep.equal([
      '.npmrc: npm would read it when it runs the grader',
      'checker/linked.ts: new file in the protected folder checker/',
      'checker/models/index.js: would be loaded instead of checker/models/index.ts',
      'grader/extra/plugin.ts: new file in the protected folder grader/',
      'lab3/node_modules: packages here would be loaded instead of the locked ones in the top-level node_modules',
      "lab3/package.json: node would read it to resolve the kit's imports (a package's name, exports and imports)",
      'lab3/test/harness.js: new file in the protected folder lab3/test/',
    ]);
    expect(addedFileProblem('lab3/broadcast.ts', manifest)).to.equal(undefined);
    expect(addedFileProblem('lab3/rpc.ts', manifest), 'a protected file itself is not "added"').to.equal(undefined);
  });

  it('the refusal lists changed, missing and added files and says what to do with each', () => {
    const { root } = makeTemplate();
    fs.appendFileSync(path.join(root, 'lab3/test/suite.ts'), '// easier\n');
    fs.rmSync(path.join(root, 'checker/models/kv.ts'));
    add(root, 'lab5/glob.js');
    const check = checkTree(root);
    expect(check.manifest && check.tampered.map((f) => `${f.file} ${f.change}`)).to.deep.equal([
      'checker/models/kv.ts missing',
      'lab3/test/suite.ts changed',
      'lab5/glob.js added',
    ]);
    const message = new TamperError(check.manifest ? check.tampered : []).message;
    expect(message)
      .to.contain('checker/models/kv.ts (missing) and lab3/test/suite.ts (changed)')
      .and.contain('lab5/glob.js (added: would be loaded instead of lab5/glob.ts)')
      .and.contain('git checkout')
      .and.contain('Delete the added files');
    const onlyAdded = new TamperError([{ file: 'lab5/glob.js', change: 'added', why: 'x' }]).message;
    expect(onlyAdded).not.to.contain('must stay exactly').and.not.to.contain('git checkout');
  });
});
