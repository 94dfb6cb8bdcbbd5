/** Trace pages in a real browser: headless Chromium (Debian's chromium) driven by puppeteer-core, clicked as a student would. */
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { grade } from '../../../grader';
import { tracePage } from '../../../grader/reports/trace';
import type { TraceData, TraceEvent } from '../../../world';
import { launchChromium, syntheticTrace } from '../../browser';
import { FIXTURES, fixtureOptions } from './helpers';

/**
 * A planted bug, recorded as the world records it: at 5 ms client 0's append to "k" reaches the server, its reply is
 * lost, the clerk re-sends at 105 ms and the server applies it again. Then 3 s of traffic on other keys, until client
 * 2's get of "k" at 3 s returns "x0x0" and the test fails.
 */
const planted = (() => {
  const events: TraceEvent[] = [];
  let id = 1;
  const rpc = (t: number, from: string, method: string, args: unknown, reply: unknown, lost = false): number => {
    const me = ++id;
    events.push({ k: 'call', t, id: me, from, end: `${from}-end`, to: 'server-0', method, args });
    events.push({ k: 'deliver', t: t + 1, id: me });
    events.push({ k: 'handled', t: t + 1.5, id: me, reply });
    events.push(
      lost ? { k: 'drop', t: t + 2, id: me, which: 'reply', why: 'unreliable' } : { k: 'reply', t: t + 2, id: me },
    );
    if (lost) events.push({ k: 'timeout', t: t + 100, id: me });
    return me;
  };
  events.push({ k: 'op', t: 5, id: 1, lane: 'client 0', input: { op: 'append', key: 'k', value: 'x0' } });
  rpc(5, 'client 0', 'KVServer.Append', { key: 'k', value: 'x0' }, { old: '' }, true);
  rpc(105, 'client 0', 'KVServer.Append', { key: 'k', value: 'x0' }, { old: 'x0' });
  events.push({ k: 'ret', t: 107, id: 1, output: '' });
  let otherId = 0;
  for (let t = 200; t < 3000; t += 4) {
    const client = t % 8 === 0 ? 'client 1' : 'client 2';
    const key = String.fromCharCode(97 + (t % 5));
    const op = 100_000 + t;
    events.push({ k: 'op', t, id: op, lane: client, input: { op: 'put', key, value: `v${t}` } });
    otherId = rpc(t, client, 'KVServer.Put', { key, value: `v${t}` }, {});
    events.push({ k: 'ret', t: t + 2, id: op, output: '' });
  }
  events.push({ k: 'op', t: 3000, id: 99, lane: 'client 2', input: { op: 'get', key: 'k' } });
  rpc(3000, 'client 2', 'KVServer.Get', { key: 'k' }, { value: 'x0x0' });
  events.push({ k: 'ret', t: 3002, id: 99, output: 'x0x0' });
  const message =
    'The history of operations is not linearizable.\nNot linearizable (key "k"): ...\nThis looks like a write applied twice.';
  events.push({ k: 'fail', t: 3002.5, message });
  events.sort((a, b) => a.t - b.t);
  const trace: TraceData = { events, cut: 0, limit: events.length };
  return { trace, message, otherId };
})();

describe('grader: trace pages in headless Chromium', function () {
  this.timeout(180_000);
  let browser: Browser;
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'kvlabs-browser-'));

  before(async () => {
    browser = await launchChromium(path.join(shots, 'profile'));
  });
  after(async () => {
    await browser?.close();
    // Screenshots stay for a person to look at; the test prints where.
    console.log(`      screenshots: ${shots}`);
  });

  it('shows the failing moment, and a click on an arrow shows that message’s arguments and reply', async () => {
    const options = fixtureOptions(FIXTURES.crashy, { tests: ['TestWrongAnswer'], seed: 11, jobs: 1 });
    await grade(options);
    const file = path.join(options.reportDir as string, 'lab9', 'trace-TestWrongAnswer-11.html');
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-render-ms]', { timeout: 20_000 });
    expect(errors, 'the page script throws nothing').to.deep.equal([]);

    // The page opens on the failure: it is selected and described.
    const details = () => page.$eval('#details', (el) => el.textContent ?? '');
    expect(await details())
      .to.contain('The test failed at')
      .and.contain('Get returned 21 instead of 20');

    // The last RPC is the Get that read 21: click its arrow.
    const html = fs.readFileSync(file, 'utf8');
    const trace = JSON.parse(/id="trace-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '{}') as TraceData;
    const calls = trace.events.filter((e): e is Extract<TraceEvent, { k: 'call' }> => e.k === 'call');
    const get = calls[calls.length - 1];
    expect(get.method).to.match(/Get$/);
    // The page's own hook says where the arrow is drawn (the test has no DOM types: it reaches the page's global by name).
    const point = (await page.evaluate(`window.kvlabsTrace.rpcPoint(${JSON.stringify(get.id)})`)) as {
      x: number;
      y: number;
    } | null;
    expect(point, 'the Get arrow is drawn in the opening view').to.not.equal(null);
    await page.mouse.click((point as { x: number }).x, (point as { y: number }).y);
    const shown = await details();
    expect(shown)
      .to.contain(`RPC #${get.id} ${get.method}`)
      .and.contain('"name": "wrong"')
      .and.contain('"value": 21')
      .and.contain('reply delivered at');
    const shot = path.join(shots, 'trace-TestWrongAnswer-11.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).to.be.greaterThan(10_000);
    await page.close();
  });

  it('"Go to the failure" opens on the failure’s causal past: a write applied twice 3 s before the test noticed', async () => {
    const file = path.join(shots, 'causal.html');
    fs.writeFileSync(
      file,
      tracePage({
        lab: 'lab1',
        target: 'student',
        description: 'a planted bug: a re-sent append applied twice, noticed 3 s later',
        run: {
          name: 'TestPlanted',
          seed: 1,
          status: 'failed',
          realMs: 0,
          virtualMs: 3003,
          rpcs: 0,
          ops: 0,
          message: planted.message,
          trace: planted.trace,
        } as never,
      }),
    );
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-render-ms]', { timeout: 20_000 });
    expect(errors, 'the page script throws nothing').to.deep.equal([]);
    const hook = async <T>(call: string): Promise<T> => (await page.evaluate(`window.kvlabsTrace.${call}`)) as T;
    const view = await hook<{ from: number; to: number; key: string | null }>('view()');
    expect(view.key, 'the failing key, read off the failure message').to.equal('k');
    expect(view.from, 'the view reaches back to the first append').to.be.at.most(5);
    expect(view.to).to.be.at.least(3002.5);
    expect(await page.$eval('#causal', (el) => el.textContent)).to.contain(
      'Causal past of the failure on key "k": 2 operations and 3 messages',
    );
    // The cause, the append whose reply was lost, is drawn and not dimmed; traffic on other keys is dimmed.
    expect(await hook('dimmed(2)')).to.equal(false);
    expect(await hook(`dimmed(${planted.otherId})`)).to.equal(true);
    const point = await hook<{ x: number; y: number } | null>('rpcPoint(2)');
    expect(point, 'the lost reply’s RPC is drawn in the opening view').to.not.equal(null);
    await page.mouse.click((point as { x: number }).x, (point as { y: number }).y);
    expect(await page.$eval('#details', (el) => el.textContent))
      .to.contain('RPC #2 KVServer.Append')
      .and.contain('the reply was LOST');
    // The legend lists what this trace has: no printed lines, no network changes here.
    const legendText = await page.$eval('.legend', (el) => el.textContent ?? '');
    expect(legendText).to.contain('clerk operation').and.not.contain('printed line').and.not.contain('network change');
    await page.click('#f-causal');
    expect(await hook(`dimmed(${planted.otherId})`), 'unticked, nothing is dimmed').to.equal(false);
    await page.screenshot({ path: path.join(shots, 'causal.png') });
    await page.close();
  });

  it('draws a 100,000-event trace (its render time is a figure of npm run bench, not a limit here)', async () => {
    const trace = syntheticTrace(25_000);
    expect(trace.events).to.have.length(100_001);
    const file = path.join(shots, 'big.html');
    fs.writeFileSync(
      file,
      tracePage({
        lab: 'lab2',
        target: 'student',
        description: 'a synthetic 100,000-event recording',
        run: {
          name: 'TestBig',
          seed: 1,
          status: 'failed',
          realMs: 0,
          virtualMs: 1250,
          rpcs: 25_000,
          ops: 0,
          message: 'synthetic failure at the end',
          trace,
        } as never,
      }),
    );
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-render-ms]', { timeout: 60_000 });
    expect(await page.$eval('#counts', (el) => el.textContent))
      .to.contain('25000 RPCs')
      .and.contain('14 lanes');
    expect(await page.$eval('#details', (el) => el.textContent)).to.contain('synthetic failure at the end');
    await page.screenshot({ path: path.join(shots, 'big.png') });
    await page.close();
  });
});
