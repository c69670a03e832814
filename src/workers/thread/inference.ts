/**
 * The model's inference path, in one place for the service's worker and the benchmark's ceiling:
 * token ids → int64 tensors → ONNX Runtime → mean pooling and L2 normalisation into a caller's buffer.
 * The ceiling feeds pre-tokenized rows to time the model alone; the service tokenizes first. Both go
 * through `embedIds`, so "service against ceiling" compares the same tensor, ONNX and pooling code.
 */
import ort from 'onnxruntime-node';
import { MAX_POSITION_EMBEDDINGS, MAX_SEQ_LENGTH } from '../../model/spec.js';
import { ModelTokenizer, type ModelInput } from './tokenizer.js';
import { meanPoolNormalize } from './pooling.js';
import { allocateBatchResult } from '../batch-result.js';

export interface InferenceOptions {
  graphPath: string;
  tokenizerPath: string;
  intraOpThreads: number;
  dims: number;
  /** EMBEDDING_MAX_SEQ_LENGTH: word pieces per text, [CLS] and [SEP] included; MAX_SEQ_LENGTH (256) when unset. */
  maxSeqLength?: number | undefined;
  /** How idle intra-op threads wait for work (IdleThreads); unset: onnxruntime's default, `spin`. */
  idleThreads?: IdleThreads | undefined;
}

/**
 * How a session's idle intra-op threads wait: `spin` busy-waits (onnxruntime's default, for a while after every run too),
 * `sleep` blocks at once (the bench's layouts with more threads than cores), `brief` spins for at most BRIEF_SPIN_US
 * between pieces of work and stops when the run returns (session.force_spinning_stop). A run hands its threads work once
 * per operator, microseconds apart: a sleeping thread pays a wake-up each time, a briefly spinning one catches them and
 * still leaves the cores alone between requests (BENCHMARKS.md, "A lone request against TEI").
 */
export type IdleThreads = 'spin' | 'sleep' | 'brief';

/** `brief`'s longest spin, in microseconds (onnxruntime's session.intra_op.spin_duration_us, 1.26 and later). */
export const BRIEF_SPIN_US = 200;

/** IdleThreads as onnxruntime session config entries (the session options' `extra`). */
export function idleThreadsConfig(idle: IdleThreads): ort.InferenceSession.SessionOptions['extra'] {
  if (idle === 'brief') return { session: { intra_op: { allow_spinning: '1', spin_duration_us: String(BRIEF_SPIN_US) }, force_spinning_stop: '1' } };
  return { session: { intra_op: { allow_spinning: idle === 'spin' ? '1' : '0' } } };
}

/** One texts batch embedded: the result buffer (see batch-result.ts) and the batch's padded length. */
export interface EmbeddedTexts {
  buffer: ArrayBuffer;
  count: number;
  padded: number;
}

export class Inference {
  readonly tokenizer: ModelTokenizer;
  readonly dims: number;
  readonly #session: ort.InferenceSession;

  private constructor(session: ort.InferenceSession, tokenizer: ModelTokenizer, dims: number) {
    this.#session = session;
    this.tokenizer = tokenizer;
    this.dims = dims;
  }

  static async create(options: InferenceOptions): Promise<Inference> {
    const session = await ort.InferenceSession.create(options.graphPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...(options.idleThreads === undefined ? {} : { extra: idleThreadsConfig(options.idleThreads) }),
    });
    return new Inference(session, ModelTokenizer.fromFile(options.tokenizerPath, options.maxSeqLength ?? MAX_SEQ_LENGTH), options.dims);
  }

  encode(texts: readonly string[]): ModelInput[] {
    return texts.map((text) => this.tokenizer.encode(text));
  }

  /**
   * Texts to a packed batch result: vectors, token counts and truncation flags in one transferable
   * buffer, as the worker returns it.
   */
  async embedTexts(texts: readonly string[]): Promise<EmbeddedTexts> {
    const encoded = this.encode(texts);
    const { buffer, view } = allocateBatchResult(encoded.length, this.dims);
    const padded = await this.embedIds(encoded.map((e) => e.ids), view.vectors);
    encoded.forEach((e, row) => {
      view.tokens[row] = e.ids.length;
      view.truncated[row] = e.truncated ? 1 : 0;
    });
    return { buffer, count: encoded.length, padded };
  }

  /**
   * Rows of token ids ([CLS] … [SEP], at most the tokenizer's maxSeqLength each) padded to the longest into one
   * batch, run, and pooled into `vectors` (rows × dims). Returns the padded length.
   */
  async embedIds(rows: readonly (readonly number[])[], vectors: Float32Array): Promise<number> {
    const count = rows.length;
    const padded = Math.max(...rows.map((ids) => ids.length));
    // The tokenizer never returns more; a longer row would run into the next row's tensor slots.
    if (padded > MAX_POSITION_EMBEDDINGS) throw new Error(`a row of ${padded} token ids is longer than the model's ${MAX_POSITION_EMBEDDINGS} positions`);

    const inputIds = new BigInt64Array(count * padded);
    const attentionMask = new BigInt64Array(count * padded);
    rows.forEach((ids, row) => {
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
    const outputs = await this.#session.run(feeds);
    const hidden = outputs.last_hidden_state;
    if (!hidden || hidden.type !== 'float32' || hidden.dims[2] !== this.dims) {
      throw new Error(`model output last_hidden_state is not float32 [batch, seq, ${this.dims}]`);
    }
    meanPoolNormalize(hidden.data as Float32Array, rows.map((ids) => ids.length), padded, this.dims, vectors);
    hidden.dispose();
    return padded;
  }
}
