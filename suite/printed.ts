/** While a recording run is on: what the code under test prints also goes into the trace, on the lane that printed it. */
import type { World } from '../world';

type Write = typeof process.stdout.write;

/** The text a `stream.write(chunk, encoding)` call writes (a string, or bytes decoded with the encoding given). */
export function writtenText(chunk: unknown, encoding?: unknown): string {
  if (typeof chunk === 'string') return chunk;
  const charset = typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8';
  return chunk instanceof Uint8Array ? Buffer.from(chunk).toString(charset) : String(chunk);
}

/** Copies stdout and stderr writes into `world`'s recording until the returned function is called. */
export function recordPrinted(world: World): () => void {
  const rec = world.recorder;
  if (!rec) return () => undefined;
  const streams = [process.stdout, process.stderr];
  const saved = streams.map((s) => s.write);
  streams.forEach((stream, i) => {
    const write = saved[i];
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      rec.print(world.now(), world.currentLane, writtenText(chunk, rest[0]));
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Write;
  });
  return () => streams.forEach((s, i) => (s.write = saved[i]));
}
