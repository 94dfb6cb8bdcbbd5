/** Shared pieces of the grader's own tests: fixture roots, an output collector, a temp folder, an XML checker. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Job } from '../../../grader/protocol';
import { runJobs } from '../../../grader/supervisor';
import type { GradeOptions, TextSink } from '../../../grader/types';
import { materialiseMutant, removeMutant, type Mutant } from '../../../solutions/mutants';

/** Fixture roots (each holds lab9/ and solutions/lab9/). */
export const FIXTURES = {
  /** Student code that misbehaves differently in each test; a correct solution. */
  crashy: path.join(__dirname, 'fixtures', 'crashy'),
  /** An untouched skeleton (everything throws "TODO"); a correct solution. */
  clean: path.join(__dirname, 'fixtures', 'clean'),
  /** Student code that tries to forge its grade in every way the red-team tests know (honest score 30/70). */
  hostile: path.join(__dirname, 'fixtures', 'hostile'),
  /** A correct counter with a type error (kept out of the kit's own type check). */
  typeerror: path.join(__dirname, 'fixtures', 'typeerror'),
  /** Student code that renamed the class the suite loads. */
  noexport: path.join(__dirname, 'fixtures', 'noexport'),
  /** Student code that throws while it is being loaded. */
  unloadable: path.join(__dirname, 'fixtures', 'unloadable'),
  /** A two-test lab whose first test must run in a test process of its own (TestDefinition.ownProcess). */
  ownprocess: path.join(__dirname, 'fixtures', 'ownprocess'),
  /** A lab whose first test is codeElsewhere (judged where the code never loads); the student's code does not load. */
  elsewhere: path.join(__dirname, 'fixtures', 'elsewhere'),
  /** Lab 9 in real mode: a hostile counter, in a process of its own, that tries to forge its verdict from there (honest 20/100). */
  rtforge: path.join(__dirname, 'fixtures', 'rtforge'),
  /** A one-test lab whose test process stops itself for longer than its limit (simulated tests' CPU-time limit). */
  starved: path.join(__dirname, 'fixtures', 'starved'),
  /** A suite whose scoring is wrong: two tests share a name, one is worth negative points. */
  badrubric: path.join(__dirname, 'fixtures', 'badrubric'),
} as const;

/** Every test of the fixture lab except TestFlaky (whose outcome depends on the seed). */
export const STEADY_TESTS = [
  'TestBasic',
  'TestWrongAnswer',
  'TestHang',
  'TestExit',
  'TestTimerThrow',
  'TestTickThrow',
  'TestRejection',
  'TestOutOfMemory',
  'TestFinal',
];

/** A text sink that keeps what is written. */
export class Collector implements TextSink {
  readonly isTTY: boolean;
  text = '';
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/**
 * A kit root whose reference solution of `lab` is one of its mutants (graded with `target: 'solution'`): the lab's
 * folder and labrpc/ are links to the kit's; grade it with `compartment: false, permissions: false`, since the
 * sandbox's loader and grants go by the paths it is given, not the ones the links lead to.
 */
export function mutantRoot(lab: string, mutant: Mutant): string {
  const kit = path.resolve(__dirname, '../../..');
  const root = tempDir('kvlabs-mutant-');
  for (const d of [lab, 'labrpc']) fs.symlinkSync(path.join(kit, d), path.join(root, d), 'dir');
  const dir = materialiseMutant(path.join(kit, 'solutions', lab), mutant);
  try {
    fs.cpSync(dir, path.join(root, 'solutions', lab), { recursive: true });
  } finally {
    removeMutant(dir);
  }
  return root;
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'kvlabs-grader-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Options for grading the fixture lab quietly and quickly (small heap, short grace), collecting output. */
export function fixtureOptions(
  root: string,
  extra: Partial<GradeOptions> = {},
): GradeOptions & { out: Collector; err: Collector } {
  return {
    lab: 'lab9',
    root,
    reportDir: tempDir(),
    heapLimitMb: 96,
    killGraceMs: 300,
    bootTimeoutMs: 30_000,
    color: false,
    env: {},
    ...extra,
    out: new Collector(),
    err: new Collector(),
  };
}

/** A parsed XML element (enough for JUnit files). */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** One node of fast-xml-parser's ordered output: `{ tag: children, ':@': attributes }` or `{ '#text': text }`. */
type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string>; '#text'?: string };

const XML = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
});

/**
 * Parses well-formed XML into elements (fast-xml-parser); throws on anything malformed, including the control
 * characters XML 1.0 forbids (which a JUnit reader would choke on).
 */
export function parseXml(xml: string): XmlElement {
  if (/[\x00-\x08\x0B\x0C\x0E-\x1F]/.test(xml))
    throw new Error('malformed XML: a control character XML 1.0 does not allow');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`malformed XML at line ${valid.err.line}: ${valid.err.msg}`);
  const build = (node: OrderedNode): XmlElement | undefined => {
    const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
    if (name === undefined || name.startsWith('?')) return undefined;
    const el: XmlElement = { name, attributes: { ...(node[':@'] ?? {}) }, children: [], text: '' };
    for (const child of node[name] as OrderedNode[]) {
      if (child['#text'] !== undefined) el.text += child['#text'];
      else {
        const c = build(child);
        if (c) el.children.push(c);
      }
    }
    return el;
  };
  const roots = (XML.parse(xml) as OrderedNode[]).map(build).filter((e): e is XmlElement => e !== undefined);
  if (roots.length !== 1) throw new Error(`malformed XML: ${roots.length} root elements`);
  return roots[0];
}

/** All descendants named `name`. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)]);
}

/** The kit's root folder. */
const KIT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Status and message of `test` of `lab` for the code in `dir`, graded in a test process of the grader's (seed 3). */
export async function gradedInProcess(lab: string, test: string, dir: string): Promise<[string, string]> {
  const jobs: Job[] = [{ index: 0, test, seed: 3, realLimitMs: 120_000 }];
  const [record] = await runJobs(jobs, {
    config: { suitePath: path.join(KIT_ROOT, lab, 'test', 'suite.ts'), implDir: dir },
    heapLimitMb: 1024,
    killGraceMs: 2000,
    bootTimeoutMs: 60_000,
  });
  return [record.status, record.message];
}
