'use strict';
/**
 * Entry point of a grader worker thread. Makes .ts files loadable, makes sure global.gc exists (memory tests
 * need it), then hands over to worker.ts.
 *
 * TypeScript is transpiled (never type-checked) as ts-node's transpile-only mode does, but every output is
 * kept in a cache keyed by the file's contents, so a replacement worker (after a test crashed the previous
 * one) or the next `npm run grade` starts without loading the compiler at all.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { threadId } = require('node:worker_threads');

const repo = path.join(__dirname, '..');
const cacheDir = path.join(repo, 'node_modules', '.cache', 'kvlabs-grader');
const HOOK_VERSION = '1';

/** Everything that changes the compiler's output besides the source file itself. */
function cacheSalt() {
  const read = (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return [HOOK_VERSION, process.version, read(path.join(repo, 'node_modules', 'typescript', 'package.json')), read(path.join(repo, 'tsconfig.json'))].join('\0');
}

let compiler;
/** Loads TypeScript and the project's compiler options, the first time a file is not in the cache. */
function loadCompiler() {
  if (compiler) return compiler;
  const ts = require('typescript');
  const configFile = path.join(repo, 'tsconfig.json');
  const parsed = ts.parseConfigFileTextToJson(configFile, fs.readFileSync(configFile, 'utf8'));
  const converted = ts.convertCompilerOptionsFromJson((parsed.config && parsed.config.compilerOptions) || {}, repo);
  const options = {
    ...converted.options,
    module: ts.ModuleKind.CommonJS,
    noEmit: false,
    declaration: false,
    sourceMap: false,
    inlineSourceMap: true,
    inlineSources: false,
  };
  compiler = { ts, options };
  return compiler;
}

/** A path for people: relative to the current directory when inside it. */
function shown(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Transpiles one file; a syntax error becomes an error that names the file, line and column. */
function transpile(source, filename) {
  const { ts, options } = loadCompiler();
  const out = ts.transpileModule(source, { fileName: filename, compilerOptions: options, reportDiagnostics: true });
  const errors = (out.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const lines = errors.slice(0, 5).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return `error TS${d.code}: ${text}`;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${shown(d.file.fileName)}:${line + 1}:${character + 1} - error TS${d.code}: ${text}`;
    });
    const err = new SyntaxError(`TypeScript cannot compile ${shown(filename)}:\n${[...new Set(lines)].join('\n')}`);
    err.stack = `${err.name}: ${err.message}`;
    throw err;
  }
  return out.outputText;
}

const salt = cacheSalt();

require.extensions['.ts'] = function loadTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha1').update(salt).update('\0').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = transpile(source, filename);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}.${threadId}.tmp`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, cached);
    } catch {
      // A read-only node_modules only costs speed.
    }
  }
  module._compile(code, filename);
};

// Stack traces point at the .ts lines students wrote (the output carries inline source maps).
if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);

if (typeof globalThis.gc !== 'function') {
  // The grade script starts node with --expose-gc; when it was not (mocha, a plain node), expose it here.
  require('node:v8').setFlagsFromString('--expose-gc');
  globalThis.gc = require('node:vm').runInNewContext('gc');
}

require('./worker.ts');
