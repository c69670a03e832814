/**
 * The benchmark corpus: a fixed, reproducible selection of code and prose chunks from files that
 * `npm ci` of this repository puts in node_modules (the lockfile pins their versions).
 *
 *   code:  the TypeScript compiler (typescript/lib/typescript.js) and Node's type declarations
 *          (@types/node/**.d.ts, much of it JSDoc prose), cut into windows of 4–40 lines;
 *   prose: the markdown files over 4 KB of a fixed list of packages, cut at blank lines into chunks
 *          of 4–24 lines.
 *
 * Selection uses a seeded PRNG over sorted file lists, so the same node_modules gives the same corpus.
 * `node dist/harness/corpus.js 400` prints its size.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../src/model/files.js';

export interface BenchChunk {
  id: string;
  kind: 'code' | 'prose';
  /** The file the chunk was cut from, relative to node_modules. */
  source: string;
  text: string;
}

/**
 * Packages whose markdown is the prose: a fixed list of the service's own dependency tree (pinned by
 * package-lock.json), so adding an unrelated dependency does not change the corpus.
 */
const PROSE_PACKAGES = [
  'pino', 'piscina', 'zod', 'express', 'router', 'finalhandler', 'send', 'serve-static', 'qs', 'type-is', 'accepts',
  'mime-types', 'ava', 'acorn', 'semver', 'micromatch', 'yargs', 'tar', 'sonic-boom', 'typescript', 'onnxruntime-node',
];

/** mulberry32: small, fast, good enough for a reproducible shuffle. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function walk(dir: string, accept: (path: string) => boolean, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  // Code-unit order, not localeCompare: the corpus must not depend on the machine's locale.
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, accept, out);
    else if (e.isFile() && accept(p)) out.push(p);
  }
  return out;
}

function codeChunks(file: string, rand: () => number): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const chunks: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const n = 4 + Math.floor(rand() * 37);
    const text = lines.slice(i, i + n).join('\n');
    if (text.trim().length > 0) chunks.push(text);
    i += n;
  }
  return chunks;
}

function proseChunks(file: string, rand: () => number): string[] {
  const paragraphs = readFileSync(file, 'utf8').split(/\n\s*\n/);
  const chunks: string[] = [];
  let current: string[] = [];
  let lines = 0;
  let target = 4 + Math.floor(rand() * 21);
  for (const p of paragraphs) {
    current.push(p);
    lines += p.split('\n').length + 1;
    if (lines >= target) {
      const text = current.join('\n\n');
      if (text.trim().length > 0) chunks.push(text);
      current = [];
      lines = 0;
      target = 4 + Math.floor(rand() * 21);
    }
  }
  if (current.join('').trim().length > 0) chunks.push(current.join('\n\n'));
  return chunks;
}

function pick<T>(pool: readonly T[], count: number, rand: () => number): T[] {
  // Partial Fisher–Yates over a copy: the first `count` of a seeded shuffle.
  const a = pool.slice();
  const n = Math.min(count, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}

/**
 * `size` chunks: 45% compiler source, 25% Node declarations, 30% markdown prose, in a fixed
 * shuffled order (the "arrival order" of the benchmark).
 */
export function buildCorpus(size: number, seed = 20261125): BenchChunk[] {
  const nm = join(projectRoot(), 'node_modules');
  const rand = prng(seed);
  type Unnamed = Omit<BenchChunk, 'id'>;
  const ts = codeChunks(join(nm, 'typescript/lib/typescript.js'), rand).map((text): Unnamed => ({ kind: 'code', source: 'typescript/lib/typescript.js', text }));
  const dts = walk(join(nm, '@types/node'), (p) => p.endsWith('.d.ts')).flatMap((f) =>
    codeChunks(f, rand).map((text): Unnamed => ({ kind: 'code', source: relative(nm, f), text })),
  );
  const md = PROSE_PACKAGES.flatMap((pkg) => walk(join(nm, pkg), (p) => p.toLowerCase().endsWith('.md') && statSync(p).size > 4096)).flatMap((f) =>
    proseChunks(f, rand).map((text): Unnamed => ({ kind: 'prose', source: relative(nm, f), text })),
  );
  const nTs = Math.round(size * 0.45);
  const nDts = Math.round(size * 0.25);
  const chosen = [...pick(ts, nTs, rand), ...pick(dts, nDts, rand), ...pick(md, size - nTs - nDts, rand)];
  return pick(chosen, chosen.length, rand).map((c, i) => ({ id: `c${i}`, ...c }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const corpus = buildCorpus(Number(process.argv[2] ?? 1000));
  const chars = corpus.map((c) => c.text.length);
  console.log(corpus.length, 'chunks, chars mean', Math.round(chars.reduce((a, b) => a + b, 0) / chars.length));
}
