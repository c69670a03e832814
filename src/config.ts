import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_WINDOWS, DEFAULT_WINDOW_OVERLAP, LONG_INPUT_MODES, type LongInputMode } from './core/long-input.js';
import { DEFAULT_MAX_BATCH_TOKENS } from './core/planner.js';
import { MAX_POSITION_EMBEDDINGS, MAX_SEQ_LENGTH } from './model/spec.js';

/**
 * Every setting the service reads from the environment, parsed and validated once at start-up.
 * Names follow the original Python service where it had one.
 */
export interface Config {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A user-supplied model directory, used as is (no manifest check): EMBEDDING_MODEL_DIR, else the original's EMBEDDING_MODEL_PATH. */
  modelDir: string | undefined;
  /** Word pieces per text the model sees, [CLS] and [SEP] included (EMBEDDING_MAX_SEQ_LENGTH). */
  maxSeqLength: number;
  modelVariant: 'fp32' | 'int8';
  workers: number;
  threadsPerWorker: number;
  /** Intra-op threads of the lone worker, which runs a batch that is alone in the pool on every core (issue 16); 0: none. */
  loneThreads: number;
  /** EMBEDDING_LONE_THREADS unset: the lone worker starts only if the memory budget has room for it (supervisor/lone-worker.ts). */
  loneAuto: boolean;
  minBatchSize: number;
  maxBatchSize: number;
  /** Most padded tokens (rows × longest row) in one batch (issue 5). */
  maxBatchTokens: number;
  maxBodyBytes: number;
  /** Memory supervisor (issue 3): budget = maxMemoryPercent of the effective limit, or maxMemoryMb. */
  maxMemoryPercent: number;
  maxMemoryMb: number | undefined;
  adaptiveBatching: boolean;
  memorySampleMs: number;
  maxPauseMs: number;
  /** Recycle a worker after this many tasks (0: never). */
  workerMaxTasks: number;
  /** Recycle a worker whose estimated footprint passes this many MB (0: never). */
  workerMaxMb: number;
  /** EMBEDDING_CGROUP_ROOT: read this cgroup directory instead of finding the process's own. */
  cgroupRoot: string | undefined;
  requestTimeoutMs: number;
  /** Test-only fault injection spec (see src/workers/thread/fault-injection.ts). */
  testFaults: string | undefined;
  /** Production interface (issue 6). Characters of one text passed to the tokenizer; the rest is cut, never refused (issue 12). */
  maxChunkChars: number;
  maxChunksPerRequest: number;
  maxQueuedChunks: number;
  shutdownTimeoutMs: number;
  shutdownDelayMs: number;
  apiKey: string | undefined;
  /** Browser origins allowed by CORS; empty: CORS off. */
  corsOrigins: string[];
  /** The embedding cache (issue 14): on/off, the memory tier's bytes (MB), the disk tier's directory and bound (MB). */
  cache: boolean;
  cacheMb: number;
  cacheDir: string | undefined;
  cacheDiskMb: number;
  /** The shared tier in the queue's worker mode: the JetStream key-value bucket and its bound (MB; 0: none). */
  cacheKvBucket: string;
  cacheKvMb: number;
  /** What becomes of a text longer than one window, unless a request says (issue 15). */
  longInput: LongInputMode;
  /** Word pieces a window repeats from the one before. */
  windowOverlap: number;
  maxWindowsPerChunk: number;
  /** The queue's worker mode (issue 13, docs/QUEUE.md); undefined when EMBEDDING_NATS_URL is unset. */
  nats: NatsConfig | undefined;
}

/** NATS JetStream worker mode: where jobs come from and where results and events go (docs/QUEUE.md). */
export interface NatsConfig {
  servers: string[];
  stream: string;
  subject: string;
  consumer: string;
  resultsStream: string;
  resultsSubject: string;
  eventsSubject: string;
  ackWaitMs: number;
  maxDeliver: number;
  nakDelayMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The original service capped ONNX threads at 8; more never helped a model this small. */
export const MAX_ONNX_THREADS = 8;
const MAX_BATCH_SIZE_LIMIT = 1024;
/**
 * 512 word pieces never need more than a few KB of real text; the first 100,000 characters (a 2,500-line file) hold
 * them with a wide margin, and cutting there bounds what one text costs the tokenizer whatever a client sends.
 */
const DEFAULT_MAX_CHUNK_CHARS = 100_000;
/** Issue 3's giant repository: one request of 50,000 chunks must go through. */
const DEFAULT_MAX_CHUNKS_PER_REQUEST = 50_000;
/**
 * Room for two giant (50,000-chunk) requests, so small requests still get their round-robin turn
 * while a giant one runs. Each queued chunk holds its text and 1.5 KB of result floats, so the
 * backlog stays under about 150 MB of vectors plus the request bodies (each under the body limit).
 */
const DEFAULT_MAX_QUEUED_CHUNKS = 100_000;
/** Inside `docker stop`'s 10 s grace period (and Kubernetes' 30 s), with room to destroy the pool. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 8_000;
/** Large enough for 20,000 chunks of 2 KB, with room for JSON escaping. */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Windows per chunk: 100 windows of 512 tokens still count in a chunk's 16-bit token total. */
const MAX_WINDOWS_LIMIT = 100;

/** Never echoed in error messages. */
const SECRET_VARIABLES = new Set(['EMBEDDING_API_KEY']);

/**
 * A number, decimals allowed, as the original's pydantic `float` settings took them (`EMBEDDING_MAX_MEMORY_PERCENT=70.0`
 * is in its README and its images).
 */
const decimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, { message: `must be a number between ${min} and ${max}` })
    .transform(Number)
    .pipe(z.number().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: `must be an integer between ${min} and ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

const bool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    // Every spelling pydantic's bool took, so the original's environment files parse unchanged.
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n'], { message: 'must be true or false' }))
    .transform((v) => ['true', '1', 'yes', 'on', 't', 'y'].includes(v));

/** A stream or consumer name: NATS allows no dots, spaces or wildcards there. */
const natsName = () =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be letters, digits, _ or - (a NATS stream or consumer name)' });

/** A subject prefix: dot-separated tokens without wildcards. */
const natsSubject = () =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { message: 'must be dot-separated tokens of letters, digits, _ or - (a NATS subject without wildcards)' });

/**
 * One environment variable: how it is parsed (its zod schema, default included) and what the README's
 * configuration table says of it. `shown` replaces the default's cell when the default is computed.
 */
interface Variable {
  schema: z.ZodType;
  doc: string;
  shown?: string;
  /** The original Python worker's name for the same setting, read when this one is unset (this one wins). */
  alias?: string;
  /** Documented in docs/QUEUE.md's table instead of README's (the queue's settings but its switch, EMBEDDING_NATS_URL). */
  queueDoc?: true;
}

/**
 * Every variable the service reads, stated once: parsing, defaults and documentation. The README's
 * configuration table is generated from this (`configTable()`, checked by test/config-readme.test.ts).
 */
export const VARIABLES = {
  PORT: { schema: int(0, 65535).default(8000), alias: 'EMBEDDING_PORT', doc: 'Listen port (`0` picks a free one).' },
  HOST: { schema: z.string().trim().min(1).default('0.0.0.0'), alias: 'EMBEDDING_HOST', doc: 'Listen address.' },
  EMBEDDING_MODEL_VARIANT: { schema: z.enum(['fp32', 'int8']).default('fp32'), doc: '`fp32` or `int8` graph. int8, made from fp32 at `model:fetch` (every weight MatMul in int8, activations quantized per token), keeps every reference text at cosine ≥ 0.99 to fp32 (lowest 0.992, median 0.998; 95% of code neighbours kept) for 2.07× the chunks/s and a lone short text 1.45× faster (AVX-512 VNNI with AMX; about 1.7× expected without AMX, [BENCHMARKS.md](BENCHMARKS.md#int8-against-fp32-issue-16)): choose it for throughput when vectors need not equal the Python original\'s, which fp32 reproduces; on an AVX2-only CPU check it first with `npm run eval:int8` ([docs/MODEL.md](docs/MODEL.md#int8)).' },
  EMBEDDING_MODEL_DIR: {
    schema: z.string().trim().min(1).optional(),
    alias: 'EMBEDDING_MODEL_PATH',
    doc: 'A directory holding `model.onnx` (or `model_int8.onnx`) and `tokenizer.json`, used as is instead of `models/all-MiniLM-L6-v2`.',
  },
  EMBEDDING_MAX_SEQ_LENGTH: {
    schema: int(3, MAX_POSITION_EMBEDDINGS).default(MAX_SEQ_LENGTH),
    doc: `Word pieces the model sees per text, [CLS] and [SEP] included; the rest is cut. ${MAX_SEQ_LENGTH} is sentence-transformers' (the reference vectors); ${MAX_POSITION_EMBEDDINGS} (the model's ceiling) reproduces the original worker's vectors. Longer costs more per long text.`,
  },
  EMBEDDING_WORKERS: { schema: int(1, 256).optional(), shown: 'cores ÷ `EMBEDDING_ONNX_THREADS`', doc: 'Worker threads, each with its own ONNX session.' },
  // Values above the cap are accepted and clamped, as the original did, rather than refused.
  EMBEDDING_ONNX_THREADS: {
    schema: int(1, 1024).optional(),
    shown: '1 (or cores ÷ `EMBEDDING_WORKERS`)',
    doc: `Intra-op threads per worker; capped at ${MAX_ONNX_THREADS} as in the original.`,
  },
  EMBEDDING_LONE_THREADS: {
    schema: int(0, 1024).optional(),
    shown: 'cores if the memory budget is ≥ 2 GiB, else `0`',
    doc: `Intra-op threads of one extra worker that runs a batch alone in the pool, a lone request such as a search query, on every core instead of one; under load it is not used. Costs one more worker's memory (about 150-180 MB, counted in the budget), so unset it starts only under a budget of 2 GiB or more. \`0\`, or not above \`EMBEDDING_ONNX_THREADS\`: no extra worker. Capped at ${MAX_ONNX_THREADS}.`,
  },

  EMBEDDING_MIN_BATCH_SIZE: { schema: int(1, MAX_BATCH_SIZE_LIMIT).default(8), doc: 'A request is not split into batches smaller than this.' },
  EMBEDDING_MAX_BATCH_SIZE: { schema: int(1, MAX_BATCH_SIZE_LIMIT).default(64), doc: 'Most chunks in one worker task.' },
  // One full row up to 1,024 rows of full rows: any cap from none-in-practice to one row per batch.
  EMBEDDING_MAX_BATCH_TOKENS: {
    schema: int(MAX_SEQ_LENGTH, MAX_BATCH_SIZE_LIMIT * MAX_SEQ_LENGTH).default(DEFAULT_MAX_BATCH_TOKENS),
    doc: 'Most padded tokens (rows × longest row) in one worker task, from estimated token counts; a single chunk over it runs alone. Larger batches cost more CPU per token and hold more memory ([BENCHMARKS.md](BENCHMARKS.md)).',
  },
  EMBEDDING_MAX_BODY_BYTES: { schema: int(1024, 2 ** 31 - 1).default(DEFAULT_MAX_BODY_BYTES), doc: 'Request body limit (413 above it); the default fits 20,000 chunks of 2 KB.' },
  EMBEDDING_REQUEST_TIMEOUT_MS: { schema: int(1000, 3_600_000).default(60_000), doc: 'Time allowed to receive a request: its headers, then its whole JSON body; a slow-drip client gets 408. For an NDJSON body, the longest wait for its next bytes while the service is reading.' },
  EMBEDDING_MAX_CHUNK_CHARS: {
    schema: int(1, 2 ** 31 - 1).default(DEFAULT_MAX_CHUNK_CHARS),
    doc: "Characters of one chunk's `content` (or one `/v1/embeddings` input) handed to the tokenizer; the rest is cut before tokenizing, never refused (`truncated: true`). Bounds one text's tokenizing cost; real text reaches the sequence length long before.",
  },
  EMBEDDING_LONG_INPUT: {
    schema: z.enum(LONG_INPUT_MODES).default('truncate'),
    doc: "Text longer than one window: `truncate` (the first `EMBEDDING_MAX_SEQ_LENGTH` word pieces, sentence-transformers' way), `mean` (overlapping windows, each embedded, token-weighted mean) or `windows` (`mean` plus each window's vector and range). A request's `long_input` overrides it ([docs/API.md](docs/API.md#long-input)).",
  },
  EMBEDDING_LONG_INPUT_OVERLAP: {
    schema: int(0, MAX_POSITION_EMBEDDINGS).default(DEFAULT_WINDOW_OVERLAP),
    doc: 'Most word pieces a window repeats from the end of the one before (whole lines); below `EMBEDDING_MAX_SEQ_LENGTH` − 2. Unset with a sequence length that small, an eighth of the window.',
  },
  EMBEDDING_MAX_WINDOWS_PER_CHUNK: {
    schema: int(1, MAX_WINDOWS_LIMIT).default(DEFAULT_MAX_WINDOWS),
    doc: 'In `mean`/`windows`, a text is cut after this many windows (`truncated: true`), so one huge file cannot take the pool.',
  },
  EMBEDDING_MAX_CHUNKS_PER_REQUEST: {
    schema: int(1, 10_000_000).default(DEFAULT_MAX_CHUNKS_PER_REQUEST),
    doc: 'Most chunks (or inputs) in one request; 413 `too_many_chunks`. Sized for one giant repository request.',
  },
  EMBEDDING_MAX_QUEUED_CHUNKS: {
    schema: int(1, 100_000_000).default(DEFAULT_MAX_QUEUED_CHUNKS),
    doc: 'Backpressure: most chunks waiting for a worker; past it, 503 `overloaded` with `Retry-After` at once (an empty queue always admits). Must be ≥ `EMBEDDING_MAX_CHUNKS_PER_REQUEST`.',
  },
  EMBEDDING_SHUTDOWN_TIMEOUT_MS: {
    schema: int(0, 3_600_000).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    doc: "On SIGTERM/SIGINT, how long requests in flight may take to finish before their connections are cut (the default fits `docker stop`'s 10 s).",
  },
  EMBEDDING_SHUTDOWN_DELAY_MS: {
    schema: int(0, 600_000).default(0),
    doc: 'On SIGTERM/SIGINT, how long to keep serving with `/ready` at 503 before closing the listener, so a load balancer stops routing first (Kubernetes: about 5000).',
  },
  EMBEDDING_API_KEY: {
    schema: z
      .string()
      .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces (it is sent as a Bearer token)' })
      .optional(),
    doc: 'When set, every route but `/health`, `/ready` and `/metrics` needs `Authorization: Bearer <key>` (compared in constant time, never logged).',
  },
  EMBEDDING_CORS_ORIGIN: {
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o.length > 0),
      )
      .pipe(z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, { message: 'must be * or a comma-separated list of origins like https://app.example.com' })))
      .default([]),
    shown: '*(unset: CORS off)*',
    doc: 'Comma-separated browser origins allowed to call the API (`https://app.example.com,http://localhost:3000`), or `*`.',
  },
  EMBEDDING_MAX_MEMORY_PERCENT: {
    schema: decimal(1, 100).default(70),
    doc: "Memory budget as a percentage of the effective limit (the cgroup's when below the machine's RAM), compared with the process's RSS. Decimals allowed (`70.0`).",
  },
  EMBEDDING_MAX_MEMORY_MB: { schema: int(64, 16 * 1024 * 1024).optional(), doc: 'The budget in MB, overriding the percentage.' },
  EMBEDDING_ADAPTIVE_BATCHING: {
    schema: bool().default(true),
    doc: '`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). Off: batch size and concurrency stay at their maxima; waiting and refusing over budget still apply.',
  },
  EMBEDDING_MEMORY_SAMPLE_MS: { schema: int(50, 60_000).default(500), doc: 'How often the supervisor samples memory.' },
  EMBEDDING_MAX_PAUSE_MS: {
    schema: int(0, 600_000).default(10_000),
    doc: 'Over budget at the floor, new batches that would grow the workers\' arenas wait at most this long (small ones still run); then they run and new requests that are not small get 503 `memory_pressure`.',
  },
  EMBEDDING_WORKER_MAX_TASKS: { schema: int(0, 1_000_000_000).default(2000), doc: 'Recycle a worker (fresh thread and ONNX session) after this many tasks; `0` never.' },
  EMBEDDING_WORKER_MAX_MB: { schema: int(0, 16 * 1024 * 1024).default(1024), doc: 'Recycle a worker whose estimated footprint (isolate heap + ONNX arena) passes this; `0` never.' },
  EMBEDDING_CGROUP_ROOT: {
    schema: z.string().trim().min(1).optional(),
    shown: "*(unset: the process's own cgroup)*",
    doc: 'A cgroup directory to read the memory limit from, as is. Unset, the service finds its own cgroup (`/proc/self/cgroup`, `/proc/self/mountinfo`) and takes the tightest limit of it and its ancestors, re-read at every sample.',
  },
  EMBEDDING_CACHE: {
    schema: bool().default(true),
    shown: '`on`',
    doc: '`on`/`off`. Content-addressed vector cache: a chunk whose exact text was embedded before (same model files, sequence length) is served without the model, and repeats within a request run once ([docs/CACHE.md](docs/CACHE.md)). `off` disables every tier.',
  },
  EMBEDDING_CACHE_MB: {
    schema: int(0, 1024 * 1024).default(64),
    doc: "The memory tier's bound, inside the memory budget and shrunk first under pressure; `0`: none. A chunk takes 1.9 KB (555 per MB, 570,000 per GB).",
  },
  EMBEDDING_CACHE_DIR: {
    schema: z.string().trim().min(1).optional(),
    shown: '*(unset: no disk tier)*',
    doc: 'A directory for the disk tier (SQLite, `embeddings.sqlite`), kept across restarts; one that cannot be written leaves the tier off with a warning.',
  },
  EMBEDDING_CACHE_DISK_MB: { schema: int(1, 16 * 1024 * 1024).default(1024), doc: "The disk tier's bound; the least recently used entries go first. A chunk takes 1.7 KB (172 MB per 100,000, 625,000 per GB)." },
  EMBEDDING_CACHE_KV_BUCKET: {
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be a bucket name: letters, digits, - and _' })
      .default('embedding-cache'),
    queueDoc: true,
    doc: "With `EMBEDDING_NATS_URL` and the cache on: the JetStream key-value bucket every worker shares as the cache's third tier, created when missing ([docs/CACHE.md](CACHE.md)).",
  },
  EMBEDDING_CACHE_KV_MB: {
    schema: int(0, 16 * 1024 * 1024).default(4096),
    queueDoc: true,
    doc: "The shared tier's bound (about 600 chunks per MB); when full, its oldest entries go first. `0`: no shared tier.",
  },
  EMBEDDING_NATS_URL: {
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((u) => u.trim())
          .filter((u) => u.length > 0),
      )
      .pipe(z.array(z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, { message: 'must be comma-separated nats:// (or tls://) URLs' })).min(1))
      .optional(),
    shown: '*(unset: no queue)*',
    doc: 'Comma-separated NATS servers (`nats://nats:4222`): the service also takes `/embed` jobs from a JetStream stream and publishes their results; the `EMBEDDING_NATS_*` settings: [docs/QUEUE.md](docs/QUEUE.md).',
  },
  EMBEDDING_NATS_STREAM: { schema: natsName().default('EMBEDDING_JOBS'), queueDoc: true, doc: 'The JetStream stream holding the jobs (work-queue retention), created when missing.' },
  EMBEDDING_NATS_SUBJECT: {
    schema: natsSubject().default('embedding.batches'),
    queueDoc: true,
    doc: 'Jobs are published to `<subject>.<job>`; the jobs stream captures `<subject>.>`.',
  },
  EMBEDDING_NATS_CONSUMER: { schema: natsName().default('embedding-workers'), queueDoc: true, doc: 'The durable pull consumer every replica shares, created when missing.' },
  EMBEDDING_NATS_RESULTS_STREAM: {
    schema: natsName().default('EMBEDDING_RESULTS'),
    queueDoc: true,
    doc: 'The stream holding results and events (limits retention, 7 days), created when missing, so a collector that connects late misses nothing.',
  },
  EMBEDDING_NATS_RESULTS_SUBJECT: {
    schema: natsSubject().default('embedding.results'),
    queueDoc: true,
    doc: "A job's results go to `<subject>.<job>`, each with the job message's `Nats-Msg-Id`.",
  },
  EMBEDDING_NATS_EVENTS_SUBJECT: { schema: natsSubject().default('events'), queueDoc: true, doc: "A job's `embedding.batch_*.v1` events go to `<subject>.<job>`." },
  EMBEDDING_NATS_ACK_WAIT_MS: {
    schema: int(1000, 3_600_000).default(30_000),
    queueDoc: true,
    doc: "The consumer's ack wait: a job unacknowledged this long after its last heartbeat goes to another worker. A running job sends a heartbeat every third of it.",
  },
  EMBEDDING_NATS_MAX_DELIVER: {
    schema: int(1, 1000).default(5),
    queueDoc: true,
    doc: 'Deliveries of one job before it fails for good: its failure is published to the results and events subjects, then it is terminated.',
  },
  EMBEDDING_NATS_NAK_DELAY_MS: {
    schema: int(0, 3_600_000).default(5000),
    queueDoc: true,
    doc: 'How long a job given back (memory over budget, a transient failure, shutdown) waits before it is delivered again.',
  },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), doc: 'pino level: `fatal` … `trace`, or `silent`.' },
  EMBEDDING_TEST_FAULTS: {
    schema: z
      .string()
      .regex(/^(throw|exit):\d+$/, { message: 'test-only; must be throw:N or exit:N' })
      .optional(),
    doc: 'Test-only fault injection (`throw:N` or `exit:N`, see `src/workers/thread/fault-injection.ts`); never set it in service.',
  },
} satisfies Record<string, Variable>;

/** The original's names, each mapped to the variable it stands for. */
const ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries(VARIABLES as Record<string, Variable>).flatMap(([name, v]) => (v.alias ? [[v.alias, name] as const] : [])),
);

const envSchema = z.object(Object.fromEntries(Object.entries(VARIABLES).map(([name, v]) => [name, v.schema])) as { [K in keyof typeof VARIABLES]: (typeof VARIABLES)[K]['schema'] });

/** A default as the README shows it: the computed text, the schema's default value, or unset. */
function shownDefault(variable: Variable): string {
  if (variable.shown) return variable.shown;
  const def = (variable.schema as z.ZodType & { def: { type: string; defaultValue?: unknown } }).def;
  return def.type === 'default' ? `\`${String(def.defaultValue)}\`` : '*(unset)*';
}

/** The README's configuration table (or, with `queue`, docs/QUEUE.md's), generated from VARIABLES. */
export function configTable(which: 'readme' | 'queue' = 'readme'): string {
  const shown = Object.entries(VARIABLES).filter(([, v]: [string, Variable]) => (v.queueDoc === true) === (which === 'queue'));
  const rows = shown.map(([name, v]: [string, Variable]) => {
    const names = v.alias ? `\`${name}\`, \`${v.alias}\`` : `\`${name}\``;
    const alias = v.alias ? ` \`${v.alias}\` is the original worker's name, read when \`${name}\` is unset.` : '';
    return `| ${names} | ${shownDefault(v)} | ${v.doc}${alias} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

/**
 * Splits the cores between workers and intra-op threads so that, by default,
 * workers × threads never exceeds the cores available.
 */
export function deriveThreadLayout(
  cores: number,
  workers: number | undefined,
  threads: number | undefined,
): { workers: number; threadsPerWorker: number } {
  const threadsPerWorker = Math.min(threads ?? (workers ? Math.max(1, Math.floor(cores / workers)) : 1), MAX_ONNX_THREADS);
  return { workers: workers ?? Math.max(1, Math.floor(cores / threadsPerWorker)), threadsPerWorker };
}

/**
 * The lone worker's threads: none when it would have no more threads than a regular worker. Unset, it is every core,
 * and `loneAuto` leaves the service to start it only when the memory budget has room (supervisor/lone-worker.ts).
 */
export function loneThreads(cores: number, threadsPerWorker: number, requested: number | undefined): number {
  const threads = Math.min(requested ?? cores, MAX_ONNX_THREADS);
  return threads > threadsPerWorker ? threads : 0;
}

export function parseConfig(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): Config {
  // Empty strings mean "unset", as they do in most shells' `VAR= cmd` idiom.
  const present: Record<string, string | undefined> = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  // The original worker's names are aliases: ours win when both are set, so a platform's injected PORT is always honoured.
  const readFrom = new Map<string, string>();
  for (const [alias, name] of ALIASES) {
    if (present[name] === undefined && present[alias] !== undefined) {
      present[name] = present[alias];
      readFrom.set(name, alias);
    }
    delete present[alias];
  }
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = readFrom.get(String(issue.path[0])) ?? String(issue.path[0]);
      const shown = SECRET_VARIABLES.has(name) ? '(hidden)' : JSON.stringify(env[name]);
      return `  ${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.EMBEDDING_MIN_BATCH_SIZE > e.EMBEDDING_MAX_BATCH_SIZE) {
    throw new ConfigError(
      `Invalid configuration:\n  EMBEDDING_MIN_BATCH_SIZE (${e.EMBEDDING_MIN_BATCH_SIZE}) must not exceed EMBEDDING_MAX_BATCH_SIZE (${e.EMBEDDING_MAX_BATCH_SIZE})`,
    );
  }
  if (e.EMBEDDING_MAX_CHUNKS_PER_REQUEST > e.EMBEDDING_MAX_QUEUED_CHUNKS) {
    throw new ConfigError(
      `Invalid configuration:\n  EMBEDDING_MAX_CHUNKS_PER_REQUEST (${e.EMBEDDING_MAX_CHUNKS_PER_REQUEST}) must not exceed EMBEDDING_MAX_QUEUED_CHUNKS (${e.EMBEDDING_MAX_QUEUED_CHUNKS}): a request that large would be refused whenever other work is queued`,
    );
  }
  // Unset, the overlap follows a short sequence length down (an eighth of its window) rather than refuse to start.
  if (present.EMBEDDING_LONG_INPUT_OVERLAP === undefined && e.EMBEDDING_LONG_INPUT_OVERLAP >= e.EMBEDDING_MAX_SEQ_LENGTH - 2) {
    e.EMBEDDING_LONG_INPUT_OVERLAP = Math.floor((e.EMBEDDING_MAX_SEQ_LENGTH - 2) / 8);
  }
  if (e.EMBEDDING_LONG_INPUT_OVERLAP >= e.EMBEDDING_MAX_SEQ_LENGTH - 2) {
    throw new ConfigError(
      `Invalid configuration:\n  EMBEDDING_LONG_INPUT_OVERLAP (${e.EMBEDDING_LONG_INPUT_OVERLAP}) must be below EMBEDDING_MAX_SEQ_LENGTH - 2 (${e.EMBEDDING_MAX_SEQ_LENGTH - 2}), the word pieces of one window`,
    );
  }
  const layout = deriveThreadLayout(cores, e.EMBEDDING_WORKERS, e.EMBEDDING_ONNX_THREADS);
  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    modelDir: e.EMBEDDING_MODEL_DIR,
    maxSeqLength: e.EMBEDDING_MAX_SEQ_LENGTH,
    modelVariant: e.EMBEDDING_MODEL_VARIANT,
    workers: layout.workers,
    threadsPerWorker: layout.threadsPerWorker,
    loneThreads: loneThreads(cores, layout.threadsPerWorker, e.EMBEDDING_LONE_THREADS),
    loneAuto: e.EMBEDDING_LONE_THREADS === undefined,
    minBatchSize: e.EMBEDDING_MIN_BATCH_SIZE,
    maxBatchSize: e.EMBEDDING_MAX_BATCH_SIZE,
    maxBatchTokens: e.EMBEDDING_MAX_BATCH_TOKENS,
    maxBodyBytes: e.EMBEDDING_MAX_BODY_BYTES,
    maxMemoryPercent: e.EMBEDDING_MAX_MEMORY_PERCENT,
    maxMemoryMb: e.EMBEDDING_MAX_MEMORY_MB,
    adaptiveBatching: e.EMBEDDING_ADAPTIVE_BATCHING,
    memorySampleMs: e.EMBEDDING_MEMORY_SAMPLE_MS,
    maxPauseMs: e.EMBEDDING_MAX_PAUSE_MS,
    workerMaxTasks: e.EMBEDDING_WORKER_MAX_TASKS,
    workerMaxMb: e.EMBEDDING_WORKER_MAX_MB,
    cgroupRoot: e.EMBEDDING_CGROUP_ROOT,
    requestTimeoutMs: e.EMBEDDING_REQUEST_TIMEOUT_MS,
    testFaults: e.EMBEDDING_TEST_FAULTS,
    maxChunkChars: e.EMBEDDING_MAX_CHUNK_CHARS,
    maxChunksPerRequest: e.EMBEDDING_MAX_CHUNKS_PER_REQUEST,
    maxQueuedChunks: e.EMBEDDING_MAX_QUEUED_CHUNKS,
    shutdownTimeoutMs: e.EMBEDDING_SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: e.EMBEDDING_SHUTDOWN_DELAY_MS,
    apiKey: e.EMBEDDING_API_KEY,
    corsOrigins: e.EMBEDDING_CORS_ORIGIN,
    longInput: e.EMBEDDING_LONG_INPUT,
    windowOverlap: e.EMBEDDING_LONG_INPUT_OVERLAP,
    maxWindowsPerChunk: e.EMBEDDING_MAX_WINDOWS_PER_CHUNK,
    cache: e.EMBEDDING_CACHE,
    cacheMb: e.EMBEDDING_CACHE_MB,
    cacheDir: e.EMBEDDING_CACHE_DIR,
    cacheDiskMb: e.EMBEDDING_CACHE_DISK_MB,
    cacheKvBucket: e.EMBEDDING_CACHE_KV_BUCKET,
    cacheKvMb: e.EMBEDDING_CACHE_KV_MB,
    nats: e.EMBEDDING_NATS_URL
      ? {
          servers: e.EMBEDDING_NATS_URL,
          stream: e.EMBEDDING_NATS_STREAM,
          subject: e.EMBEDDING_NATS_SUBJECT,
          consumer: e.EMBEDDING_NATS_CONSUMER,
          resultsStream: e.EMBEDDING_NATS_RESULTS_STREAM,
          resultsSubject: e.EMBEDDING_NATS_RESULTS_SUBJECT,
          eventsSubject: e.EMBEDDING_NATS_EVENTS_SUBJECT,
          ackWaitMs: e.EMBEDDING_NATS_ACK_WAIT_MS,
          maxDeliver: e.EMBEDDING_NATS_MAX_DELIVER,
          nakDelayMs: e.EMBEDDING_NATS_NAK_DELAY_MS,
        }
      : undefined,
  };
}
