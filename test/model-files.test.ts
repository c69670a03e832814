import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { oneLine } from '../src/model/download.js';
import { parseFetchArgs, UsageError } from '../src/model/fetch.js';
import { defaultModelDir, fetchPlan, filesForVariant, graphFileName, loadManifest, projectRoot, TOKENIZER_FILE } from '../src/model/files.js';
import { hubUrl } from '../src/model/sources/hub.js';
import { mavenJarUrl, planMavenArtifacts } from '../src/model/sources/maven.js';
import { ModelFilesError, verifyModelDir } from '../src/model/verify.js';
import { extractZipEntry } from '../src/model/zip.js';

const FETCH_CLI = fileURLToPath(new URL('../src/model/fetch.js', import.meta.url));
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'model-files-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FETCH_CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// --- verifyModelDir --------------------------------------------------------

test('verifyModelDir reports missing files and how to fetch them', async (t) => {
  const dir = await tempDir(t);
  const err = await t.throwsAsync(verifyModelDir(dir, 'fp32', { checkHashes: false }), { instanceOf: ModelFilesError });
  t.regex(err!.message, /model\.onnx is missing/);
  t.regex(err!.message, /tokenizer\.json is missing/);
  t.true(err!.message.includes('npm run model:fetch'));
  t.true(err!.message.includes('EMBEDDING_MODEL_DIR'));
  t.false(err!.message.includes('\n'), 'one paragraph');
  t.deepEqual(err!.problems.map((p) => p.kind), ['missing', 'missing']);
});

test('verifyModelDir names model_int8.onnx for the int8 variant', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, TOKENIZER_FILE), '{}');
  const err = await t.throwsAsync(verifyModelDir(dir, 'int8', { checkHashes: false }), { instanceOf: ModelFilesError });
  t.deepEqual(err!.problems.map((p) => p.file), ['model_int8.onnx']);
  t.true(err!.message.includes('EMBEDDING_MODEL_VARIANT=int8'));
});

test('verifyModelDir reports a corrupt file with expected and actual sha256', async (t) => {
  const dir = await tempDir(t);
  const fake = 'this is not an onnx graph';
  await writeFile(path.join(dir, 'model.onnx'), fake);
  await writeFile(path.join(dir, TOKENIZER_FILE), '{"truncated":');
  const err = await t.throwsAsync(verifyModelDir(dir, 'fp32', { checkHashes: true }), { instanceOf: ModelFilesError });
  const manifest = loadManifest();
  t.regex(err!.message, /model\.onnx is corrupt/);
  t.regex(err!.message, /tokenizer\.json is corrupt/);
  t.true(err!.message.includes(sha256(fake)), 'actual sha256');
  for (const d of Object.values(manifest.files['model.onnx']!.sources)) {
    t.true(err!.message.includes(d.sha256), 'expected sha256');
  }
  t.true(err!.message.includes('npm run model:fetch'));
});

test('verifyModelDir without hash checks accepts present files and flags empty ones', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'model.onnx'), 'x');
  await writeFile(path.join(dir, TOKENIZER_FILE), '{}');
  const ok = await verifyModelDir(dir, 'fp32', { checkHashes: false });
  t.is(ok.graphPath, path.join(dir, 'model.onnx'));
  t.is(ok.tokenizerPath, path.join(dir, TOKENIZER_FILE));
  await writeFile(path.join(dir, TOKENIZER_FILE), '');
  const err = await t.throwsAsync(verifyModelDir(dir, 'fp32', { checkHashes: false }), { instanceOf: ModelFilesError });
  t.regex(err!.message, /tokenizer\.json is empty/);
});

// --- pure parts of model:fetch ---------------------------------------------

test('parseFetchArgs: defaults, env and flags', (t) => {
  t.is(parseFetchArgs([], {}).variant, 'fp32');
  t.is(parseFetchArgs([], { EMBEDDING_MODEL_VARIANT: 'int8' }).variant, 'int8');
  t.is(parseFetchArgs(['--variant', 'all'], { EMBEDDING_MODEL_VARIANT: 'int8' }).variant, 'all');
  t.is(parseFetchArgs(['--variant=int8'], {}).variant, 'int8');
  t.deepEqual(parseFetchArgs([], {}).sources, ['hub', 'maven', 'dir']);
  t.deepEqual(parseFetchArgs(['--source', 'maven,dir', '--source', 'maven'], {}).sources, ['maven', 'dir']);
  t.is(parseFetchArgs(['--dir', '/x'], {}).dir, '/x');
});

test('parseFetchArgs rejects a bad variant', (t) => {
  t.throws(() => parseFetchArgs(['--variant', 'fp16'], {}), { instanceOf: UsageError, message: /invalid --variant "fp16"/ });
  t.throws(() => parseFetchArgs(['--variant=bogus'], {}), { instanceOf: UsageError });
  t.throws(() => parseFetchArgs(['--variant'], {}), { instanceOf: UsageError, message: /needs a value/ });
  t.throws(() => parseFetchArgs([], { EMBEDDING_MODEL_VARIANT: 'fp64' }), { instanceOf: UsageError, message: /EMBEDDING_MODEL_VARIANT/ });
  t.throws(() => parseFetchArgs(['--source', 'ftp'], {}), { instanceOf: UsageError });
  t.throws(() => parseFetchArgs(['--frobnicate'], {}), { instanceOf: UsageError });
});

test('parseFetchArgs: value forms, aliases and mistakes in its own words', (t) => {
  t.deepEqual(parseFetchArgs(['--sources=dir', '--source', ' maven , hub '], {}).sources, ['dir', 'maven', 'hub']);
  t.is(parseFetchArgs(['--dir=/a', '--dir', '/b'], {}).dir, '/b', 'the last --dir wins');
  t.is(parseFetchArgs(['--dir', '-x'], {}).dir, '-x', 'a single-dash value is a value');
  t.true(parseFetchArgs(['-h'], {}).help);
  t.true(parseFetchArgs(['--help'], {}).help);
  t.false(parseFetchArgs([], {}).help);
  t.is(parseFetchArgs(['--variant', 'int8', '--dir', '/x'], {}).variant, 'int8');
  // A flag is not taken as the value of the flag before it.
  t.throws(() => parseFetchArgs(['--variant', '--dir', '/x'], {}), { instanceOf: UsageError, message: '--variant needs a value' });
  t.throws(() => parseFetchArgs(['--sources'], {}), { instanceOf: UsageError, message: '--sources needs a value' });
  t.throws(() => parseFetchArgs(['--dir='], {}), { instanceOf: UsageError, message: '--dir needs a value' });
  t.throws(() => parseFetchArgs(['--frobnicate=1'], {}), { instanceOf: UsageError, message: 'unknown argument "--frobnicate=1"' });
  t.throws(() => parseFetchArgs(['fp32'], {}), { instanceOf: UsageError, message: 'unknown argument "fp32"' });
  t.throws(() => parseFetchArgs(['--', '--help'], {}), { instanceOf: UsageError, message: 'unknown argument "--"' });
  t.throws(() => parseFetchArgs(['-v'], {}), { instanceOf: UsageError, message: 'unknown argument "-v"' });
  t.throws(() => parseFetchArgs(['--toString'], {}), { instanceOf: UsageError, message: 'unknown argument "--toString"' });
  // Reported in argument order: the first mistake is the one named.
  t.throws(() => parseFetchArgs(['--variant', 'fp16', '--frobnicate'], {}), { instanceOf: UsageError, message: /invalid --variant "fp16"/ });
  t.throws(() => parseFetchArgs(['--frobnicate', '--variant', 'fp16'], {}), { instanceOf: UsageError, message: /unknown argument "--frobnicate"/ });
});

test('source order, file sets and URLs', (t) => {
  t.deepEqual(parseFetchArgs(['--source', ''], {}).sources, ['hub', 'maven', 'dir']);
  t.deepEqual(parseFetchArgs(['--source', 'dir,hub,dir'], {}).sources, ['dir', 'hub']);
  t.deepEqual(filesForVariant('fp32'), [graphFileName('fp32'), TOKENIZER_FILE]);
  t.deepEqual(filesForVariant('all'), ['model.onnx', 'model_int8.onnx', 'tokenizer.json']);
  t.is(
    hubUrl('https://hf-mirror.example/', 'sentence-transformers/all-MiniLM-L6-v2', 'main', 'onnx/model.onnx'),
    'https://hf-mirror.example/sentence-transformers/all-MiniLM-L6-v2/resolve/main/onnx/model.onnx',
  );
  t.is(
    mavenJarUrl('https://repo.maven.apache.org/maven2/', 'dev.langchain4j:langchain4j-embeddings:1.20.0-beta30'),
    'https://repo.maven.apache.org/maven2/dev/langchain4j/langchain4j-embeddings/1.20.0-beta30/langchain4j-embeddings-1.20.0-beta30.jar',
  );
  const fetchFailed = new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND huggingface.co') });
  t.is(oneLine(fetchFailed), 'getaddrinfo ENOTFOUND huggingface.co');
  t.is(oneLine(new Error('a\n  b')), 'a b');
});

test('planMavenArtifacts fetches as few jars as possible', (t) => {
  const m = loadManifest();
  const jars = (files: string[]) => planMavenArtifacts(files, m).map((p) => p.artifact).sort();
  t.deepEqual(jars(filesForVariant('fp32')), ['fp32']);
  t.deepEqual(jars(fetchPlan(m, filesForVariant('int8')).download), ['fp32']);
  t.deepEqual(jars(fetchPlan(m, filesForVariant('all')).download), ['fp32']);
  t.deepEqual(jars([TOKENIZER_FILE]), ['tokenizer']);
});

test('the int8 graph is made from the fp32 graph, never downloaded', (t) => {
  const m = loadManifest();
  t.deepEqual(fetchPlan(m, filesForVariant('int8')), { download: [TOKENIZER_FILE, 'model.onnx'], make: ['model_int8.onnx'] });
  t.deepEqual(fetchPlan(m, filesForVariant('all')), { download: ['model.onnx', TOKENIZER_FILE], make: ['model_int8.onnx'] });
  t.deepEqual(fetchPlan(m, filesForVariant('fp32')), { download: ['model.onnx', TOKENIZER_FILE], make: [] });
  const entry = m.files['model_int8.onnx']!;
  t.deepEqual(Object.keys(entry.sources), ['quantize']);
  t.is(entry.sources.quantize?.from, 'model.onnx');
  t.true(existsSync(path.join(projectRoot(), entry.sources.quantize!.script)), 'the recipe the manifest names exists');
});

// --- zip reader --------------------------------------------------------------

/** Minimal zip writer (stored + deflated entries), enough to exercise the reader. */
function zipRecord(size: number, fields: Array<[offset: number, value: number, width: 2 | 4]>): Buffer {
  const record = Buffer.alloc(size);
  for (const [at, value, width] of fields) record.writeUIntLE(value, at, width);
  return record;
}

function makeZip(entries: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const method = e.deflate ? 8 : 0;
    // Local header and central directory entry: [offset, value, width in bytes] of each field set.
    const lh = zipRecord(30, [[0, 0x04034b50, 4], [4, 20, 2], [8, method, 2], [18, body.length, 4], [22, e.data.length, 4], [26, name.length, 2]]);
    const ch = zipRecord(46, [[0, 0x02014b50, 4], [4, 20, 2], [6, 20, 2], [10, method, 2], [20, body.length, 4], [24, e.data.length, 4], [28, name.length, 2], [42, offset, 4]]);
    locals.push(lh, name, body);
    centrals.push(ch, name);
    offset += lh.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

test('extractZipEntry extracts stored and deflated entries', async (t) => {
  const dir = await tempDir(t);
  const big = Buffer.from('all-MiniLM-L6-v2 '.repeat(5000));
  const zip = path.join(dir, 'a.jar');
  await writeFile(zip, makeZip([
    { name: 'META-INF/MANIFEST.MF', data: Buffer.from('Manifest-Version: 1.0\n'), deflate: false },
    { name: 'model.onnx', data: big, deflate: true },
  ]));
  const out = path.join(dir, 'out.onnx');
  const digest = await extractZipEntry(zip, 'model.onnx', out);
  t.deepEqual(await readFile(out), big);
  t.deepEqual(digest, { sha256: sha256(big), size: big.length });
  const mf = await extractZipEntry(zip, 'META-INF/MANIFEST.MF', path.join(dir, 'mf'));
  t.is(mf.size, 22);
  await t.throwsAsync(extractZipEntry(zip, 'nope.onnx', path.join(dir, 'x')), { message: /no entry "nope.onnx"/ });
});

// --- the CLI ---------------------------------------------------------------

test('fetch CLI rejects a bad variant with exit code 2', async (t) => {
  const r = await runCli(['--variant', 'fp16']);
  t.is(r.code, 2);
  t.regex(r.stderr, /invalid --variant "fp16"/);
});

// Decided synchronously: ava wants every test declared in the first tick.
const modelPresent = filesForVariant('all').every((f) => existsSync(path.join(defaultModelDir(), f)));

(modelPresent ? test : test.skip)('a second fetch run is a no-op', async (t) => {
  const files = filesForVariant('all').map((f) => path.join(defaultModelDir(), f));
  const before = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  // --source dir and no EMBEDDING_MODEL_DIR: even if verification failed, nothing would be downloaded.
  const env = { EMBEDDING_MODEL_DIR: '' };
  const first = await runCli(['--variant', 'all', '--source', 'dir'], env);
  t.is(first.code, 0, first.stdout + first.stderr);
  const second = await runCli(['--variant', 'all', '--source', 'dir'], env);
  t.is(second.code, 0, second.stdout + second.stderr);
  t.regex(second.stdout, /^model already present and verified/);
  t.is(second.stdout.trim().split('\n').length, 1, 'one line');
  const after = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  t.deepEqual(after, before, 'no file rewritten');
});
