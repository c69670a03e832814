/** The shapes job: fixed [rows, seq] batches on every worker at once, for the batch-shape sweep. */
import type { OrtPool } from '../lib/ort-pool.js';
import type { ShapeResult, ShapesJob } from './types.js';

/** `rowsN` rows of `seq` made-up word pieces between [CLS] and [SEP]: only the shape matters here. */
const idsOf = (rowsN: number, seq: number): number[][] =>
  Array.from({ length: rowsN }, (_, r) => [101, ...Array.from({ length: seq - 2 }, (_, t) => 1000 + ((r * 7919 + t * 104729) % 28000)), 102]);

export async function shapesJob(job: ShapesJob, pool: OrtPool): Promise<{ shapes: ShapeResult[] }> {
  const out: ShapeResult[] = [];
  // One warm-up round; every shape then runs for `seconds` and at least one round.
  await Promise.all(Array.from({ length: job.workers }, () => pool.run({ rows: idsOf(8, 64) })));
  for (const [rowsN, seq] of job.shapes) {
    const ids = idsOf(rowsN, seq);
    let runs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < job.seconds * 1000 || runs < job.workers) {
      await Promise.all(Array.from({ length: job.workers }, () => pool.run({ rows: ids })));
      runs += job.workers;
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    out.push({
      rows: rowsN,
      seq,
      tokens: rowsN * seq,
      tokensPerS: (runs * rowsN * seq) / wall,
      msPerBatch: (wall * 1000 * job.workers) / runs,
      cpuMsPer1kTokens: (cpu.user + cpu.system) / (runs * rowsN * seq),
    });
  }
  return { shapes: out };
}
