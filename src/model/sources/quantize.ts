/**
 * model:fetch's way to the int8 graph: no registry serves a faithful one, so it is made here, from the fp32 graph
 * already verified against the manifest, by a graph rewrite in Python (scripts/quantize/quantize.py; recipe and
 * measurements in docs/MODEL.md). The quantizer is Python: the step makes its own venv under models/.quantize/ with
 * the pinned packages of scripts/quantize/requirements.txt, and remakes it only when that file changes. The output
 * is byte-for-byte reproducible, so it is checked against the manifest's sha256 like a download, and a verified
 * model_int8.onnx on disk is the cache: the quantizer runs once.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256File } from '../digest.js';
import { oneLine } from '../download.js';
import { projectRoot } from '../files.js';
import { installVerified } from '../install.js';
import { runCommand } from '../run-command.js';
import type { SourceContext } from './context.js';
import { mavenSource } from './maven.js';

/** pip downloads about 60 MB of wheels the first time. */
const VENV_TIMEOUT_MS = 15 * 60_000;
const QUANTIZE_TIMEOUT_MS = 10 * 60_000;
const VENV_HINT =
  'the int8 graph is made from model.onnx by scripts/quantize/quantize.py, which needs Python ≥ 3.11 with venv and pip ' +
  '(Debian/Ubuntu: apt-get install python3 python3-venv) and access to PyPI';

const run = (cmd: string, args: string[], timeoutMs: number) => runCommand(cmd, args, { timeoutMs, env: { PYTHONDONTWRITEBYTECODE: '1' } });

/** The venv's python, made (or remade, when the pinned requirements changed) on first use. */
async function quantizeVenv(root: string, log: (line: string) => void): Promise<string> {
  const requirements = path.join(root, 'scripts', 'quantize', 'requirements.txt');
  const venv = path.join(root, 'models', '.quantize', 'venv');
  const python = path.join(venv, 'bin', 'python');
  const stampFile = path.join(venv, 'requirements.sha256');
  const stamp = createHash('sha256').update(await readFile(requirements)).digest('hex');
  if (existsSync(python) && (await readFile(stampFile, 'utf8').catch(() => '')) === stamp) return python;
  log(`quantize: making the venv ${path.relative(root, venv)} (${path.relative(root, requirements)}, pinned)`);
  await rm(venv, { recursive: true, force: true });
  await mkdir(path.dirname(venv), { recursive: true });
  try {
    await run('python3', ['-m', 'venv', venv], VENV_TIMEOUT_MS);
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', requirements], VENV_TIMEOUT_MS);
  } catch (err) {
    await rm(venv, { recursive: true, force: true });
    throw new Error(`${oneLine(err)} (${VENV_HINT})`);
  }
  await writeFile(stampFile, stamp);
  return python;
}

/**
 * The input to quantize: `from` in `dir` when it holds the bytes the recipe was pinned with (Maven's export of the fp32
 * graph), else those bytes fetched from Maven into `scratch` (the Hub's export is another file, which would quantize to
 * other bytes than the manifest pins).
 */
async function quantizeInput(ctx: SourceContext, from: string, dir: string, scratch: string): Promise<string> {
  const pinned = ctx.manifest.files[from]?.sources.maven;
  if (!pinned) throw new Error(`manifest has no Maven digest for ${from}, the quantizer's input`);
  const inPlace = path.join(dir, from);
  const here = existsSync(inPlace) ? await sha256File(inPlace) : undefined;
  if (here?.sha256 === pinned.sha256 && here.size === pinned.size) return inPlace;
  await mavenSource({ ...ctx, files: [from], install: (file, write) => installVerified(scratch, file, ctx.manifest, write) });
  return path.join(scratch, from);
}

/**
 * (c) Quantize: makes each of `ctx.files` from the graph its manifest entry names (`from`, which model:fetch has
 * already put in `dir`), and installs it only if it matches the manifest.
 */
export async function quantizeSource(ctx: SourceContext, dir: string, log: (line: string) => void): Promise<void> {
  const root = projectRoot();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'doctown-quantize-'));
  try {
    for (const file of ctx.files) {
      const entry = ctx.manifest.files[file]?.sources.quantize;
      if (!entry) throw new Error(`manifest has no quantize entry for ${file}`);
      const input = await quantizeInput(ctx, entry.from, dir, scratch);
      const python = await quantizeVenv(root, log);
      log(`quantize: ${input.startsWith(root + path.sep) ? path.relative(root, input) : input} → ${file} (${entry.script})`);
      await ctx.install(file, async (tmp) => {
        await run(python, [path.join(root, entry.script), '--input', input, '--output', tmp], QUANTIZE_TIMEOUT_MS);
        return sha256File(tmp);
      });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
