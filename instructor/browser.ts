/** Headless Chromium for the kit's browser test and bench: where it is, how it starts here, and a large synthetic trace. */
import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { TraceData, TraceEvent } from '../world';

/** Where Debian's chromium package puts the browser (`.ci/run` installs it when it is missing); KVLABS_CHROMIUM overrides. */
export const CHROMIUM = process.env.KVLABS_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a root CI machine with a closed network: without the background-networking ones Chromium stalls on lookups. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts headless Chromium with a fresh profile in `profileDir`; a clear error when it is not installed. */
export async function launchChromium(profileDir: string): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the trace page's browser checks need it. ` +
        'Install it with `apt-get install -y chromium` (.ci/run does this in CI), or point KVLABS_CHROMIUM at a Chromium binary.',
    );
  return puppeteer.launch({
    executablePath: CHROMIUM,
    args: [...FLAGS, `--user-data-dir=${path.resolve(profileDir)}`],
    headless: true,
  });
}

/** A synthetic recording of `rpcs` request/reply round trips (4 events each, plus the failure) between 8 clients and 5 servers. */
export function syntheticTrace(rpcs: number): TraceData {
  const events: TraceEvent[] = [];
  for (let id = 0; id < rpcs; id++) {
    const t = id * 0.05;
    const from = `clerk-${id % 8}`;
    const to = `server-${id % 5}`;
    events.push({
      k: 'call',
      t,
      id,
      from,
      end: `${from}-${to}`,
      to,
      method: 'KVServer.Put',
      args: { Key: `k${id % 50}` },
    });
    events.push({ k: 'deliver', t: t + 0.01, id });
    events.push({ k: 'handled', t: t + 0.011, id, reply: { Err: 'OK' } });
    events.push({ k: 'reply', t: t + 0.02, id });
  }
  events.push({ k: 'fail', t: rpcs * 0.05, message: 'synthetic failure at the end' });
  return { events, cut: 0, limit: events.length };
}
