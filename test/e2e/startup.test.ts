import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { defaultModelDir } from '../../src/model/files.js';
import { HealthResponse } from '../../src/router/schemas.js';
import { postJson, runServerToExit, startServer } from '../../harness/server.js';

test('/health answers 503 while the model loads, then 200; /embed waits for the model', async (t) => {
  const server = await startServer();
  try {
    // The server listens before the workers have loaded their sessions.
    const early = await fetch(`${server.url}/health`);
    const earlyBody = HealthResponse.parse(await early.json());
    t.is(early.status, 503);
    t.is(earlyBody.status, 'loading');
    t.is(earlyBody.model_loaded, false);
    const earlyEmbed = await postJson(`${server.url}/embed`, { batch_id: 'b', chunks: [{ chunk_id: 'c', content: 'x' }] });
    t.true(earlyEmbed.status === 503 || earlyEmbed.status === 200);
    if (earlyEmbed.status === 503) {
      t.is(earlyEmbed.json.error.code, 'model_loading');
      t.truthy(earlyEmbed.headers.get('retry-after'));
    }

    await server.waitReady();
    const late = await fetch(`${server.url}/health`);
    const body = HealthResponse.parse(await late.json());
    t.is(late.status, 200);
    t.like(body, { status: 'healthy', model_loaded: true, embedding_dim: 384, model: 'sentence-transformers/all-MiniLM-L6-v2', variant: 'fp32', dimensions: 384 });
    t.true(body.workers >= 1);
    t.true(body.threads_per_worker >= 1);
  } finally {
    t.is(await server.stop(), 0);
  }
});

test('a bad configuration value stops start-up with a message naming it', async (t) => {
  const { code, stderr } = await runServerToExit({ EMBEDDING_MAX_BATCH_SIZE: 'lots' });
  t.is(code, 1);
  t.regex(stderr, /EMBEDDING_MAX_BATCH_SIZE="lots": must be an integer/);
});

test('a missing model stops start-up with a message naming the fix', async (t) => {
  const { code, stderr } = await runServerToExit({ EMBEDDING_MODEL_DIR: path.join(tmpdir(), 'no-such-model-dir') });
  t.is(code, 1);
  t.regex(stderr, /model:fetch|EMBEDDING_MODEL_DIR/);
});

test('an ONNX graph that cannot load stops start-up with a non-zero exit', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'broken-model-'));
  writeFileSync(path.join(dir, 'model.onnx'), 'this is not an onnx graph');
  symlinkSync(path.join(defaultModelDir(), 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const { code, stderr } = await runServerToExit({ EMBEDDING_MODEL_DIR: dir });
  t.is(code, 1);
  t.regex(stderr, /could not be loaded/);
});

test('the API key never appears in the start-up error for another variable', async (t) => {
  const { code, stderr } = await runServerToExit({ EMBEDDING_API_KEY: 'do-not-print-me', EMBEDDING_MAX_QUEUED_CHUNKS: 'x' });
  t.is(code, 1);
  t.regex(stderr, /EMBEDDING_MAX_QUEUED_CHUNKS/);
  t.false(stderr.includes('do-not-print-me'));
});
