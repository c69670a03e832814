/**
 * A large corpus of real source code: the NumPy and SciPy source distributions (pinned versions,
 * from PyPI, cached under .scratch/corpus/), their Python, Cython, C, C++ and Fortran files cut into
 * windows of at most 40 lines, in a fixed order (package, then path in code-unit order, then line).
 * About 62,000 chunks; `node dist/harness/source-corpus.js` prints the counts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../src/model/files.js';
import { sdistTree, type SdistSpec } from './pypi-sdist.js';

export interface SourceChunk {
  /** `numpy-2.5.5/numpy/core/src/foo.c#L41`: package, path inside the sdist, first line. */
  id: string;
  text: string;
}

export const DEFAULT_SDISTS: readonly SdistSpec[] = [
  { name: 'numpy', version: '2.5.5' },
  { name: 'scipy', version: '1.18.1' },
];

export const DEFAULT_CACHE_DIR = path.join(projectRoot(), '.scratch', 'corpus');

const LINES_PER_CHUNK = 40;
const SOURCE_SUFFIXES = ['.py', '.pyi', '.pyx', '.pxd', '.pxi', '.c', '.h', '.cc', '.cpp', '.cxx', '.hpp', '.c.src', '.h.src', '.f', '.f90', '.f77', '.for'];
/** Larger files are generated (f2c-translated LAPACK, lookup tables), not code anyone writes or searches; the hand-written giants (stats, ma/core.py) are below it. */
const MAX_FILE_BYTES = 512 * 1024;
/** A 40-line window this long is a table of numbers, not code. */
const MAX_CHUNK_CHARS = 8000;

function sourceFiles(dir: string, out: string[] = []): string[] {
  // Code-unit order, not localeCompare: the corpus must not depend on the machine's locale.
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.isFile() && SOURCE_SUFFIXES.some((s) => e.name.toLowerCase().endsWith(s)) && statSync(p).size <= MAX_FILE_BYTES) out.push(p);
  }
  return out;
}

/** The file's text, or undefined for binary or non-UTF-8 content. */
function textOf(file: string): string | undefined {
  const bytes = readFileSync(file);
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function chunksOf(text: string, idPrefix: string, out: SourceChunk[]): void {
  const lines = text.split('\n');
  for (let start = 0; start < lines.length; start += LINES_PER_CHUNK) {
    const chunk = lines.slice(start, start + LINES_PER_CHUNK).join('\n');
    if (chunk.trim().length === 0 || chunk.length > MAX_CHUNK_CHARS) continue;
    out.push({ id: `${idPrefix}#L${start + 1}`, text: chunk });
  }
}

/** Every chunk of the given source distributions, downloading and unpacking them on first use. */
export async function buildSourceCorpus(sdists: readonly SdistSpec[] = DEFAULT_SDISTS, cacheDir = DEFAULT_CACHE_DIR): Promise<SourceChunk[]> {
  const chunks: SourceChunk[] = [];
  for (const spec of sdists) {
    const tree = await sdistTree(spec, cacheDir);
    for (const file of sourceFiles(tree)) {
      const text = textOf(file);
      if (text !== undefined) chunksOf(text, `${spec.name}-${spec.version}/${path.relative(tree, file)}`, chunks);
    }
  }
  return chunks;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks = await buildSourceCorpus();
  const bySuffix = new Map<string, number>();
  for (const c of chunks) {
    const suffix = path.extname(c.id.slice(0, c.id.lastIndexOf('#')));
    bySuffix.set(suffix, (bySuffix.get(suffix) ?? 0) + 1);
  }
  const chars = chunks.reduce((n, c) => n + c.text.length, 0);
  console.log(`${chunks.length} chunks, ${(chars / 2 ** 20).toFixed(1)} MiB of text, mean ${Math.round(chars / chunks.length)} chars`);
  console.log([...bySuffix].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}: ${n}`).join(', '));
}
