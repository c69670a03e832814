/** The quality job: cosine of each reference text's vector to the sentence-transformers vector. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cosine } from '../../harness/server.js';
import { median, sum } from '../../harness/stats.js';
import { projectRoot } from '../../src/model/files.js';
import type { OrtPool } from '../lib/ort-pool.js';
import type { QualityResult } from './types.js';

interface ReferenceItem {
  text: string;
  embedding: number[];
}

export async function qualityJob(pool: OrtPool): Promise<Omit<QualityResult, 'peakRssMb'>> {
  const reference = JSON.parse(readFileSync(path.join(projectRoot(), 'scripts/reference/reference.json'), 'utf8')) as { items: ReferenceItem[] };
  const cos: number[] = [];
  for (const item of reference.items) {
    const { vectors } = await pool.run({ texts: [item.text], wantVectors: true });
    cos.push(cosine(vectors!, item.embedding));
  }
  const sorted = [...cos].sort((a, b) => a - b);
  return { texts: cos.length, min: sorted[0]!, median: median(cos), mean: sum(cos) / cos.length, below099: cos.filter((c) => c < 0.99).length };
}
