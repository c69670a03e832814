import { MAX_SEQ_LENGTH } from '../model/spec.js';
import type { BatchResult } from '../workers/batch-result.js';
import { linkedAbortController } from './abort.js';
import type { TieredCache } from '../cache/tiered-cache.js';
import { allocateRows, type EmbeddedRows } from './batch-runner.js';
import { rowRunner, type RowRunner } from './cached-rows.js';
import { defaultWindowSize, embedInOrder, embedStreamInOrder, type OrderedEmbedOptions, type TextWindows } from './ordered-embed.js';
import { LongInput, type LongInputMode, type LongInputSettings } from './long-input.js';
import { DEFAULT_MAX_BATCH_TOKENS } from './planner.js';
import type { RuntimeLimits } from './runtime-limits.js';
import type { BatchScheduler } from './scheduler.js';

/**
 * What the HTTP layer needs from the embedding core: every vector of a request at once, or window by
 * window in request order. Tests of the HTTP layer hand it a stub.
 */
export interface EmbedService {
  readonly dims: number;
  embed(texts: readonly string[], signal?: AbortSignal, options?: EmbedOptions): Promise<EmbeddedRows>;
  stream(texts: readonly string[], signal?: AbortSignal, options?: OrderedEmbedOptions & EmbedOptions): AsyncGenerator<EmbeddedRows, void, undefined>;
  /**
   * The same for texts that are still arriving (a streamed request body), taken from `source` window by window as the
   * pipeline has room. The source cuts its texts (cutTexts) and reports which it cut: this only embeds them. Long texts
   * are truncated: `long_input` is not offered for streamed bodies.
   */
  streamFrom(source: TextWindows, signal?: AbortSignal): AsyncGenerator<EmbeddedRows, void, undefined>;
  /** Chunks per window of stream() and streamFrom() right now. */
  readonly windowSize: number;
}

/** A request's own choices. */
export interface EmbedOptions {
  /** The request's `long_input`; the server's EMBEDDING_LONG_INPUT when absent. */
  longInput?: LongInputMode | undefined;
}

/** Turns a request's texts into batches, runs them through the scheduler and puts results back in order. */
export class Embedder implements EmbedService {
  constructor(
    private readonly scheduler: BatchScheduler<BatchResult>,
    private readonly limits: RuntimeLimits,
    readonly dims: number,
    /** EMBEDDING_MAX_BATCH_TOKENS: most padded tokens in one batch, from estimated token counts. */
    private readonly maxBatchTokens = DEFAULT_MAX_BATCH_TOKENS,
    private readonly text: TextOptions = {},
    /** The embedding cache (EMBEDDING_CACHE); absent, every text runs through the model. */
    cache?: TieredCache,
  ) {
    this.#long = text.longInput && new LongInput(text.longInput, this.maxSeqLength);
    this.run = rowRunner(cache);
  }

  /** Plan → submit → scatter, with the cache's lookup before and its fill after when there is one. */
  private readonly run: RowRunner;

  /** Long texts cut into windows (long-input.ts); absent, every text is truncated. */
  readonly #long: LongInput | undefined;

  private get maxSeqLength(): number {
    return this.text.maxSeqLength ?? MAX_SEQ_LENGTH;
  }

  async embed(whole: readonly string[], signal?: AbortSignal, options: EmbedOptions = {}): Promise<EmbeddedRows> {
    // Backpressure: refuse before allocating anything; runRows' submits follow in the same tick.
    this.scheduler.admit(whole.length);
    const texts = cutTexts(whole, this.text.maxTextChars);
    const mode = this.#long?.mode(options.longInput) ?? 'truncate';
    const rows =
      mode === 'truncate'
        ? await this.#run(texts, signal)
        : await this.#long!.embed(texts, mode, (windows) => {
            this.scheduler.admit(windows.length);
            return this.#run(windows, signal);
          });
    markCut(whole, rows, this.text.maxTextChars);
    return rows;
  }

  async #run(texts: readonly string[], signal: AbortSignal | undefined): Promise<EmbeddedRows> {
    const rows = allocateRows(0, texts.length, this.dims);
    // One failed batch fails the request, so its other batches are withdrawn rather than left to run.
    const { controller: abandon, unlink } = linkedAbortController(signal);
    try {
      await this.run(this.scheduler, this.limits, texts, rows, {
        owner: {},
        signal: abandon.signal,
        maxBatchTokens: this.maxBatchTokens,
        maxSeqLength: this.maxSeqLength,
      });
    } catch (error) {
      abandon.abort(error);
      throw error;
    } finally {
      unlink();
    }
    return rows;
  }

  /**
   * The same vectors as embed(), handed out window by window in request order as they finish, for
   * streamed responses: memory stays bounded by two windows whatever the request's size.
   */
  async *stream(whole: readonly string[], signal?: AbortSignal, options: OrderedEmbedOptions & EmbedOptions = {}): AsyncGenerator<EmbeddedRows, void, undefined> {
    const { longInput, ...ordered } = options;
    const texts = cutTexts(whole, this.text.maxTextChars);
    const inOrder = (rows: readonly string[]) =>
      embedInOrder(this.scheduler, this.limits, this.dims, rows, signal, {
        maxBatchTokens: this.maxBatchTokens,
        maxSeqLength: this.maxSeqLength,
        run: this.run,
        ...ordered,
      });
    const mode = this.#long?.mode(longInput) ?? 'truncate';
    const windows = mode === 'truncate' ? inOrder(texts) : this.#long!.stream(texts, mode, this.dims, inOrder);
    // A consumer that stops early leaves this loop, which calls embedInOrder's return(): its queued batches are withdrawn.
    for await (const window of windows) {
      markCut(whole, window, this.text.maxTextChars);
      yield window;
    }
  }

  streamFrom(source: TextWindows, signal?: AbortSignal): AsyncGenerator<EmbeddedRows, void, undefined> {
    return embedStreamInOrder(this.scheduler, this.limits, this.dims, source, signal, { maxBatchTokens: this.maxBatchTokens, maxSeqLength: this.maxSeqLength, run: this.run });
  }

  get windowSize(): number {
    return defaultWindowSize(this.limits);
  }
}

/** What the workers are given of each text. */
export interface TextOptions {
  /** EMBEDDING_MAX_SEQ_LENGTH: where the workers cut each text, so the planner's estimates stop there too. */
  maxSeqLength?: number | undefined;
  /**
   * EMBEDDING_MAX_CHUNK_CHARS: characters of a text sent to a worker. The rest is cut here, before tokenization, rather
   * than refused: the model sees only the first maxSeqLength word pieces, which real text yields in far fewer characters.
   */
  maxTextChars?: number | undefined;
  /** EMBEDDING_LONG_INPUT and its settings, with the workers' window cutting. */
  longInput?: LongInputSettings | undefined;
}

/** Each text cut to `maxChars` UTF-16 units, never between the two halves of a surrogate pair. */
export function cutTexts(texts: readonly string[], maxChars: number | undefined): readonly string[] {
  if (maxChars === undefined || !texts.some((t) => t.length > maxChars)) return texts;
  return texts.map((t) => {
    if (t.length <= maxChars) return t;
    const high = t.charCodeAt(maxChars - 1);
    return t.slice(0, high >= 0xd800 && high <= 0xdbff ? maxChars - 1 : maxChars);
  });
}

/** A text cut before tokenization is reported `truncated`, whatever its kept part tokenized to. */
function markCut(whole: readonly string[], rows: EmbeddedRows, maxChars: number | undefined): void {
  if (maxChars === undefined) return;
  for (let row = 0; row < rows.count; row++) if (whole[rows.offset + row]!.length > maxChars) rows.truncated[row] = 1;
}
