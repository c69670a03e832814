import { z } from 'zod';
import { Chunk, contentText, EmbedRequest, LongInput } from '../core/embed-request.js';
import { DIMENSIONS, MAX_SEQ_LENGTH } from '../model/spec.js';

export { Chunk, EmbedRequest, LongInput } from '../core/embed-request.js';

/**
 * The wire format, in one place: request validation, the OpenAPI document and the tests' response
 * checks all derive from these schemas.
 */
export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable error code, e.g. invalid_request'),
      message: z.string().describe('Human-readable explanation'),
    }),
  })
  .meta({ id: 'ErrorResponse' });

/**
 * POST /embed's request and response are the original Python worker's wire contract (issue 12): `{batch_id, chunks:
 * [{chunk_id, content}]}` in, `{batch_id, vectors: [{chunk_id, vector}]}` out, with this service's own fields beside
 * them (every client of the original ignores fields it does not know). The request's schema is in core/embed-request.ts,
 * shared with the queue's jobs.
 */
const tokensText = (maxSeqLength: number) =>
  `Word pieces fed to the model, [CLS] and [SEP] included: at most ${maxSeqLength} (EMBEDDING_MAX_SEQ_LENGTH) per window; with long_input mean or windows, the sum over the chunk's windows`;
const CACHED_CHUNKS_TEXT =
  'Chunks whose vector came from the embedding cache (EMBEDDING_CACHE) instead of the model: bit for bit what the model gives. Repeats of a text computed in the same request are not counted; with long_input mean or windows, a chunk counts when all its windows came from the cache';
const truncatedText = (maxSeqLength: number) =>
  `True when the content was cut: to ${maxSeqLength} word pieces (long_input truncate), at EMBEDDING_MAX_WINDOWS_PER_CHUNK windows (mean, windows), or before tokenizing at EMBEDDING_MAX_CHUNK_CHARS`;

const windowsText = 'long_input windows only: the windows in text order (one when the text fits one window), whose token-weighted mean is the vector';

/**
 * The first line of an NDJSON request body (`Content-Type: application/x-ndjson`): the request's options, that is
 * EmbedRequest without `chunks`; each later line is one Chunk. long_input may only be truncate there (embed-route.ts).
 */
export const EmbedStreamHeader = EmbedRequest.omit({ chunks: true })
  .describe('The first line of an application/x-ndjson body; every later line is one Chunk. long_input mean and windows are refused here (422): they need a JSON body')
  .meta({ id: 'EmbedStreamHeader' });
export type EmbedStreamHeader = z.infer<typeof EmbedStreamHeader>;

const Vector = z.array(z.number()).length(DIMENSIONS).describe(`The ${DIMENSIONS}-dimensional L2-normalised embedding`);

export const ChunkWindow = z
  .object({
    start: z.number().int().min(0).describe('First character of the window in the content, as a UTF-16 code unit index (a JavaScript string index)'),
    end: z.number().int().min(0).describe('One past its last character: the window is content.slice(start, end)'),
    tokens: z.number().int().min(2).describe('Word pieces of the window, [CLS] and [SEP] included'),
    vector: Vector,
  })
  .meta({ id: 'ChunkWindow' });

export const ChunkVector = z
  .object({
    chunk_id: z.string(),
    vector: Vector,
    tokens: z.number().int().min(2).describe(tokensText(MAX_SEQ_LENGTH)),
    truncated: z.boolean().describe(truncatedText(MAX_SEQ_LENGTH)),
    windows: z.array(ChunkWindow).min(1).optional().describe(windowsText),
  })
  .meta({ id: 'ChunkVector' });

export const EmbedResponse = z
  .object({
    batch_id: z.string(),
    vectors: z.array(ChunkVector).describe('One entry per chunk, in request order'),
    model: z.string(),
    dimensions: z.literal(DIMENSIONS),
    usage: z.object({
      chunks: z.number().int(),
      tokens: z.number().int().describe('Word pieces of every chunk, [CLS] and [SEP] included, whether computed or served from the cache'),
      cached_chunks: z.number().int().min(0).describe(CACHED_CHUNKS_TEXT),
    }),
    timing_ms: z.number(),
  })
  .meta({ id: 'EmbedResponse' });

/** The last line of an NDJSON /embed response: the JSON response without `vectors`. */
export const EmbedStreamSummary = EmbedResponse.omit({ vectors: true }).meta({ id: 'EmbedStreamSummary' });

/**
 * The /embed schemas with the configured sequence length in their descriptions and bounds, for the OpenAPI document.
 * Extended copies, so the registered schemas above keep their ids.
 */
export function embedSchemas(maxSeqLength: number) {
  const chunk = Chunk.extend({ content: z.string().describe(contentText(maxSeqLength)) });
  const vector = ChunkVector.extend({
    tokens: z.number().int().min(2).describe(tokensText(maxSeqLength)),
    truncated: z.boolean().describe(truncatedText(maxSeqLength)),
  });
  const response = EmbedResponse.extend({ vectors: z.array(vector).describe('One entry per chunk, in request order') });
  return {
    request: EmbedRequest.extend({ chunks: z.array(chunk).min(1) }),
    streamHeader: EmbedStreamHeader,
    chunk,
    vector,
    response,
    summary: EmbedStreamSummary,
  };
}

export const HealthResponse = z
  .object({
    status: z.enum(['healthy', 'loading']).describe('healthy (200) once every worker has loaded the model; loading (503) before'),
    model_loaded: z.boolean().describe('The original worker’s field: true when status is healthy'),
    embedding_dim: z.literal(DIMENSIONS).describe('The original worker’s field: the vector width'),
    max_seq_length: z.number().int().describe('EMBEDDING_MAX_SEQ_LENGTH: word pieces the model sees per text'),
    model: z.string(),
    variant: z.enum(['fp32', 'int8']),
    dimensions: z.literal(DIMENSIONS),
    workers: z.number().int(),
    threads_per_worker: z.number().int(),
    uptime_s: z.number(),
    supervisor: z
      .lazy(() => SupervisorState)
      .optional()
      .describe('The memory supervisor: budget, usage, pressure, current limits, workers and recycles'),
  })
  .meta({ id: 'HealthResponse' });

export const SupervisorState = z
  .object({
    adaptive: z.boolean().describe('EMBEDDING_ADAPTIVE_BATCHING'),
    budget_bytes: z.number().int().describe('Memory the process may use: EMBEDDING_MAX_MEMORY_PERCENT of the limit, or EMBEDDING_MAX_MEMORY_MB'),
    budget_source: z.enum(['EMBEDDING_MAX_MEMORY_MB', 'cgroup', 'system']),
    limit_bytes: z.number().int().describe('The effective memory limit: the cgroup limit when lower than the machine’s RAM'),
    rss_bytes: z.number().int().describe('Resident set of the process (main thread and all workers) at the last sample'),
    peak_rss_bytes: z.number().int(),
    usage_ratio: z.number().describe('The larger of rss_bytes and cgroup.working_set_bytes, ÷ budget_bytes'),
    pressure: z.enum(['calm', 'elevated', 'high', 'critical']).describe('calm < 75% ≤ elevated < 90% ≤ high < 100% ≤ critical'),
    cpu_percent: z.number(),
    limit_file: z.string().nullable().describe('The cgroup file whose limit limit_bytes is (memory.max, memory.high, memory.limit_in_bytes…), when it is one'),
    cgroup: z
      .object({
        version: z.union([z.literal(1), z.literal(2), z.null()]),
        path: z.string().nullable().describe('The process’s memory cgroup directory (or EMBEDDING_CGROUP_ROOT)'),
        limit_bytes: z.number().int().nullable().describe('The tightest limit of the cgroup and its ancestors'),
        limit_file: z.string().nullable(),
        usage_bytes: z.number().int().nullable().describe('The cgroup’s own charge, page cache included'),
        working_set_bytes: z
          .number()
          .int()
          .nullable()
          .describe('The charge of the cgroup whose limit binds, less inactive file pages; held against the budget with the RSS'),
      })
      .describe('The memory cgroup at the last sample'),
    batch_size: z.number().int().describe('Most chunks per worker task right now'),
    min_batch_size: z.number().int(),
    max_batch_size: z.number().int(),
    concurrency: z.number().int().describe('Batches allowed in flight across the pool right now'),
    max_concurrency: z.number().int(),
    paused: z.boolean().describe('New batches wait (over budget at the floor); bounded by EMBEDDING_MAX_PAUSE_MS'),
    refusing: z.boolean().describe('New requests get 503 memory_pressure'),
    workers: z.array(
      z.object({
        id: z.number().int(),
        role: z.enum(['regular', 'lone']).describe('`lone`: the extra worker whose session uses every core, for a batch that is alone in the pool (EMBEDDING_LONE_THREADS)'),
        state: z.enum(['starting', 'ready', 'recycling']),
        busy: z.boolean(),
        tasks: z.number().int().describe('Tasks served by this worker’s current session'),
        estimated_bytes: z.number().int().describe('Its isolate heap plus an estimate of its ONNX arena'),
      }),
    ),
    recycles: z.number().int().describe('Workers replaced so far'),
    recycle_freed_bytes: z.number().int().describe('Memory the pressure recycles freed so far, from the readings before and after each'),
    recycle_backoff_ms: z.number().int().describe('How long the next pressure recycle must wait after the last; doubles while recycles free nothing'),
    adjustments: z.number().int().describe('Supervisor actions so far'),
    sample_interval_ms: z.number().int(),
    headroom: z
      .object({
        headroom_bytes: z.number().int().describe('Budget left for new batches: budget less memory in use and memory reserved by started batches'),
        committed_bytes: z.number().int().describe('Predicted growth of batches started but not yet seen in a memory reading'),
        max_rows_at_full_length: z.number().int().describe('Full-length rows one batch may hold right now (the effective cap; larger batches run in pieces)'),
        memory_waits: z.number().int().describe('Times a batch was held back for memory so far'),
        refused_batches: z.number().int().describe('Batches failed because even one chunk could never fit the budget'),
      })
      .optional()
      .describe('The dispatch check: no batch starts that the memory budget cannot hold'),
  })
  .meta({ id: 'SupervisorState' });

/** Request-size limits from the configuration; the schemas below carry them, so OpenAPI shows them. */
export interface RequestLimits {
  /** Most chunks (or `input` strings) in one request: EMBEDDING_MAX_CHUNKS_PER_REQUEST. */
  maxChunks: number;
}

/** The NATS worker mode's consumer (issue 13, docs/QUEUE.md), in /ready when EMBEDDING_NATS_URL is set. */
export const QueueReadyState = z
  .object({
    connected: z.boolean().describe('Connected to a NATS server, with the streams and the consumer in place. HTTP serves either way'),
    fetching: z.boolean().describe('Taking new jobs: connected, not draining, memory neither paused nor refusing'),
    stream: z.string().describe('EMBEDDING_NATS_STREAM'),
    consumer: z.string().describe('EMBEDDING_NATS_CONSUMER'),
    pending: z.number().int().nullable().describe("Jobs not yet delivered to any worker (the consumer's lag) at the last look, every 5 s; null before the first"),
    ack_pending: z.number().int().nullable().describe('Jobs delivered to some worker and not yet acknowledged, at the last look'),
    redelivered: z.number().int().nullable().describe('Jobs being redelivered, consumer-wide, at the last look'),
    running: z.number().int().describe('Jobs this process holds (running or fetched)'),
    redeliveries: z.number().int().describe('Deliveries this process received that were redeliveries'),
    jobs: z.object({ completed: z.number().int(), failed: z.number().int(), retried: z.number().int() }).describe('Jobs this process finished, by outcome'),
  })
  .meta({ id: 'QueueReadyState' });
export type QueueReadyState = z.infer<typeof QueueReadyState>;

export const ReadyResponse = z
  .object({
    status: z.enum(['ready', 'loading', 'draining']).describe('ready (200); loading or draining (503)'),
    queue: QueueReadyState.optional().describe('The NATS consumer, when worker mode is on (EMBEDDING_NATS_URL); its state does not change the status'),
  })
  .meta({ id: 'ReadyResponse' });

/** OpenAI's error shape, used by /v1/embeddings. */
export const OpenAIErrorResponse = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.enum(['invalid_request_error', 'server_error']),
      param: z.string().nullable().describe('The request field at fault, when there is one'),
      code: z.string().nullable().describe('Stable machine-readable error code'),
    }),
  })
  .meta({ id: 'OpenAIErrorResponse' });

export const DIMENSIONS_MESSAGE = `dimensions must be ${DIMENSIONS}: the model has ${DIMENSIONS} dimensions and this service does not shorten vectors`;

/** POST /v1/embeddings, OpenAI's embeddings request; `limits` bound the inputs. */
export function openAiEmbeddingRequest(limits: RequestLimits) {
  const text = z.string();
  return z
    .object({
      input: z
        .union([text, z.array(text).min(1).max(limits.maxChunks)])
        .describe('One string or an array of strings to embed. Token-id arrays are not accepted (this model has its own tokenizer).'),
      model: z.string().min(1).describe('Any name is accepted; the service has one model and reports its id in the response'),
      encoding_format: z
        .enum(['float', 'base64'])
        .default('float')
        .describe('float: arrays of numbers; base64: each vector as little-endian float32 bytes, base64-encoded'),
      dimensions: z.literal(DIMENSIONS, { message: DIMENSIONS_MESSAGE }).optional().describe(`Only ${DIMENSIONS} is accepted`),
      user: z.string().optional().describe('Accepted and ignored'),
      long_input: LongInput,
    })
    .describe(`OpenAI's embeddings request; at most ${limits.maxChunks} inputs, each of any length (cut as /embed's chunks are)`);
}
export type OpenAIEmbeddingRequest = z.infer<ReturnType<typeof openAiEmbeddingRequest>>;

const OpenAIVector = z
  .union([z.array(z.number()).length(DIMENSIONS), z.string().describe(`base64 of ${DIMENSIONS} little-endian float32 values (${DIMENSIONS * 4} bytes)`)])
  .describe('L2-normalised vector');

export const OpenAIEmbeddingResponse = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        object: z.literal('embedding'),
        index: z.number().int().min(0),
        embedding: OpenAIVector,
        windows: z
          .array(
            ChunkWindow.omit({ vector: true }).extend({
              start: z.number().int().min(0).describe('First character of the window in the input, as a UTF-16 code unit index (a JavaScript string index)'),
              end: z.number().int().min(0).describe('One past its last character: the window is input.slice(start, end)'),
              embedding: OpenAIVector,
            }),
          )
          .min(1)
          .optional()
          .describe(windowsText),
      }),
    ),
    model: z.string(),
    usage: z.object({
      prompt_tokens: z.number().int().describe('Word pieces run through the model, [CLS] and [SEP] included'),
      total_tokens: z.number().int(),
      cached_chunks: z.number().int().min(0).describe(CACHED_CHUNKS_TEXT),
    }),
  })
  .meta({ id: 'OpenAIEmbeddingResponse' });

/** GET /: the original worker's connectivity check, answered the same. */
export const RootResponse = z
  .object({
    service: z.literal('doctown-embedding-worker').describe('The name the original worker answered with, kept so its checks pass'),
    status: z.literal('running'),
  })
  .meta({ id: 'RootResponse' });
