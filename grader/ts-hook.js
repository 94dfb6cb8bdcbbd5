'use strict';
/**
 * The grader's TypeScript loader: transpiles .ts files (never type-checks) as ts-node's transpile-only mode
 * does, with every output kept in a compile cache keyed by the file's path and contents, the compiler version
 * and tsconfig. Only the trusted grader writes the cache (`prepareCache`, before any student code runs); the
 * sandboxed test process only reads it (`install`), compiling in memory what the cache lacks.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const { SourceMap } = require('node:module');
const path = require('node:path');

const repo = path.join(__dirname, '..');
/** The kit's own compile cache (a batch run gives each submission its own). */
const DEFAULT_CACHE_DIR = path.join(repo, 'node_modules', '.cache', 'kvlabs-grader');
const HOOK_VERSION = '3';

/**
 * The kit's folders whose files run on the harness's side only, compiled as tsconfig says. Every other file (a lab
 * folder's own, a solution's, a submission's) may be code under test, and compiles for ES2021 with class fields
 * defined as ES2022 defines them: its private names (#x) become WeakMaps of its module's own. Native private fields
 * can be added to any object, frozen or not, a realm intrinsic too (a constructor may return an existing object), so
 * a server could keep tables there that no removal of it frees; a WeakMap goes with the module copy that made it.
 */
const HARNESS_FILES = /^(grader|suite|world|labrpc|checker|instructor)\/|^(solutions\/)?lab\d+\/test\//;

/** Whether `filename` is one of the harness's own files (HARNESS_FILES). */
function isHarnessFile(filename) {
  const rel = path.relative(repo, filename).split(path.sep).join('/');
  return !rel.startsWith('..') && !path.isAbsolute(rel) && HARNESS_FILES.test(rel);
}

/** Everything that changes the compiler's output besides the source file itself. */
function cacheSalt() {
  const read = (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return [
    HOOK_VERSION,
    process.version,
    read(path.join(repo, 'node_modules', 'typescript', 'package.json')),
    read(path.join(repo, 'tsconfig.json')),
  ].join('\0');
}

let salt;
/** The cache file for `filename` with contents `source` (keyed by the path inside the repository, so copies of the kit share keys). */
function cachedPath(cacheDir, filename, source) {
  if (salt === undefined) salt = cacheSalt();
  const rel = path.relative(repo, filename);
  const name = rel.startsWith('..') || path.isAbsolute(rel) ? filename : rel;
  const key = crypto
    .createHash('sha1')
    .update(salt)
    .update('\0')
    .update(name)
    .update('\0')
    .update(isHarnessFile(filename) ? 'harness' : 'code')
    .update('\0')
    .update(source)
    .digest('hex');
  return path.join(cacheDir, `${key}.js`);
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
    // CommonJS, whatever tsconfig's module (node20 there: CommonJS too, but with import() left to Node's ESM loader):
    // the grader's own require, and the compartment's, load every module.
    module: ts.ModuleKind.CommonJS,
    noEmit: false,
    declaration: false,
    sourceMap: false,
    inlineSourceMap: true,
    inlineSources: false,
  };
  // A transpile resolves nothing, and tsconfig's moduleResolution (node16) is an error beside module CommonJS.
  delete options.moduleResolution;
  const codeOptions = { ...options, target: ts.ScriptTarget.ES2021, useDefineForClassFields: true };
  compiler = { ts, options, codeOptions };
  return compiler;
}

/** A path for people: relative to the current directory when inside it. */
function shown(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Transpiles one file; a syntax error becomes an error that names the file, line and column. */
function transpile(source, filename) {
  const { ts, options, codeOptions } = loadCompiler();
  const compilerOptions = isHarnessFile(filename) ? options : codeOptions;
  const out = ts.transpileModule(source, { fileName: filename, compilerOptions, reportDiagnostics: true });
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

/** Every .ts file under `dir` (recursively, skipping node_modules and dot folders). */
function tsFilesUnder(dir) {
  const out = [];
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFilesUnder(full));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Module code that throws the compiler's SyntaxError (file, line and column in its message) when loaded. */
function throwing(message) {
  return `const e = new SyntaxError(${JSON.stringify(message)}); e.stack = e.name + ': ' + e.message; throw e;\n`;
}

/** Writes `code` to `file` atomically. */
function writeAtomically(file, code) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, file);
}

/**
 * Trusted side: makes sure the cache in `cacheDir` holds each of `files` (absolute .ts paths; a file that does
 * not compile is cached as code that throws its SyntaxError, so that the sandbox never needs the compiler: it
 * may not be able to read the typescript package behind a batch's linked node_modules). Files for which `shareable(file)` is true (the
 * kit's, never the code under test) are also kept in, and taken from, `sharedDir`, so that a batch does not
 * compile the kit once per submission. Returns how many files were compiled.
 */
function prepareCache(files, cacheDir, sharedDir, shareable) {
  let compiled = 0;
  for (const file of files) {
    let source;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const cached = cachedPath(cacheDir, file, source);
    if (fs.existsSync(cached)) continue;
    const share = sharedDir && shareable && shareable(file) ? cachedPath(sharedDir, file, source) : undefined;
    if (share && fs.existsSync(share)) {
      writeAtomically(cached, fs.readFileSync(share));
      continue;
    }
    let code;
    try {
      code = transpile(source, file);
    } catch (err) {
      if (!(err instanceof SyntaxError)) continue;
      writeAtomically(cached, throwing(err.message));
      continue;
    }
    writeAtomically(cached, code);
    if (share) writeAtomically(share, code);
    compiled++;
  }
  return compiled;
}

/** The JavaScript this process loaded for each .ts file, by path: where `sourceMapOf` reads a file's map from. */
const loadedCode = new Map();
/** Each file's source map once asked for (null: it has none). */
const sourceMaps = new Map();
/** The inline source map at the end of the compiler's output. */
const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** Untrusted side: the JavaScript of the .ts file `filename`, from the cache in `cacheDir` or compiled in memory (never written). */
function compiledCode(cacheDir, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  let code;
  try {
    code = fs.readFileSync(cachedPath(cacheDir, filename, source), 'utf8');
  } catch {
    code = transpile(source, filename);
  }
  loadedCode.set(path.resolve(filename), code);
  return code;
}

/**
 * The source map of a .ts file this process loaded (a node:module SourceMap), parsed at the first question: only a
 * stack trace that shows one of its frames asks. undefined for a file it did not load or whose output has no map.
 */
function sourceMapOf(filename) {
  const file = path.resolve(filename);
  if (!sourceMaps.has(file)) {
    const inline = loadedCode.get(file)?.match(INLINE_MAP);
    const payload = inline ? JSON.parse(Buffer.from(inline[1], 'base64').toString('utf8')) : undefined;
    // The compiler names sources relative to the file; a stack trace names them in full, as node's own maps do.
    if (payload) payload.sources = payload.sources.map((s) => path.resolve(path.dirname(file), s));
    sourceMaps.set(file, payload ? new SourceMap(payload) : null);
  }
  return sourceMaps.get(file) ?? undefined;
}

/**
 * Untrusted side: loads .ts files from the cache in `cacheDir`, compiling in memory what it lacks (never writing).
 * node's own source maps stay off: they parse every loaded file's map as it loads (about a sixth of a test process's
 * start); the sandbox's stack traces map the student's frames to their .ts lines through `sourceMapOf` instead.
 */
function install(cacheDir) {
  require.extensions['.ts'] = function loadTypeScript(module, filename) {
    module._compile(compiledCode(cacheDir, filename), filename);
  };
  guardKitLoads();
}

/**
 * The grader's own processes (trusted): load .ts files from `cacheDir`, compiling and storing what it lacks, so a
 * start with a warm cache loads no compiler at all. A cache that cannot be written only costs the compile.
 */
function installCaching(cacheDir) {
  require.extensions['.ts'] = function loadTypeScript(module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const cached = cachedPath(cacheDir, filename, source);
    let code;
    try {
      code = fs.readFileSync(cached, 'utf8');
    } catch {
      code = transpile(source, filename);
      try {
        writeAtomically(cached, code);
      } catch {
        // A read-only checkout: compile again next time.
      }
    }
    module._compile(code, filename);
  };
  if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);
  guardKitLoads();
}

/** Where the kit keeps the sha256 of every file students must not change (grader/manifest.ts reads it too). */
const MANIFEST_FILE = path.join('.kvlabs', 'manifest.json');

/** Whether `filename` lies in the kit's tree (`root`) and in no node_modules folder: a file node loads as kit code. */
function inKitTree(root, filename) {
  const rel = path.relative(root, filename);
  return !rel.startsWith('..') && !path.isAbsolute(rel) && !rel.split(path.sep).includes('node_modules');
}

/**
 * Makes node's own require, in this process, refuse a file of the kit's tree (outside node_modules) that is not kit
 * code, whatever folder it sits in: always, a file whose name has no module extension (node loads `lab2/load` as
 * JavaScript before it tries `lab2/load.ts`); and with `manifest` true, where the tree has a manifest (a released
 * template, a batch's work tree), any file the manifest does not list with that content. Student code never loads
 * through node's require where it is judged (the compartment reads its files itself), so a refusal only ever meets a
 * file put there to be loaded as the kit. Every extension's loader is wrapped, so the check runs before node
 * compiles anything; a later call may turn the manifest check on. Returns a function that takes the call's wrappers
 * off again (those still in place), for a process that grades more than one tree.
 */
function guardKitLoads(root = repo, { manifest: useManifest = false } = {}) {
  let manifest;
  if (useManifest) {
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(root, MANIFEST_FILE), 'utf8')).files;
    } catch {
      manifest = undefined;
    }
  }
  const registered = () => Object.keys(require.extensions);
  const refuse = (filename, why) => {
    const rel = path.relative(root, filename).split(path.sep).join('/');
    const err = new Error(
      `The grader refuses to load ${rel} as part of the kit: ${why}. ` +
        'Remove or rename that file (your own helpers need a .ts name and are loaded as your code), then grade again.',
    );
    err.stack = `${err.name}: ${err.message}`;
    return err;
  };
  const check = (filename) => {
    if (!inKitTree(root, filename)) return;
    const ext = path.extname(filename);
    if (!registered().includes(ext))
      throw refuse(filename, `its name has no module extension, yet node would load it in place of a kit module`);
    if (manifest === undefined) return;
    const rel = path.relative(root, filename).split(path.sep).join('/');
    const want = Object.prototype.hasOwnProperty.call(manifest, rel) ? manifest[rel] : undefined;
    if (want === undefined) throw refuse(filename, `the template's manifest (${MANIFEST_FILE}) does not list it`);
    const have = crypto.createHash('sha256').update(fs.readFileSync(filename)).digest('hex');
    if (have !== want) throw refuse(filename, `it differs from the template's copy`);
  };
  const wrapped = [];
  for (const ext of registered()) {
    const load = require.extensions[ext];
    const guarded = function guardedLoad(module, filename) {
      check(filename);
      return load(module, filename);
    };
    require.extensions[ext] = guarded;
    wrapped.push([ext, load, guarded]);
  }
  return () => {
    for (const [ext, load, guarded] of wrapped) if (require.extensions[ext] === guarded) require.extensions[ext] = load;
  };
}

module.exports = {
  DEFAULT_CACHE_DIR,
  prepareCache,
  compiledCode,
  sourceMapOf,
  install,
  installCaching,
  guardKitLoads,
  tsFilesUnder,
  transpile,
};
