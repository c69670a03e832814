/**
 * Checks that a model directory holds the graph + tokenizer for a variant and,
 * optionally, that their sha256 matches models/manifest.json.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from './digest.js';
import {
  acceptedDigests,
  graphFileName,
  loadManifest,
  matchDigest,
  TOKENIZER_FILE,
  type FileDigest,
  type Manifest,
  type ModelVariant,
  type SourceName,
} from './files.js';
import { MODEL_ID } from './spec.js';

export const FETCH_HINT =
  'run `npm run model:fetch` (EMBEDDING_MODEL_VARIANT=int8 for the int8 graph), ' +
  'or point EMBEDDING_MODEL_DIR at a directory holding model.onnx / model_int8.onnx and tokenizer.json';

type FileProblemKind = 'missing' | 'not-a-file' | 'empty' | 'corrupt';

interface FileProblem {
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

/** The manifest's accepted digests for a file, as one phrase. */
export function formatExpected(expected: (FileDigest & { source: SourceName })[] | undefined): string {
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
async function checkModelFile(
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

/** The problems with `files` in `dir`, in the order of `files`; empty when all are fine. */
export async function checkModelFiles(
  dir: string,
  files: readonly string[],
  opts: { checkHashes: boolean; manifest?: Manifest },
): Promise<FileProblem[]> {
  const results = await Promise.all(files.map((f) => checkModelFile(dir, f, opts)));
  return results.filter((p): p is FileProblem => p !== undefined);
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
  const problems = await checkModelFiles(absDir, [graph, TOKENIZER_FILE], opts);
  if (problems.length > 0) throw new ModelFilesError(absDir, variant, problems);
  return { graphPath: path.join(absDir, graph), tokenizerPath: path.join(absDir, TOKENIZER_FILE) };
}
