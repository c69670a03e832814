/** The proof's report: markdown tables for RELIABILITY.md (delivery) and BENCHMARKS.md (2 workers against 1). */
import { deliveryOk } from './chunks.js';
import type { RunResult } from './runs.js';

export interface ProofReport {
  date: string;
  machine: string;
  options: Record<string, unknown>;
  topology: string;
  delivery?: RunResult;
  throughput: RunResult[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Per pair (runs 2i and 2i+1, one with each worker count): seconds with 1 worker ÷ seconds with 2. */
export function pairRatios(runs: RunResult[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const one = [runs[i]!, runs[i + 1]!].find((r) => r.workers === 1);
    const two = [runs[i]!, runs[i + 1]!].find((r) => r.workers === 2);
    if (one && two) ratios.push(one.seconds / two.seconds);
  }
  return ratios;
}

export function proofPassed(report: ProofReport): boolean {
  const d = report.delivery;
  const deliveryPassed = d === undefined || (deliveryOk(d.delivery) && d.redeliveries >= 1 && d.redeliveriesLogged >= 1 && d.killed !== undefined && d.producerExit === 0);
  return deliveryPassed && report.throughput.every((r) => deliveryOk(r.delivery) && r.producerExit === 0);
}

export function renderReport(report: ProofReport): string {
  const lines = [`scale:proof ${report.date} on ${report.machine}`, `Topology: ${report.topology}`, ''];
  const d = report.delivery;
  if (d) {
    const c = d.delivery;
    lines.push(
      `Delivery: ${d.workers} workers, ${c.chunksIn} chunks as ${Math.ceil(c.chunksIn / Number(report.options.batchSize))} batches of ${String(report.options.batchSize)}` +
        (d.killed ? `; SIGKILL to ${d.killed.worker} after ${d.killed.secondsIn.toFixed(1)} s, ${d.killed.atAcked} batches acknowledged, ${d.killed.ackPendingAtKill} in flight` : '; NO WORKER WAS KILLED'),
      '',
      '| chunks in | chunks out | lines out | duplicates after upsert | missing | bad vectors | redeliveries (metrics / logs) | duplicate results dropped by the upsert | producer exit | seconds |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${c.chunksIn} | ${c.chunksOut} | ${c.linesOut} | ${c.duplicates} | ${c.missing} | ${c.badVectors} | ${d.redeliveries} / ${d.redeliveriesLogged} | ${d.collector?.duplicate_results ?? '?'} | ${d.producerExit} | ${d.seconds.toFixed(1)} |`,
      '',
    );
  }
  if (report.throughput.length > 0) {
    lines.push('Throughput (no kill), alternating runs:', '', '| run | workers | seconds | chunks/s | chunks in = out | redeliveries |', '|---|---:|---:|---:|---|---:|');
    for (const r of report.throughput) {
      lines.push(`| ${r.label} | ${r.workers} | ${r.seconds.toFixed(1)} | ${r.chunksPerSecond.toFixed(1)} | ${deliveryOk(r.delivery) ? 'yes' : `NO (${r.delivery.chunksOut}/${r.delivery.chunksIn}, ${r.delivery.duplicates} dup)`} | ${r.redeliveries} |`);
    }
    const ratios = pairRatios(report.throughput);
    lines.push('', `2 workers ÷ 1 worker, per pair: ${ratios.map((x) => x.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}× (target ≥ 1.8×)`, '');
  }
  lines.push(proofPassed(report) ? 'PROOF OK' : 'PROOF FAILED');
  return lines.join('\n') + '\n';
}
