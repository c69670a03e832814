/**
 * `npm run bench:batch-memory`: what one batch of rows × padded length costs in memory, measured on
 * the real model, and the fit of issue 19's memory model to it (written to models/batch-memory.json,
 * which test/batch-memory.test.ts checks model/spec.ts's coefficients against).
 *
 * Each shape runs in a fresh process with one ONNX session (one intra-op thread, as the service's
 * workers), after a 1 × 8 warm-up, five times: the growth of the process's RSS is what the session
 * holds for that shape. The first run grows it by about half of that and the second by as much again
 * (ONNX Runtime plans a memory pattern from the first run and allocates it on the second); after
 * that it stays, until the worker is recycled.
 *   --rows 1,4,16,64 --padded 16,64,128,256   the grid (defaults below)
 *   --no-write                                 print only
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultModelDir, projectRoot } from '../src/model/files.js';
import { BATCH_MEMORY, batchMemoryBytes, DIMENSIONS } from '../src/model/spec.js';
import { Inference } from '../src/workers/thread/inference.js';

const args = process.argv.slice(2);
const list = (name: string, fallback: number[]) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1]!.split(',').map(Number);
};

async function child(rows: number, padded: number): Promise<void> {
  const dir = defaultModelDir();
  const inference = await Inference.create({ graphPath: path.join(dir, 'model.onnx'), tokenizerPath: path.join(dir, 'tokenizer.json'), intraOpThreads: 1, dims: DIMENSIONS });
  const row = (n: number) => [101, ...Array<number>(n - 2).fill(2023), 102];
  await inference.embedIds([row(8)], new Float32Array(DIMENSIONS));
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const before = process.memoryUsage.rss();
  const ids = Array.from({ length: rows }, () => row(padded));
  await inference.embedIds(ids, new Float32Array(rows * DIMENSIONS));
  gc();
  const after = process.memoryUsage.rss();
  // The same shape again, a few times: the growth that stays is what a worker holds after such batches.
  let again = after;
  const runs: number[] = [];
  for (let run = 0; run < Number(process.env.RUNS ?? 4); run++) {
    await inference.embedIds(ids, new Float32Array(rows * DIMENSIONS));
    gc();
    const now = process.memoryUsage.rss();
    runs.push(now - again);
    again = now;
  }
  process.stdout.write(JSON.stringify({ rows, padded, firstRunBytes: after - before, heldBytes: again - before, runs }) + '\n');
}

interface Point {
  rows: number;
  padded: number;
  /** RSS growth across the first batch of this shape. */
  firstRunBytes: number;
  /** RSS growth once the same shape has run five times: what the worker holds (the fit's target). */
  heldBytes: number;
  runs: number[];
}

/**
 * Least squares for held ≈ perRow·rows + perToken·(rows·padded) + perAttentionCell·(rows·padded²),
 * weighted by relative error so small shapes count as much as large ones.
 */
function fit(points: Point[]): { perRow: number; perToken: number; perAttentionCell: number } {
  const a = [0, 1, 2].map(() => [0, 0, 0]);
  const b = [0, 0, 0];
  for (const p of points) {
    const f = [p.rows, p.rows * p.padded, p.rows * p.padded * p.padded];
    const w = 1 / Math.max(p.heldBytes, 2 ** 20) ** 2;
    for (let i = 0; i < 3; i++) {
      b[i]! += w * f[i]! * p.heldBytes;
      for (let j = 0; j < 3; j++) a[i]![j]! += w * f[i]! * f[j]!;
    }
  }
  // Gauss-Jordan on the 3 × 3 normal equations.
  for (let i = 0; i < 3; i++) {
    for (let r = 0; r < 3; r++) {
      if (r === i) continue;
      const factor = a[r]![i]! / a[i]![i]!;
      for (let c = 0; c < 3; c++) a[r]![c]! -= factor * a[i]![c]!;
      b[r]! -= factor * b[i]!;
    }
  }
  const [perRow, perToken, perAttentionCell] = b.map((v, i) => v / a[i]![i]!) as [number, number, number];
  return { perRow, perToken, perAttentionCell };
}

async function main(): Promise<void> {
  const rowsGrid = list('rows', [1, 4, 8, 16, 32, 64]);
  const paddedGrid = list('padded', [16, 32, 64, 128, 256]);
  const self = fileURLToPath(import.meta.url);
  const points: Point[] = [];
  for (const rows of rowsGrid) {
    for (const padded of paddedGrid) {
      const out = execFileSync(process.execPath, ['--expose-gc', self, '--child', String(rows), String(padded)], { encoding: 'utf8' });
      const point = JSON.parse(out.trim().split('\n').pop()!) as Point;
      points.push(point);
      process.stderr.write(`${rows} × ${padded}: first run +${(point.firstRunBytes / 2 ** 20).toFixed(1)} MiB, held +${(point.heldBytes / 2 ** 20).toFixed(1)} MiB\n`);
    }
  }
  const fitted = fit(points);
  const describe = (m: { perRow: number; perToken: number; perAttentionCell: number }) =>
    `${m.perRow.toFixed(0)} B per row + ${m.perToken.toFixed(0)} B per token + ${m.perAttentionCell.toFixed(1)} B per attention cell (rows × padded²)`;
  process.stdout.write(`fit:  ${describe(fitted)}\nspec: ${describe(BATCH_MEMORY)} (model/spec.ts, rounded up from a fit)\n`);
  for (const p of points) {
    const predicted = batchMemoryBytes(p.rows, p.padded);
    process.stdout.write(`${String(p.rows).padStart(3)} × ${String(p.padded).padStart(3)}  held ${(p.heldBytes / 2 ** 20).toFixed(1).padStart(7)} MiB  spec ${(predicted / 2 ** 20).toFixed(1).padStart(7)} MiB\n`);
  }
  if (!args.includes('--no-write')) {
    const file = path.join(projectRoot(), 'models', 'batch-memory.json');
    const cpu = os.cpus()[0]?.model ?? 'unknown';
    writeFileSync(file, JSON.stringify({ measured: new Date().toISOString(), cpu, node: process.version, command: 'npm run bench:batch-memory', fit: fitted, points }, null, 2) + '\n');
    process.stdout.write(`wrote ${file}\n`);
  }
}

if (args[0] === '--child') await child(Number(args[1]), Number(args[2]));
else await main();
