/** The tracked files speak of the kit, never of how it was made: no sessions, sittings, rounds of work, or helpers, assistants or agents as people. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The kit's root: mocha runs from it.
const ROOT = process.cwd();

/** One kind of word about how the kit was made, and the pattern that finds it (case-insensitive, per line). */
interface MadeOfPattern {
  /** What the words say, for the failure message. */
  readonly what: string;
  readonly pattern: RegExp;
}

/**
 * The patterns. Each is narrow enough to leave the kit's own words alone: a `helper` function, "helpers' names" in
 * a handout, lab 5's `session:a` keys, an HTTP keep-alive `agent`, GitHub Classroom Assistant (a tool the docs name).
 */
export const MADE_OF: readonly MadeOfPattern[] = [
  { what: 'a working session', pattern: /\bsessions?\b(?!:)/i },
  { what: 'a sitting', pattern: /\bsittings?\b/i },
  { what: 'a round of work', pattern: /\brounds? of work\b/i },
  { what: 'a "blind" round or tester as a name for who', pattern: /\bblind (rounds?|testers?|helpers?|bugs?)\b/i },
  {
    what: 'a helper as a person',
    pattern: /\bhelpers? (who|that (never|had|wrote|changed|saw)|wrote|under|told|got|listed|found)\b/i,
  },
  {
    what: 'helpers as people',
    pattern:
      /\b(by|beside|with|from|for|to|of) ((a|an|the|two|three|four|five|six|seven|eight|new|other|several) )+helpers\b/i,
  },
  { what: 'an assistant', pattern: /(?<!classroom )\bassistants?\b/i },
  { what: 'an agent as a worker', pattern: /\b(ai|coding|llm|software|autonomous) agents?\b|\bsub-?agents?\b/i },
  {
    what: 'a model or its maker',
    pattern: /\b(claude|llms?|chatgpt|gpt-?\d|copilot|anthropic|openai|language models?)\b/i,
  },
];

/** Files no pattern is run on, each with why. */
const NOT_SEARCHED: ReadonlyMap<string, string> = new Map([
  ['instructor/test/wording.test.ts', 'this file: it spells the patterns out'],
  ['package-lock.json', "third-party packages' names and descriptions"],
]);

/** One line that says how the kit was made. */
interface Hit {
  readonly file: string;
  readonly line: number;
  readonly what: string;
  readonly text: string;
}

/** The hits of `text` (the file `file`). */
export function madeOfHits(file: string, text: string): Hit[] {
  const hits: Hit[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { what, pattern } of MADE_OF)
      if (pattern.test(line)) hits.push({ file, line: i + 1, what, text: line.trim().slice(0, 160) });
  });
  return hits;
}

/** The tracked files, as git lists them. */
function trackedFiles(): string[] {
  const ls = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (ls.status !== 0) throw new Error(`git ls-files failed: ${ls.stderr}`);
  return ls.stdout.split('\0').filter((f) => f !== '');
}

describe('the words of the tracked files', function () {
  this.timeout(60_000);

  it('find each kind of word about how the kit was made, and leave the kit’s own words alone', () => {
    const said = [
      'On 2026-11-24 (fourth session) a helper that never saw the suites wrote 24 bugs',
      'a blind tester’s bug',
      'from the fifth blind round',
      'the sweeps ran beside five helpers',
      'swept by the helpers that changed them',
      'in the third sitting',
      'written with an AI assistant',
      'a coding agent wrote it',
      'Claude found it',
    ];
    for (const line of said) expect(madeOfHits('x.md', line), line).to.have.length.greaterThan(0);
    const kits = [
      'Keep helpers in plain functions',
      "start your helpers' names with `_`",
      "await countedExpect(k, ['SET', 'session:a', 'v'], 'OK');",
      'the keep-alive agent to use',
      'GitHub Classroom Assistant',
      'TestEventualBlindOverwrite',
      'a helper file a student added',
    ];
    for (const line of kits) expect(madeOfHits('x.md', line), line).to.deep.equal([]);
  });

  it('say nothing of how the kit was made', () => {
    const hits: Hit[] = [];
    for (const file of trackedFiles()) {
      if (NOT_SEARCHED.has(file)) continue;
      const full = path.join(ROOT, file);
      if (!fs.existsSync(full) || !fs.statSync(full).isFile()) continue;
      const buf = fs.readFileSync(full);
      if (buf.includes(0)) continue; // binary
      hits.push(...madeOfHits(file, buf.toString('utf8')));
    }
    const lines = hits.map((h) => `${h.file}:${h.line}: ${h.what}: ${h.text}`);
    expect(
      lines,
      `${hits.length} line(s) speak of how the kit was made, not of the kit. Say what the kit does or how it was ` +
        'measured; a round of bugs is "an independent round of bugs written from the handouts alone":\n' +
        lines.join('\n'),
    ).to.deep.equal([]);
  });
});
