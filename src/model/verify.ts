/**
 * Checks that a model directory holds the graph + tokenizer for a variant and,
 * optionally, that their sha256 matches models/manifest.json.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  acceptedDigests,
  graphFileName,
  loadManifest,
  matchDigest,
  MODEL_ID,
  TOKENIZER_FILE,
  type FileDigest,
  type Manifest,
  type ModelVariant,
  type SourceName,
} from './files.js';

export const FETCH_HINT =
  'run `npm run model:fetch` (EMBEDDING_MODEL_VARIANT=int8 for the int8 graph), ' +
  'or point EMBEDDING_MODEL_DIR at a directory holding model.onnx / model_int8.onnx and tokenizer.json';

export type FileProblemKind = 'missing' | 'not-a-file' | 'empty' | 'corrupt';

export interface FileProblem {
  file: string;
  path: string;
  kind: FileProblemKind;
  /** Only for 'corrupt'. */
  actual?: FileDigest;
  expected?: (FileDigest & { source: SourceName })[];
  detail?: string;
}

export class ModelFilesError extends Error {
  readonly problems: FileProblem[];
  readonly dir: string;
  constructor(dir: string, variant: ModelVariant, problems: FileProblem[]) {
    super(describeProblems(dir, variant, problems));
    this.name = 'ModelFilesError';
    this.dir = dir;
    this.problems = problems;
  }
}

/** Streaming sha256 + byte count of a file. */
export async function sha256File(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    size += buf.length;
    hash.update(buf);
  }
  return { sha256: hash.digest('hex'), size };
}

function formatExpected(expected: (FileDigest & { source: SourceName })[] | undefined): string {
  if (!expected || expected.length === 0) return 'no manifest entry';
  return expected.map((d) => `${d.sha256} (${d.size} bytes, ${d.source})`).join(' or ');
}

/** One-line description of one problem. */
export function describeProblem(p: FileProblem): string {
  switch (p.kind) {
    case 'missing':
      return `${p.file} is missing (${p.path})`;
    case 'not-a-file':
      return `${p.file} is not a regular file (${p.path})`;
    case 'empty':
      return `${p.file} is empty (${p.path})`;
    case 'corrupt':
      return (
        `${p.file} is corrupt (${p.path}): sha256 ${p.actual?.sha256 ?? '?'} (${p.actual?.size ?? '?'} bytes), ` +
        `expected ${formatExpected(p.expected)}`
      );
  }
}

function describeProblems(dir: string, variant: ModelVariant, problems: FileProblem[]): string {
  return (
    `Model files for ${MODEL_ID} (${variant}) in ${dir} are not usable: ` +
    problems.map(describeProblem).join('; ') +
    `. To fix, ${FETCH_HINT}.`
  );
}

/**
 * Checks one file. Returns undefined when fine. With checkHashes=false only
 * existence / regular file / non-empty are checked.
 */
export async function checkModelFile(
  dir: string,
  file: string,
  opts: { checkHashes: boolean; manifest?: Manifest },
): Promise<FileProblem | undefined> {
  const full = path.join(dir, file);
  let st;
  try {
    st = await stat(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { file, path: full, kind: 'missing' };
    return { file, path: full, kind: 'missing', detail: (err as Error).message };
  }
  if (!st.isFile()) return { file, path: full, kind: 'not-a-file' };
  if (st.size === 0) return { file, path: full, kind: 'empty' };
  if (!opts.checkHashes) return undefined;
  const manifest = opts.manifest ?? loadManifest();
  const actual = await sha256File(full);
  if (matchDigest(manifest, file, actual) !== undefined) return undefined;
  return { file, path: full, kind: 'corrupt', actual, expected: acceptedDigests(manifest, file) };
}

/**
 * Resolves the graph and tokenizer paths for `variant` in `dir`, or throws
 * ModelFilesError naming every missing/corrupt file and the fix.
 */
export async function verifyModelDir(
  dir: string,
  variant: ModelVariant,
  opts: { checkHashes: boolean; manifest?: Manifest },
): Promise<{ graphPath: string; tokenizerPath: string }> {
  const absDir = path.resolve(dir);
  const graph = graphFileName(variant);
  const problems = (
    await Promise.all([graph, TOKENIZER_FILE].map((f) => checkModelFile(absDir, f, opts)))
  ).filter((p): p is FileProblem => p !== undefined);
  if (problems.length > 0) throw new ModelFilesError(absDir, variant, problems);
  return { graphPath: path.join(absDir, graph), tokenizerPath: path.join(absDir, TOKENIZER_FILE) };
}
