/** While a recording run is on: what the code under test prints also goes into the trace, on the lane that printed it. */
import type { World } from '../world';

type Write = typeof process.stdout.write;

/** Copies stdout and stderr writes into `world`'s recording until the returned function is called. */
export function recordPrinted(world: World): () => void {
  const rec = world.recorder;
  if (!rec) return () => undefined;
  const streams = [process.stdout, process.stderr];
  const saved = streams.map((s) => s.write);
  streams.forEach((stream, i) => {
    const write = saved[i];
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text =
        typeof chunk === 'string'
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : String(chunk);
      rec.print(world.now(), world.currentLane, text);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Write;
  });
  return () => streams.forEach((s, i) => (s.write = saved[i]));
}
