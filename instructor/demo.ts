/**
 * `npm run demo <lab>`: a short scripted walk through a lab's API in the simulated world, printing what
 * happens. Uses the reference solution when the checkout has one, otherwise your own files.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { Network, Server } from '../labrpc';
import { World } from '../world';
import type { Lab2Impl } from '../lab2/test/harness';
import { load as loadLab2 } from '../lab2/load';
import { withLock } from '../lab2/with-lock';
import { implFolder, NoSolutionError } from '../suite/solution';

const ROOT = path.resolve(__dirname, '..');

/** Picks solutions/<lab> when present, else the student's <lab>/ (the kit's one rule, suite/solution.ts). */
function implDir(lab: string): { dir: string; label: string } {
  try {
    return { dir: implFolder(lab, true, ROOT), label: `solutions/${lab}` };
  } catch (err) {
    if (!(err instanceof NoSolutionError)) throw err;
    return { dir: implFolder(lab, false, ROOT), label: `${lab}/ (your code)` };
  }
}

async function demoLab2(impl: Lab2Impl): Promise<void> {
  const net = new Network();
  net.addServer('kv', new Server().addService(new impl.KVServer(), 'KVServer'));
  const clerk = (name: string) => {
    const end = net.makeEnd(name);
    net.connect(name, 'kv');
    net.enable(name, true);
    return new impl.Clerk(end);
  };
  const at = () => `[${(performance.now() / 1000).toFixed(4)}s]`;
  const ck = clerk('demo');
  console.log('=== Versioned puts and gets ===');
  console.log(at(), `1. create "hello" = "world" with version 0 -> ${await ck.put('hello', 'world', 0)}`);
  console.log(at(), `   get "hello" -> ${JSON.stringify(await ck.get('hello'))}`);
  console.log(at(), `2. update with version 1 -> ${await ck.put('hello', 'universe', 1)}`);
  console.log(at(), `   get "hello" -> ${JSON.stringify(await ck.get('hello'))}`);
  console.log(at(), `3. get a missing key -> ${JSON.stringify(await ck.get('nothing-here'))}`);
  console.log(at(), `4. update with a stale version 1 -> ${await ck.put('hello', 'stale', 1)}`);
  console.log(at(), `5. create a missing key with version 3 -> ${await ck.put('nothing-here', 'x', 3)}`);

  console.log('\n=== Lost messages: 30% of requests and replies dropped ===');
  net.setReliable(false);
  net.setDropRates(0.3, 0.3);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 20; i++) {
    const cur = await ck.get('counter');
    const version = cur.err === 'OK' ? cur.version : 0;
    const r = await ck.put('counter', String(i), version);
    counts[r] = (counts[r] ?? 0) + 1;
  }
  console.log(
    at(),
    `20 puts: ${JSON.stringify(counts)} (ErrMaybe: a re-sent put met ErrVersion; it may have happened)`,
  );
  console.log(at(), `the key is now ${JSON.stringify(await ck.get('counter'))}`);
  net.setReliable(true);

  console.log('\n=== A lock handed between three workers ===');
  await Promise.all(
    [0, 1, 2].map(async (w) => {
      const worker = clerk(`worker-${w}`);
      await withLock(new impl.Lock(worker, 'printer'), async () => {
        console.log(at(), `worker ${w} acquired the lock`);
        await new Promise((r) => setTimeout(r, 50));
        console.log(at(), `worker ${w} releases the lock`);
      });
    }),
  );
  console.log(`\nDone: ${net.getTotalCount()} RPCs, ${(performance.now() / 1000).toFixed(3)} virtual seconds.`);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run demo --')
    .description(
      "A short scripted walk through a lab's API in the simulated world (the reference solution when this checkout has one, else your files).",
    )
    .argument('<lab>', 'the lab to demo (demos exist for: lab2)')
    .addHelpText('after', '\nExample:\n  npm run demo lab2')
    .showHelpAfterError()
    .parse();
  const lab = program.args[0];
  if (lab !== 'lab2') {
    console.error(`There is a demo for lab2 only (got "${lab}"). Run: npm run demo lab2`);
    process.exit(2);
  }
  const { dir, label } = implDir(lab);
  console.log(`Lab 2 demo, using ${label}; virtual times in brackets.\n`);
  try {
    await new World({ seed: 1 }).run(() => demoLab2(loadLab2(dir)));
  } catch (err) {
    console.error(`\nThe demo stopped: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

void main();
