/** One measured figure of `npm run bench`. */
export interface BenchFigure {
  /** What was measured, e.g. "labrpc: sequential RPCs, reliable". */
  name: string;
  /** The measured value. */
  value: number;
  /** Its unit, e.g. "RPC/s". */
  unit: string;
  /** Context: the target, a comparison, the workload. */
  note?: string;
}
