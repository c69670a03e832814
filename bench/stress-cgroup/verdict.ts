/**
 * The promises whose breaking fails the run: every chunk back exactly once and in order, no OOM
 * kill, every small request answered within 30 s. Bad figures other than these (slow, many 503s,
 * a recycle storm) are reported, not failed on.
 */
import { orderBroken, type OrderReport } from './order-check.js';
import type { ScenarioResult } from './scenario.js';

const orderFindings = (what: string, r: OrderReport) =>
  orderBroken(r)
    ? [`${what}: ${r.missing} missing, ${r.duplicated} duplicated, ${r.outOfOrder} out of order, ${r.unknown} unknown ids, ${r.badVectors} bad vectors`]
    : [];

export function brokenPromises(r: ScenarioResult): string[] {
  const broken: string[] = [];
  if (r.load.kind === 'json') {
    broken.push(...orderFindings('large requests', r.load.json.order));
    broken.push(...r.load.json.failures.map((f) => `chunks never came back: ${f}`));
  } else {
    const n = r.load.ndjson;
    broken.push(...orderFindings('giant NDJSON stream', n.order));
    if (n.failure) broken.push(`giant NDJSON request failed: ${n.failure}`);
    if (n.errorLine) broken.push(`giant NDJSON stream ended with an error line after ${n.linesReceived} lines: ${n.errorLine}`);
  }
  broken.push(...orderFindings('small requests', r.small.order));
  if ((r.kernel.oomKills ?? 0) > 0) broken.push(`the kernel OOM-killed ${r.kernel.oomKills} time(s) in the cgroup`);
  if (r.serverDied) broken.push(`the server died during the run (code ${r.serverDied.code}, signal ${r.serverDied.signal}) at ${r.serverDied.atS.toFixed(0)} s`);
  if (r.small.over30s > 0) {
    broken.push(`${r.small.over30s} of ${r.small.sent} small requests not answered within 30 s (longest wait ${(r.small.longestWaitMs / 1000).toFixed(1)} s)`);
  }
  return broken;
}
