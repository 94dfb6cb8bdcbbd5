/** The quorum-vs-latency plot: a vega-lite line chart rendered to SVG (no browser or canvas needed). */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { LatencyStats } from './lib';

/** One W's measurements. */
export interface QuorumPoint {
  quorum: number;
  throughput: number;
  latency: LatencyStats;
}

/** Renders latency (mean, median, p95, p99) against W as an SVG document. */
export async function quorumPlotSvg(points: QuorumPoint[], title: string): Promise<string> {
  const rows = points.flatMap((p) => [
    { W: p.quorum, statistic: 'mean', ms: p.latency.mean },
    { W: p.quorum, statistic: 'median', ms: p.latency.median },
    { W: p.quorum, statistic: 'p95', ms: p.latency.p95 },
    { W: p.quorum, statistic: 'p99', ms: p.latency.p99 },
  ]);
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 320,
    background: 'white',
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'W',
        type: 'ordinal',
        title: 'write quorum W (followers that must confirm)',
        axis: { labelAngle: 0 },
      },
      y: { field: 'ms', type: 'quantitative', title: 'write latency (ms)' },
      color: { field: 'statistic', type: 'nominal', sort: ['mean', 'median', 'p95', 'p99'], title: null },
    },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
