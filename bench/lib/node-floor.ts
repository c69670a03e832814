/**
 * The lone-request floor of a Node.js front end (`npm run bench:lone -- --systems node-floor`): Node's own HTTP server,
 * no framework, no validation, no worker thread, one onnxruntime session on the main thread with a thread per core
 * (idle threads as the service's lone worker has them), TEI's API (`POST /embed {"inputs": [...]}` → vectors). It is
 * not a service (one session, no limits, no error handling beyond a 400); it answers one question: how fast can any
 * Node.js process answer a lone short text over HTTP, whatever sits between the socket and the model?
 */
import http from 'node:http';
import os from 'node:os';
import { DIMENSIONS } from '../../src/model/spec.js';
import { viewBatchResult } from '../../src/workers/batch-result.js';
import { Inference } from '../../src/workers/thread/inference.js';
import { graphPath, TOKENIZER_PATH } from './ort-pool.js';

const inference = await Inference.create({ graphPath: graphPath('fp32'), tokenizerPath: TOKENIZER_PATH, intraOpThreads: os.availableParallelism(), dims: DIMENSIONS, idleThreads: 'brief' });

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    void (async () => {
      try {
        const { inputs } = JSON.parse(Buffer.concat(parts).toString('utf8')) as { inputs: string[] };
        const { buffer, count } = await inference.embedTexts(inputs);
        const { vectors } = viewBatchResult(buffer, count, DIMENSIONS);
        const rows = Array.from({ length: count }, (_, i) => Array.from(vectors.subarray(i * DIMENSIONS, (i + 1) * DIMENSIONS)));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
      }
    })();
  });
});
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
