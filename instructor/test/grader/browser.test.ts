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
