/** The HTML history viewer and checkOrExplain. */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkOrExplain } from '../../../checker/explain';
import { check } from '../../../checker/linearizability';
import { kvModel, KvInput, KvOutput } from '../../../checker/models/kv';
import type { Operation } from '../../../checker/types';
import { escapeHtml, renderHistoryHtml } from '../../../checker/viewer/html';
import { append, get, put } from './helpers';

type KvOp = Operation<KvInput, KvOutput>;

/** Asserts that a page needs nothing from outside the file. */
function assertSelfContained(html: string): void {
  expect(html).to.match(/^<!DOCTYPE html>/);
  expect(html).to.not.match(/https?:\/\//i);
  expect(html).to.not.match(/<link\b/i);
  expect(html).to.not.match(/<(script|img|iframe)\b[^>]*\bsrc=/i);
  expect(html).to.not.match(/@import|url\(/i);
  expect(html).to.include('<style>');
  expect(html).to.include('<script>');
}

/** Clients 0..2 on key a, a stale read by client 2, and a fine key b by client 3. */
const history: KvOp[] = [
  put(0, 'a', 'x', 0, 2),
  append(1, 'a', 'y', 'x', 3, 5),
  get(2, 'a', 'x', 6, 8),
  put(3, 'b', 'z', 0, 1),
  get(3, 'b', 'z', 2, 3),
];

describe('HTML history viewer', () => {
  it('is self-contained and shows every client lane and the operation that could not be placed', () => {
    const result = check(kvModel, history, { allPartitions: true });
    expect(result.verdict).to.equal('illegal');
    const html = renderHistoryHtml(kvModel, history, result, { title: 'TestStale', subtitle: 'seed=42' });
    assertSelfContained(html);
    for (const c of [0, 1, 2, 3]) expect(html).to.include(`data-client="${c}"`);
    expect(html).to.match(/<div class="op unplaced" data-op="2"/);
    expect(html.match(/class="op unplaced[^"]*" data-op=/g)).to.have.length(1);
    expect(html).to.include('<span class="badge">1</span>');
    expect(html).to.include('<span class="badge">2</span>');
    expect(html).to.include('key &#34;a&#34;');
    expect(html).to.include('key &#34;b&#34;');
    expect(html).to.include('TestStale');
    expect(html).to.include('seed=42');
    expect(html).to.include('Not linearizable');
  });

  it('lists the longest legal order with the state after each step', () => {
    const result = check(kvModel, history);
    const html = renderHistoryHtml(kvModel, history, result);
    expect(html).to.include('<tr class="placed" data-op="0"><td>1</td>');
    expect(html).to.include('<tr class="placed" data-op="1"><td>2</td>');
    expect(html).to.include('<code>&#34;xy&#34;</code>');
    expect(html).to.include('<tr class="unplaced" data-op="2">');
    expect(html).to.include('cannot follow &#34;xy&#34;');
  });

  it('escapes every piece of text from the history', () => {
    const nasty: KvOp[] = [
      put(0, '<k>', '</div><script>alert("x")</script>', 0, 1),
      get(1, '<k>', "' onmouseover='bad", 2, 3),
    ];
    const result = check(kvModel, nasty);
    const html = renderHistoryHtml(kvModel, nasty, result, { title: '<b>t</b>', explanation: 'a < b & c' });
    expect(html).to.not.include('<script>alert');
    expect(html).to.not.include("' onmouseover='");
    expect(html).to.not.include('<k>');
    expect(html).to.not.include('<b>t</b>');
    expect(html).to.include('a &#60; b &#38; c');
    expect(html.match(/<script>/g)).to.have.length(1);
    expect(escapeHtml(`<&>"'`)).to.equal('&#60;&#38;&#62;&#34;&#39;');
  });

  it('draws a passing history on request, with every operation numbered', () => {
    const ok: KvOp[] = [put(0, 'a', 'x', 0, 2), get(1, 'a', 'x', 1, 3), put(2, 'a', 'y', 0, Infinity)];
    const result = check(kvModel, ok);
    expect(result.verdict).to.equal('ok');
    const html = renderHistoryHtml(kvModel, ok, result, { showPassing: true });
    assertSelfContained(html);
    expect(html).to.include('Linearizable');
    expect(html).to.include('<span class="badge">1</span>');
    expect(html).to.include('<span class="badge">2</span>');
    expect(html).to.include('op rest pending');
    expect(html).to.not.match(/class="op unplaced[^"]*" data-op=/);
  });

  it('shows a window around the problem for a long history', () => {
    const long: KvOp[] = [];
    for (let i = 0; i < 1000; i++) long.push(append(i % 3, 'k', 'x', 'x'.repeat(i), 2 * i, 2 * i + 1));
    long.push(get(5, 'k', 'nope', 5000, 5001));
    const result = check(kvModel, long);
    expect(result.unplaced).to.deep.equal([1000]);
    const html = renderHistoryHtml(kvModel, long, result, { maxBars: 50 });
    expect(html).to.match(/Showing \d+ of 1001 operations/);
    expect(html).to.match(/<div class="op unplaced" data-op="1000"/);
    expect(html.match(/<div class="op /g)!.length).to.be.at.most(60);
  });
});

describe('checkOrExplain', () => {
  it('explains which operation could not be placed, after which prefix, in which state', () => {
    const { result, explanation, html, htmlPath } = checkOrExplain(kvModel, history, { html: true });
    expect(result.verdict).to.equal('illegal');
    expect(explanation).to.include('Not linearizable (key "a")');
    expect(explanation).to.include('client 1: append("a", "y") → "x"');
    expect(explanation).to.include('state "xy"');
    expect(explanation).to.include('✗  client 2: get("a") → "x"');
    expect(explanation).to.include('called 6 ms, returned 8 ms');
    expect(html).to.be.a('string');
    expect(html).to.include('class="op unplaced');
    expect(htmlPath).to.equal(undefined);
  });

  it('writes the page to htmlPath (creating folders) only when the history fails, unless asked', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lincheck-'));
    try {
      const bad = path.join(dir, 'deep', 'bad.html');
      const out = checkOrExplain(kvModel, history, { htmlPath: bad, title: 'TestX' });
      expect(out.htmlPath).to.equal(bad);
      assertSelfContained(fs.readFileSync(bad, 'utf8'));
      const okPath = path.join(dir, 'ok.html');
      const ok = checkOrExplain(kvModel, history.slice(0, 2), { htmlPath: okPath });
      expect(ok.result.verdict).to.equal('ok');
      expect(ok.explanation).to.match(/^Linearizable: 2 operations/);
      expect(fs.existsSync(okPath)).to.equal(false);
      checkOrExplain(kvModel, history.slice(0, 2), { htmlPath: okPath, htmlWhenOk: true });
      expect(fs.existsSync(okPath)).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which budget an undecided check ran out of: time, or steps', () => {
    const ops: KvOp[] = [];
    for (let i = 0; i < 14; i++) ops.push(append(i, 'k', String.fromCharCode(97 + i), undefined, 0, 10));
    ops.push(get(20, 'k', 'impossible', 20, 21));
    const timed = checkOrExplain(kvModel, ops, { timeoutMs: 100 });
    expect(timed.result.verdict).to.equal('unknown');
    expect(timed.explanation).to.match(/^Undecided: the checker could not finish within its 100 ms budget/);
    expect(timed.explanation).to.include('ran out of time after placing');
    const counted = checkOrExplain(kvModel, ops, { stepBudget: 500, timeoutMs: 60_000 });
    expect(counted.explanation).to.match(
      /^Undecided: the checker could not finish within its budget of 500 search steps/,
    );
    expect(counted.explanation).to.include('ran out of search steps after placing');
  });
});
