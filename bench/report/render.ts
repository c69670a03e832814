/** The BENCHMARKS.md section for one run's results, as Markdown. */
import { reportContext } from './context.js';
import { decisionLines } from './decisions.js';
import { hardwareLines } from './hardware.js';
import { headerLines } from './header.js';
import type { BenchResults } from './results.js';
import { summaryLines, targetLines, whereTimeGoesLines } from './summary.js';
import { systemsLines } from './systems.js';
import { budgetLines, int8AndJsonLines, layoutAndShapeLines, paddingAndPlacementLines } from './tables.js';

export function renderSection(r: BenchResults): string {
  const c = reportContext(r);
  const lines = [
    ...headerLines(r),
    ...systemsLines(r),
    ...summaryLines(r, c),
    ...targetLines(r, c),
    ...whereTimeGoesLines(r, c),
    ...hardwareLines(r, c),
    ...layoutAndShapeLines(r),
    ...budgetLines(r),
    ...paddingAndPlacementLines(r),
    ...int8AndJsonLines(r, c),
    ...decisionLines(r, c),
  ];
  return lines.join('\n') + '\n';
}
