import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the queue gauges read at scrape time. */
export interface QueueSource {
  readonly queued: number;
  readonly queuedChunks: number;
  readonly cancelledChunks: number;
  readonly inFlight: number;
  readonly maxQueuedChunks: number;
}

/**
 * The memory supervisor's state as numbers. Every field is optional so the supervisor can expose
 * what it has; a missing field is simply not reported.
 */
export interface SupervisorGauges {
  batchSize?: number;
  concurrency?: number;
  workers?: number;
  recycles?: number;
  rssBytes?: number;
  budgetBytes?: number;
  usageRatio?: number;
  pressure?: number;
  recycleFreedBytes?: number;
  headroomBytes?: number;
  maxRowsAtFullLength?: number;
}

/** The NATS worker mode's state (src/queue/worker.ts QueueState, in the fields /metrics reports). */
export interface NatsGauges {
  connected: boolean;
  fetching: boolean;
  pending: number | null;
  ack_pending: number | null;
  running: number;
  redeliveries: number;
  jobs: { completed: number; failed: number; retried: number };
}

/** One cache tier's counters, read at scrape time (cache/tier.ts's TierStats is this type). */
export interface CacheTierGauges {
  tier: string;
  up: number;
  hits: number;
  misses: number;
  evictions: number;
  corrupt: number;
  entries: number;
  bytes: number;
}

/** The embedding cache's figures: per tier, and the repeated texts a request embedded once. */
export interface CacheGauges {
  tiers: readonly CacheTierGauges[];
  duplicates: number;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Prometheus metrics on a registry of their own (no global state), served by GET /metrics.
 * Names follow Prometheus conventions: a unit suffix, `_total` on counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly chunksEmbedded: Counter;
  readonly tokensEmbedded: Counter;
  readonly batchSize: Histogram;
  readonly batchDuration: Histogram<'outcome'>;
  readonly rejected: Counter<'reason'>;

  constructor(options: { prefix?: string; defaultMetrics?: boolean } = {}) {
    const p = options.prefix ?? 'embedding_';
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request arrival to the last byte of the response',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.chunksEmbedded = new Counter({ name: `${p}chunks_total`, help: 'Chunks embedded (texts run through the model)', registers });
    this.tokensEmbedded = new Counter({ name: `${p}tokens_total`, help: 'Word pieces run through the model, [CLS] and [SEP] included', registers });
    this.batchSize = new Histogram({
      name: `${p}batch_size`,
      help: 'Chunks per worker task',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.batchDuration = new Histogram({
      name: `${p}batch_duration_seconds`,
      help: 'Time a worker task took, tokenization and inference, by outcome (ok or error)',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.rejected = new Counter({
      name: `${p}rejected_requests_total`,
      help: 'Requests refused before reaching the pool, by reason (queue_full, memory_pressure, loading)',
      labelNames: ['reason'],
      registers,
    });
  }

  /** 1 when /ready would answer 200. */
  observeReadiness(isReady: () => boolean, prefix = 'embedding_'): void {
    new Gauge({
      name: `${prefix}ready`,
      help: '1 when the service is ready for traffic (model loaded, not draining)',
      registers: [this.registry],
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    });
  }

  /** Gauges read from the scheduler at scrape time. */
  observeQueue(source: QueueSource, prefix = 'embedding_'): void {
    const registers = [this.registry];
    new Gauge({
      name: `${prefix}queue_chunks`,
      help: 'Chunks waiting for a worker (the backlog EMBEDDING_MAX_QUEUED_CHUNKS bounds)',
      registers,
      collect() {
        this.set(source.queuedChunks);
      },
    });
    new Counter({
      name: `${prefix}cancelled_chunks_total`,
      help: 'Chunks withdrawn from the queue unrun because their client disconnected',
      registers,
      collect() {
        this.reset();
        this.inc(source.cancelledChunks);
      },
    });
    new Gauge({
      name: `${prefix}queue_batches`,
      help: 'Batches waiting for a worker',
      registers,
      collect() {
        this.set(source.queued);
      },
    });
    new Gauge({
      name: `${prefix}queue_max_chunks`,
      help: 'The configured backlog limit (EMBEDDING_MAX_QUEUED_CHUNKS)',
      registers,
      collect() {
        this.set(Number.isFinite(source.maxQueuedChunks) ? source.maxQueuedChunks : -1);
      },
    });
    new Gauge({
      name: `${prefix}inflight_batches`,
      help: 'Batches running in the worker pool',
      registers,
      collect() {
        this.set(source.inFlight);
      },
    });
  }

  /**
   * The memory supervisor's gauges, read through `state` at scrape time. This is the seam the
   * supervisor plugs into; a getter that returns undefined (no supervisor) reports nothing.
   */
  observeSupervisor(state: () => SupervisorGauges | undefined, prefix = 'embedding_supervisor_'): void {
    const fields: Array<[keyof SupervisorGauges, string, string]> = [
      ['batchSize', 'batch_size', 'Current per-task batch size chosen by the supervisor'],
      ['concurrency', 'concurrency', 'Batches the supervisor allows in flight across the pool'],
      ['workers', 'workers', 'Worker threads alive'],
      ['recycles', 'worker_recycles', 'Workers recycled since start (monotonic)'],
      ['recycleFreedBytes', 'recycle_freed_bytes', 'Memory the pressure recycles freed since start, from the readings before and after each (monotonic)'],
      ['rssBytes', 'rss_bytes', 'Resident memory the supervisor last sampled'],
      ['budgetBytes', 'budget_bytes', 'Memory budget the supervisor enforces'],
      ['usageRatio', 'usage_ratio', 'Sampled memory over budget (1 = at budget)'],
      ['pressure', 'pressure_level', 'Pressure level: 0 calm, 1 elevated, 2 high, 3 critical'],
      ['headroomBytes', 'headroom_bytes', 'Budget left for new batches: budget less memory in use and memory reserved by started batches'],
      ['maxRowsAtFullLength', 'max_rows_full_length', 'Full-length rows one batch may hold right now under the memory budget (the effective cap)'],
    ];
    for (const [field, name, help] of fields) {
      new Gauge({
        name: `${prefix}${name}`,
        help,
        registers: [this.registry],
        collect() {
          const value = state()?.[field];
          if (typeof value === 'number' && Number.isFinite(value)) this.set(value);
          else this.reset();
        },
      });
    }
  }

  /** The queue consumer's gauges and counters (issue 13), read through `state` at scrape time. */
  observeNats(state: () => NatsGauges, prefix = 'embedding_nats_'): void {
    const registers = [this.registry];
    const gauges: Array<[string, string, (s: NatsGauges) => number | null]> = [
      ['connected', '1 while connected to a NATS server with the streams and the consumer in place', (s) => Number(s.connected)],
      ['fetching', '1 while taking new jobs (connected, not stopping, memory neither paused nor refusing)', (s) => Number(s.fetching)],
      ['pending', "Jobs not yet delivered to any worker: the consumer's lag, at the last look", (s) => s.pending],
      ['ack_pending', 'Jobs delivered to some worker and not yet acknowledged, at the last look', (s) => s.ack_pending],
      ['running_jobs', 'Jobs this process holds (running or fetched)', (s) => s.running],
    ];
    for (const [name, help, read] of gauges) {
      new Gauge({
        name: `${prefix}${name}`,
        help,
        registers,
        collect() {
          const value = read(state());
          if (value === null) this.reset();
          else this.set(value);
        },
      });
    }
    new Counter({
      name: `${prefix}redeliveries_total`,
      help: 'Deliveries this process received that were redeliveries (a worker died, a job was given back, an ack was lost)',
      registers,
      collect() {
        this.reset();
        this.inc(state().redeliveries);
      },
    });
    new Counter({
      name: `${prefix}jobs_total`,
      help: 'Jobs this process finished, by outcome: completed (result published, acked), failed (failure published, terminated), retried (given back)',
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        const { jobs } = state();
        for (const outcome of ['completed', 'failed', 'retried'] as const) this.inc({ outcome }, jobs[outcome]);
      },
    });
  }

  /** The embedding cache (EMBEDDING_CACHE), per tier (memory, disk, kv), read at scrape time. */
  observeCache(state: () => CacheGauges, prefix = 'embedding_cache_'): void {
    const registers = [this.registry];
    // Counters and gauges alike: one series per tier, each set from the tier's figure at scrape time.
    const series: Array<[keyof CacheTierGauges, string, string, typeof Counter | typeof Gauge]> = [
      ['hits', 'hits_total', 'Lookups the tier answered with a stored vector', Counter],
      ['misses', 'misses_total', 'Lookups the tier could not answer (a damaged entry counts here and in corrupt_total)', Counter],
      ['evictions', 'evictions_total', 'Entries evicted to keep the tier within its bound (least recently used first)', Counter],
      ['corrupt', 'corrupt_total', 'Entries found damaged or unreadable (checksum, length, format, a damaged page): served as misses, never as vectors', Counter],
      ['bytes', 'bytes', 'Bytes the tier holds (memory: entries × bytes per entry; disk: the file\'s pages in use)', Gauge],
      ['entries', 'entries', 'Entries the tier holds', Gauge],
      ['up', 'tier_up', '1 while the tier serves; 0 after it turned itself off (see the warning in the log)', Gauge],
    ];
    for (const [field, name, help, Kind] of series) {
      new Kind({
        name: `${prefix}${name}`,
        help,
        labelNames: ['tier'],
        registers,
        collect(this: Counter<'tier'> | Gauge<'tier'>) {
          this.reset();
          for (const t of state().tiers) {
            if (this instanceof Gauge) this.set({ tier: t.tier }, t[field] as number);
            else this.inc({ tier: t.tier }, t[field] as number);
          }
        },
      });
    }
    new Counter({
      name: `${prefix}duplicate_chunks_total`,
      help: 'Chunks whose text repeated an earlier chunk of the same request: embedded (or looked up) once with it',
      registers,
      collect() {
        this.reset();
        this.inc(state().duplicates);
      },
    });
  }

  /** One batch that ran (core/run-batch.ts's BatchObserver): counted, sized and timed. */
  batchDone(outcome: 'ok' | 'error', seconds: number, rows: number, tokens: number): void {
    this.batchDuration.observe({ outcome }, seconds);
    if (outcome !== 'ok') return;
    this.batchSize.observe(rows);
    this.chunksEmbedded.inc(rows);
    this.tokensEmbedded.inc(tokens);
  }

  /**
   * Counts and times every request by its route template (`/embed`, not the raw URL, so label
   * cardinality stays fixed). A request refused before its route ran (401, 415) is labelled with
   * its path when that path is one of `knownPaths`; anything else is `unmatched`.
   */
  httpMiddleware(knownPaths: ReadonlySet<string>): RequestHandler {
    return (req, res, next) => {
      const end = this.httpDuration.startTimer();
      res.once('close', () => {
        const route = req.route?.path;
        const labels = {
          method: req.method,
          route: typeof route === 'string' ? route : knownPaths.has(req.path) ? req.path : 'unmatched',
          status: String(res.statusCode),
        };
        end(labels);
        this.httpRequests.inc(labels);
      });
      next();
    };
  }

  /** GET /metrics in the Prometheus text format. */
  route(): RequestHandler {
    return async (_req, res) => {
      const body = await this.registry.metrics();
      res.status(200).type(this.registry.contentType).send(body);
    };
  }
}
