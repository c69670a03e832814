/** Figures several report sections read, picked out of the results once. */
import type { BenchResults, LayoutResult, LoadRun, PythonResult, ServiceResult, TransformersJsResult } from './results.js';
import type { LatencyResult } from '../ceiling/types.js';

export interface ReportContext {
  /** The ceiling: the fastest in-process layout. */
  a: LayoutResult;
  /** The service at its default layout, 2×1. */
  svcDefault: ServiceResult | undefined;
  svc4: LoadRun | undefined;
  /** The default layout's fastest run at 4 clients or more. */
  svcBest: LoadRun | undefined;
  tjs: TransformersJsResult | undefined;
  py: PythonResult | undefined;
  lat21: LatencyResult | undefined;
  /** Fastest in-process p50 for the short chunk, tokenization included, and its layout. */
  ortShort: number;
  ortShortLayout: LayoutResult | undefined;
}

export function reportContext(r: BenchResults): ReportContext {
  const svcDefault = r.service.find((x) => x.workers === 2 && x.threads === 1);
  const ortShort = Math.min(...r.layouts.map((l) => l.latency.shortWithTokenizeP50));
  return {
    a: r.best,
    svcDefault,
    svc4: svcDefault?.runs.find((x) => x.concurrency === 4),
    svcBest: svcDefault?.runs.filter((x) => x.concurrency >= 4).reduce<LoadRun | undefined>((a, b) => (!a || b.chunksPerS > a.chunksPerS ? b : a), undefined),
    tjs: r.peers.transformersjs,
    py: r.peers.python,
    lat21: r.layouts.find((l) => l.workers === 2 && l.threads === 1)?.latency,
    ortShort,
    ortShortLayout: r.layouts.find((l) => l.latency.shortWithTokenizeP50 === ortShort),
  };
}
