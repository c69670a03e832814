import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/model/files.js';

/** One text of scripts/reference/reference.json, with what sentence-transformers made of it. */
export interface ReferenceItem {
  id: string;
  text: string;
  token_ids: number[];
  truncated: boolean;
  embedding: number[];
}

/** The Python reference fixture, read by the tokenizer tests and the end-to-end parity tests. */
export function loadReference(): { items: ReferenceItem[] } {
  return JSON.parse(readFileSync(path.join(projectRoot(), 'scripts/reference/reference.json'), 'utf8')) as { items: ReferenceItem[] };
}
