/**
 * A Piscina worker: holds one ONNX Runtime session and one tokenizer for its whole life and turns a
 * batch of texts into normalised sentence embeddings. Tokenizing here rather than on the main thread
 * keeps the event loop free for HTTP and spreads the work over the cores.
 */
import ort from 'onnxruntime-node';
import { move, workerData } from 'piscina';
import { MAX_SEQ_LENGTH, ModelTokenizer } from '../core/tokenizer.js';
import { meanPoolNormalize } from '../core/pooling.js';
import { allocateBatchResult } from './batch-result.js';

export interface WorkerSettings {
  graphPath: string;
  tokenizerPath: string;
  intraOpThreads: number;
  dims: number;
}

export interface EmbedTask {
  texts: string[];
}

const settings = workerData as WorkerSettings;

const session = await ort.InferenceSession.create(settings.graphPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: settings.intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const tokenizer = ModelTokenizer.fromFile(settings.tokenizerPath);

export default async function embedBatch(task: EmbedTask): Promise<unknown> {
  const count = task.texts.length;
  const encoded = task.texts.map((text) => tokenizer.encode(text));
  const padded = Math.min(MAX_SEQ_LENGTH, Math.max(...encoded.map((e) => e.ids.length)));

  const inputIds = new BigInt64Array(count * padded);
  const attentionMask = new BigInt64Array(count * padded);
  encoded.forEach(({ ids }, row) => {
    for (let t = 0; t < ids.length; t++) {
      inputIds[row * padded + t] = BigInt(ids[t]!);
      attentionMask[row * padded + t] = 1n;
    }
  });
  const shape = [count, padded];
  const feeds = {
    input_ids: new ort.Tensor('int64', inputIds, shape),
    attention_mask: new ort.Tensor('int64', attentionMask, shape),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(count * padded), shape),
  };
  const outputs = await session.run(feeds);
  const hidden = outputs.last_hidden_state;
  if (!hidden || hidden.type !== 'float32' || hidden.dims[2] !== settings.dims) {
    throw new Error(`model output last_hidden_state is not float32 [batch, seq, ${settings.dims}]`);
  }

  const { buffer, view } = allocateBatchResult(count, settings.dims);
  const lengths = encoded.map((e) => e.ids.length);
  meanPoolNormalize(hidden.data as Float32Array, lengths, padded, settings.dims, view.vectors);
  encoded.forEach((e, row) => {
    view.tokens[row] = e.ids.length;
    view.truncated[row] = e.truncated ? 1 : 0;
  });
  hidden.dispose();
  return move(buffer);
}
