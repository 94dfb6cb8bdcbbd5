/** Counts the corpus sequences where the reference server's replies differ from the recording, by first differing command (a tool for fixing them). */
import { Command } from 'commander';
import { startServer } from '../solutions/lab5/server';
import { runAsScript, runCommand } from './cli';
import { explainDifference, firstDifference, loadCorpus, runSequence } from '../lab5/test/redis-corpus';

async function count(all: boolean): Promise<void> {
  const corpus = loadCorpus();
  const server = await startServer({ port: 0 });
  let bad = 0;
  const byCommand = new Map<string, number>();
  const shown = new Set<string>();
  for (const seq of corpus.sequences) {
    const run = await runSequence(server.port, seq.steps, seq.replies.length);
    const at = firstDifference(seq, run);
    if (at === undefined) continue;
    bad++;
    const step = seq.steps[at];
    const name = Array.isArray(step) ? step[0].toUpperCase() : 'inline';
    byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
    if (!shown.has(name) || all) {
      shown.add(name);
      console.log(explainDifference(seq, run, at).split('\n').slice(-4).join('\n'));
    }
  }
  console.log(`${bad} of ${corpus.sequences.length} sequences differ`, Object.fromEntries(byCommand));
  await server.close();
}
/** `node -r ts-node/register/transpile-only instructor/redis-diff-count.ts [--all]`. */
async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('redis-diff-count')
    .description("Counts the corpus sequences where the reference lab 5 server's replies differ from the recording.")
    .option('--all', 'show every differing sequence, not only the first of each command');
  return runCommand(program, argv, async () => {
    await count(program.opts<{ all?: boolean }>().all === true);
    return 0;
  });
}

runAsScript(module, main);
