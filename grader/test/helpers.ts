/** Shared pieces of the grader's own tests: fixture roots, an output collector, a temp folder, an XML checker. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GradeOptions, TextSink } from '../types';

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
  /** A rubric that names a test the suite lacks and misses one it has. */
  badrubric: path.join(__dirname, 'fixtures', 'badrubric'),
} as const;

/** Every test of the fixture lab except TestFlaky (whose outcome depends on the seed). */
export const STEADY_TESTS = ['TestBasic', 'TestWrongAnswer', 'TestHang', 'TestExit', 'TestTimerThrow', 'TestTickThrow', 'TestRejection', 'TestOutOfMemory', 'TestFinal'];

/** A text sink that keeps what is written. */
export class Collector implements TextSink {
  text = '';
  constructor(readonly isTTY = false) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'kvlabs-grader-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Options for grading the fixture lab quietly and quickly (small heap, short grace), collecting output. */
export function fixtureOptions(root: string, extra: Partial<GradeOptions> = {}): GradeOptions & { out: Collector; err: Collector } {
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

/**
 * Parses well-formed XML (no DTDs) into elements; throws on anything malformed: unbalanced or misnested tags,
 * bad attributes, unknown entities, text outside the root, control characters.
 */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`malformed XML at ${i}: ${why}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const entity = (s: string): string =>
    s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);|&/g, (m, e: string | undefined) => {
      if (!e) return fail('bare &');
      if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
      if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      return named[e] ?? fail(`unknown entity ${m}`);
    });
  if (/[\x00-\x08\x0B\x0C\x0E-\x1F]/.test(xml)) fail('control character');
  const skip = (): void => {
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(i));
      i += ws ? ws[0].length : 0;
      if (xml.startsWith('<?', i)) i = xml.indexOf('?>', i) + 2;
      else if (xml.startsWith('<!--', i)) i = xml.indexOf('-->', i) + 3;
      else return;
    }
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.-]*)/.exec(xml.slice(i)) ?? fail('expected a tag');
    i += open[0].length;
    const el: XmlElement = { name: open[1], attributes: {}, children: [], text: '' };
    for (;;) {
      const attr = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/.exec(xml.slice(i));
      if (!attr) break;
      if (attr[1] in el.attributes) fail(`duplicate attribute ${attr[1]}`);
      el.attributes[attr[1]] = entity(attr[2]);
      i += attr[0].length;
    }
    const ws = /^\s*/.exec(xml.slice(i));
    i += ws ? ws[0].length : 0;
    if (xml.startsWith('/>', i)) {
      i += 2;
      return el;
    }
    if (xml[i] !== '>') fail('expected > or />');
    i++;
    for (;;) {
      if (xml.startsWith('</', i)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(xml.slice(i)) ?? fail('bad closing tag');
        if (close[1] !== el.name) fail(`</${close[1]}> closes <${el.name}>`);
        i += close[0].length;
        return el;
      }
      if (xml.startsWith('<!--', i)) i = xml.indexOf('-->', i) + 3;
      else if (xml.startsWith('<![CDATA[', i)) {
        const end = xml.indexOf(']]>', i);
        if (end < 0) fail('unclosed CDATA');
        el.text += xml.slice(i + 9, end);
        i = end + 3;
      } else if (xml[i] === '<') el.children.push(element());
      else {
        const end = xml.indexOf('<', i);
        if (end < 0) fail('unclosed element');
        el.text += entity(xml.slice(i, end));
        i = end;
      }
    }
  };
  skip();
  const root = element();
  skip();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

/** All descendants named `name`. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)]);
}
