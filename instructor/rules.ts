/**
 * The handout's rules against the tests: every sentence of a lab's handout that states a requirement ("must", "at
 * no other time", "is required") is answered in the lab's `test/promises.md`, under "## The handout's rules", by the
 * named tests that check it, or is called advice there with the reason no test can check it. A rule with neither is
 * a promise nobody keeps, and the kit test that runs `ruleProblems` names it.
 */

/** The heading of the section of promises.md that answers the handout's rules. */
export const RULES_HEADING = "## The handout's rules";

/** Words that make a handout sentence a rule. */
const RULE_WORDS = /\bmust\b|\bat no other time\b|\b(?:is|are) required\b/i;

/** One answer in promises.md: a quoted piece of a handout rule, and the tests that check it or why it is advice. */
export interface RuleEntry {
  /** The quoted text: a piece of exactly one rule sentence of the handout (whitespace-insensitive). */
  readonly excerpt: string;
  /** The named tests that check the rule (empty for advice). */
  readonly tests: readonly string[];
  /** Why no test checks it, when it is advice. */
  readonly advice?: string;
  /** Its line in promises.md (1-based), for messages. */
  readonly line: number;
}

/** `text` with runs of white space made one space. */
function squeeze(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The handout's rule sentences, in order: fenced code and tables left out, each sentence on one line. */
export function handoutRules(markdown: string): string[] {
  const prose = markdown
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('|'))
    .join('\n');
  const blocks = prose.split(/\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )|\n(?=#)/);
  const sentences = blocks.flatMap((b) => squeeze(b).split(/(?<=[.!?:])\s+(?=[A-Z`*("])/));
  return sentences.filter((s) => RULE_WORDS.test(s));
}

/** The answers under RULES_HEADING: lines `- "excerpt": TestA, TestB` or `- "excerpt": advice: why`. */
export function ruleEntries(promises: string): { entries: RuleEntry[]; malformed: number[] } {
  const lines = promises.split('\n');
  const start = lines.findIndex((l) => l.trim() === RULES_HEADING);
  const entries: RuleEntry[] = [];
  const malformed: number[] = [];
  if (start < 0) return { entries, malformed };
  for (let i = start + 1; i < lines.length && !lines[i].startsWith('## '); i++) {
    const line = lines[i];
    if (!line.startsWith('- ')) continue;
    const m = /^- "(.+)": (.+)$/.exec(line.trim());
    if (!m) {
      malformed.push(i + 1);
      continue;
    }
    const [, excerpt, answer] = m;
    const advice = /^advice: (.+)$/.exec(answer);
    const tests = advice ? [] : answer.split(',').map((t) => t.trim().replace(/\*$/, ''));
    entries.push({ excerpt: squeeze(excerpt), tests, advice: advice?.[1], line: i + 1 });
  }
  return { entries, malformed };
}

/** What is wrong with a lab's answers to its handout's rules; empty when every rule is answered and every answer holds. */
export function ruleProblems(
  lab: string,
  handout: string,
  promises: string | undefined,
  testNames: readonly string[],
): string[] {
  const where = `${lab}/test/promises.md`;
  if (promises === undefined) return [`${where} is missing: it must answer every rule of ${lab}/README.md.`];
  const rules = handoutRules(handout);
  const { entries, malformed } = ruleEntries(promises);
  const problems = malformed.map(
    (n) => `${where}:${n} is not of the form - "piece of the rule": TestA, TestB (or - "piece": advice: why).`,
  );
  for (const rule of rules) {
    if (!entries.some((e) => rule.includes(e.excerpt)))
      problems.push(
        `${lab}/README.md states a rule that ${where} does not answer: "${rule}". Add a line under ` +
          `"${RULES_HEADING}" quoting a piece of it with the tests that check it, or call it advice and say why ` +
          'no test can check it (then consider rewording the handout so it does not say "must").',
      );
  }
  for (const name of new Set(promises.match(/\bTest[A-Z]\w*/g) ?? []))
    if (!testNames.includes(name)) problems.push(`${where} names ${name}, which is not a test of ${lab}.`);
  for (const e of entries) {
    const matches = rules.filter((r) => r.includes(e.excerpt)).length;
    if (matches === 0)
      problems.push(`${where}:${e.line} quotes "${e.excerpt}", which is in no rule sentence of ${lab}/README.md.`);
    else if (matches > 1)
      problems.push(`${where}:${e.line} quotes "${e.excerpt}", which is in ${matches} rule sentences: quote more.`);
    if (e.tests.length === 0 && e.advice === undefined) problems.push(`${where}:${e.line} names no test.`);
  }
  return problems;
}
