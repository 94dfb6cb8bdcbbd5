/** The one colour rule of every kvlabs command: colour a terminal, never a pipe; NO_COLOR and FORCE_COLOR win. */
import pc from 'picocolors';

/** The colour functions (`red`, `green`, `bold`, ...), real or pass-through. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Whether to colour text written to `sink`: NO_COLOR turns colour off, FORCE_COLOR on, else only a terminal. */
export function wantsColor(
  sink: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return sink.isTTY === true;
}

/** Colours for text written to `sink` (standard output unless said), following `wantsColor`. */
export function colorsFor(
  sink: { readonly isTTY?: boolean } = process.stdout,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Colors {
  return pc.createColors(wantsColor(sink, env));
}
