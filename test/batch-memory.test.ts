import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../src/model/files.js';
import { batchMemoryBytes } from '../src/model/spec.js';

interface Measured {
  points: Array<{ rows: number; padded: number; heldBytes: number }>;
}
const measured = JSON.parse(readFileSync(path.join(projectRoot(), 'models', 'batch-memory.json'), 'utf8')) as Measured;
const MiB = 2 ** 20;

test('the batch memory model never predicts less than 0.9x of a measured shape (npm run bench:batch-memory)', (t) => {
  t.true(measured.points.length >= 20, 'a grid of shapes was measured');
  for (const p of measured.points.filter((p) => p.heldBytes >= 4 * MiB)) {
    const ratio = batchMemoryBytes(p.rows, p.padded) / p.heldBytes;
    t.true(ratio >= 0.9, `${p.rows} × ${p.padded}: predicted ${ratio.toFixed(2)}x of the measured ${(p.heldBytes / MiB).toFixed(1)} MiB`);
  }
});

test('and stays within 1.5x for the shapes that matter (64 MiB or more), so caution does not starve throughput', (t) => {
  for (const p of measured.points.filter((p) => p.heldBytes >= 64 * MiB)) {
    const ratio = batchMemoryBytes(p.rows, p.padded) / p.heldBytes;
    t.true(ratio <= 1.5, `${p.rows} × ${p.padded}: predicted ${ratio.toFixed(2)}x`);
  }
});
