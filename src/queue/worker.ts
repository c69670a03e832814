import { jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { NatsConfig } from '../config.js';
import { batchEvents, type BatchEvent } from '../core/batch-events.js';
import { checkBody, EmbedRequest } from '../core/embed-request.js';
import type { EmbedService } from '../core/embedder.js';
import type { RuntimeLimits } from '../core/runtime-limits.js';
import { failureAction, fetchCount, heartbeatMs } from './decisions.js';
import { failureBody, resultBody } from './messages.js';
import { ensureStreams } from './streams.js';
import { ENCODING_HEADER, eventsSubject, jobFromSubject, messageId, parseEncoding, parseMessageId, resultsSubject, type VectorEncoding } from './subjects.js';

/** What /ready and /metrics report of the queue (docs/QUEUE.md). */
export interface QueueState {
  /** Connected to a server, with the streams and the consumer in place. */
  connected: boolean;
  /** Taking new jobs: connected, not stopping, and the memory supervisor neither pausing nor refusing. */
  fetching: boolean;
  stream: string;
  consumer: string;
  /** Jobs in the stream not yet delivered to any worker (the consumer's lag), at the last look; null before the first. */
  pending: number | null;
  /** Jobs delivered to some worker and not yet acknowledged, at the last look. */
  ack_pending: number | null;
  /** Jobs being redelivered right now, consumer-wide, at the last look. */
  redelivered: number | null;
  /** Jobs this process held: running or fetched. */
  running: number;
  /** Deliveries this process received that were redeliveries (a worker died, a job was given back, its ack was lost). */
  redeliveries: number;
  /** Jobs this process finished, by outcome. */
  jobs: { completed: number; failed: number; retried: number };
}

export interface QueueDependencies {
  config: NatsConfig;
  embedder: EmbedService;
  limits: RuntimeLimits;
  /** The memory supervisor's verdict: `refusing` while memory is over budget at the floor. */
  memory: { readonly refusing: boolean };
  /** EMBEDDING_MAX_CHUNKS_PER_REQUEST: a job is held to /embed's limit. */
  maxChunks: number;
  modelId: string;
  logger: Logger;
}

/** A job's failure, with the code /embed would answer with (or the queue's own: invalid_json, invalid_job, max_deliveries). */
class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How often the consumer's lag is looked up for /ready and /metrics. */
const INFO_INTERVAL_MS = 5000;
/** How long one pull request waits on the server for jobs; the client's minimum is 1 s. */
const FETCH_EXPIRES_MS = 5000;

/**
 * Worker mode (issue 13): jobs from a JetStream durable pull consumer shared by every replica, through the same
 * validation and embedding core as POST /embed, results published (and stored) before the job is acknowledged.
 * Fetching is sized by the memory supervisor's free batch slots (decisions.ts); SIGTERM stops fetching and lets
 * what runs finish and be acknowledged; a lost connection pauses fetching until the client reconnects, while HTTP
 * carries on.
 */
export class QueueWorker {
  readonly #deps: QueueDependencies;
  readonly #log: Logger;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #consumer: Consumer | undefined;
  #fetch: ConsumerMessages | undefined;
  #connected = false;
  #stopping = false;
  #held = 0;
  #redeliveries = 0;
  readonly #jobs = { completed: 0, failed: 0, retried: 0 };
  #info: { pending: number; ack_pending: number; redelivered: number } | undefined;
  #wake: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #infoTimer: NodeJS.Timeout | undefined;

  constructor(deps: QueueDependencies) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'queue' });
    // Any change the supervisor makes (concurrency, pause) may free or take away fetch room.
    deps.limits.on('change', () => this.#poke());
  }

  state(): QueueState {
    return {
      connected: this.#connected,
      fetching: this.#connected && !this.#stopping && !this.#deps.limits.paused && !this.#deps.memory.refusing,
      stream: this.#deps.config.stream,
      consumer: this.#deps.config.consumer,
      pending: this.#info?.pending ?? null,
      ack_pending: this.#info?.ack_pending ?? null,
      redelivered: this.#info?.redelivered ?? null,
      running: this.#held,
      redeliveries: this.#redeliveries,
      jobs: { ...this.#jobs },
    };
  }

  /** Connects (retrying until a server answers; HTTP serves meanwhile), sets up the streams, then fetches jobs. */
  start(): void {
    void this.#run().catch((err: unknown) => this.#log.error({ err }, 'queue: worker stopped on an unexpected error'));
  }

  /** SIGTERM/SIGINT: no new jobs; a pull request waiting on the server is cancelled. */
  stopFetching(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info({ running: this.#held }, 'queue: stopping; finishing the jobs in hand');
    this.#fetch?.stop();
    this.#poke();
  }

  /** Stops fetching, waits for every job in hand to finish and be acknowledged, then drains the connection. */
  async close(): Promise<void> {
    this.stopFetching();
    clearInterval(this.#infoTimer);
    if (this.#held > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    if (this.#nc && !this.#nc.isClosed()) {
      await this.#nc.drain().catch((err: unknown) => this.#log.warn({ err }, 'queue: draining the connection failed'));
    }
    this.#log.info(this.state().jobs, 'queue: closed');
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits for something that may change the fetch decision, or `ms` at most. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#poke(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    const { config } = this.#deps;
    this.#log.info({ servers: config.servers, stream: config.stream, consumer: config.consumer }, 'queue: connecting');
    // waitOnFirstConnect with unlimited attempts: a server that is not up yet is retried, never fatal.
    const nc = await connect({ servers: config.servers, name: 'doctown-embed', waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
    this.#nc = nc;
    if (this.#stopping) return;
    void this.#watchStatus(nc);
    this.#js = jetstream(nc);
    for (;;) {
      try {
        await ensureStreams(await jetstreamManager(nc), config, { ackWaitMs: config.ackWaitMs });
        this.#consumer = await this.#js.consumers.get(config.stream, config.consumer);
        break;
      } catch (err) {
        if (this.#stopping) return;
        this.#log.warn({ err }, 'queue: could not set up the streams and consumer; retrying');
        await this.#sleep(2000);
      }
    }
    this.#connected = !nc.isClosed();
    this.#log.info({ servers: config.servers, ack_wait_ms: config.ackWaitMs, max_deliver: config.maxDeliver }, 'queue: connected; consuming jobs');
    this.#infoTimer = setInterval(() => void this.#lookUpLag(), INFO_INTERVAL_MS);
    this.#infoTimer.unref();
    void this.#lookUpLag();
    await this.#fetchLoop();
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.#connected = false;
        this.#log.warn({ server: status.server }, 'queue: disconnected from NATS; fetching paused until it reconnects (HTTP keeps serving)');
      } else if (status.type === 'reconnect') {
        this.#connected = this.#consumer !== undefined;
        this.#log.info({ server: status.server }, 'queue: reconnected to NATS; fetching resumes');
        this.#poke();
      }
    }
  }

  async #lookUpLag(): Promise<void> {
    if (!this.#connected || !this.#consumer) return;
    try {
      const info = await this.#consumer.info();
      this.#info = { pending: info.num_pending, ack_pending: info.num_ack_pending, redelivered: info.num_redelivered };
    } catch {
      // Disconnected or slow: the last figures stand until the next look.
    }
  }

  #fetchState() {
    return {
      connected: this.#connected,
      stopping: this.#stopping,
      paused: this.#deps.limits.paused,
      refusing: this.#deps.memory.refusing,
      concurrency: this.#deps.limits.concurrency,
      held: this.#held,
    };
  }

  async #fetchLoop(): Promise<void> {
    while (!this.#stopping) {
      const count = fetchCount(this.#fetchState());
      if (count === 0) {
        // Re-checked on every supervisor change, job end and reconnect; the timeout is a backstop.
        await this.#sleep(1000);
        continue;
      }
      try {
        this.#fetch = await this.#consumer!.fetch({ max_messages: count, expires: FETCH_EXPIRES_MS });
        for await (const msg of this.#fetch) this.#accept(msg);
      } catch (err) {
        if (this.#stopping) break;
        this.#log.debug({ err }, 'queue: a fetch failed; retrying');
        await this.#sleep(1000);
      } finally {
        this.#fetch = undefined;
      }
    }
  }

  /** A delivered job: taken on (counted at once, so the next fetch leaves room for it) or given back. */
  #accept(msg: JsMsg): void {
    if (msg.redelivered) this.#redeliveries++;
    // Fetched before a stop or a memory refusal took effect: back to the server at once for another worker.
    if (this.#stopping || this.#deps.memory.refusing) {
      msg.nak(this.#stopping ? 0 : this.#deps.config.nakDelayMs);
      this.#jobs.retried++;
      return;
    }
    this.#held++;
    void this.#handle(msg).finally(() => {
      this.#held--;
      if (this.#held === 0) this.#idle?.();
      this.#poke();
    });
  }

  async #handle(msg: JsMsg): Promise<void> {
    const { config } = this.#deps;
    const started = performance.now();
    const header = msg.headers?.get('Nats-Msg-Id') || undefined;
    const job = jobFromSubject(config, msg.subject) ?? parseMessageId(header)?.job ?? 'unknown';
    let batchId = parseMessageId(header)?.batchId ?? '';
    const log = this.#log.child({ job, delivery: msg.info.deliveryCount });
    const publishEvent = (event: BatchEvent) => this.#publishEvent(job, event);
    let events: ReturnType<typeof batchEvents> | undefined;
    let id = header ?? messageId(job, batchId);
    const heartbeat = setInterval(() => msg.working(), heartbeatMs(config.ackWaitMs));
    try {
      const { request, encoding } = this.#parse(msg, job);
      batchId = request.batch_id;
      id = header ?? messageId(job, batchId);
      if (msg.info.deliveryCount > config.maxDeliver) {
        throw new JobFailure('max_deliveries', `delivered ${msg.info.deliveryCount} times without completing (EMBEDDING_NATS_MAX_DELIVER=${config.maxDeliver})`);
      }
      events = batchEvents(log, batchId, request.chunks.length, publishEvent);
      const rows = await this.#deps.embedder.embed(request.chunks.map((c) => c.content), undefined, { longInput: request.long_input });
      const body = resultBody(request, rows, encoding, this.#deps.modelId, Math.round((performance.now() - started) * 100) / 100);
      const limit = this.#nc!.info?.max_payload ?? Number.POSITIVE_INFINITY;
      if (Buffer.byteLength(body) > limit) {
        throw new JobFailure('result_too_large', `the result is ${Buffer.byteLength(body)} bytes, over the server's max_payload of ${limit}: send fewer chunks per job, or ask for base64 vectors (${ENCODING_HEADER}: base64)`);
      }
      // Stored in the results stream before the job is acknowledged: a crash between the two republishes the same
      // message id, which the server drops as a duplicate.
      await this.#js!.publish(resultsSubject(config, job), body, { msgID: id });
      await msg.ackAck();
      events.completed();
      this.#jobs.completed++;
    } catch (error) {
      const code = error instanceof JobFailure ? error.code : ((error as { code?: unknown } | null)?.code as string | undefined) ?? 'internal_error';
      const message = error instanceof Error ? error.message : String(error);
      events ??= batchEvents(log, batchId, 0, publishEvent);
      if (!this.#connected && !(error instanceof JobFailure)) {
        // The result or the ack could not reach the server: nothing to tell it now; the job is redelivered after the ack wait.
        events.failed('disconnected', 'the connection to NATS was lost; the job will be redelivered');
        log.warn({ err: error }, 'queue: job interrupted by a lost connection');
        return;
      }
      if (failureAction(code, msg.info.deliveryCount, config.maxDeliver) === 'retry') {
        events.failed(code, `given back for redelivery (delivery ${msg.info.deliveryCount} of ${config.maxDeliver}): ${message}`);
        msg.nak(config.nakDelayMs);
        this.#jobs.retried++;
        return;
      }
      await this.#fail(msg, job, id, batchId, code, message, events, log);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The job's body and encoding, or a JobFailure naming what is wrong with it. */
  #parse(msg: JsMsg, job: string): { request: EmbedRequest; encoding: VectorEncoding } {
    if (job === 'unknown') throw new JobFailure('invalid_job', `the subject ${msg.subject} is not ${this.#deps.config.subject}.<job> with a job id of letters, digits, _ or -`);
    let body: unknown;
    try {
      body = JSON.parse(msg.string());
    } catch {
      throw new JobFailure('invalid_json', 'the job is not JSON');
    }
    const checked = checkBody(EmbedRequest, body);
    if (!checked.ok) throw new JobFailure('validation_failed', checked.issue.message);
    if (checked.data.chunks.length > this.#deps.maxChunks) {
      throw new JobFailure('too_many_chunks', `chunks: ${checked.data.chunks.length} chunks, over EMBEDDING_MAX_CHUNKS_PER_REQUEST (${this.#deps.maxChunks})`);
    }
    const encoding = parseEncoding(msg.headers?.get(ENCODING_HEADER) || undefined);
    if (typeof encoding !== 'string') throw new JobFailure('invalid_job', encoding.error);
    return { request: checked.data, encoding };
  }

  /** A job failed for good: its failure goes to the results and events subjects, then the job is terminated. */
  async #fail(msg: JsMsg, job: string, id: string, batchId: string, code: string, message: string, events: ReturnType<typeof batchEvents>, log: Logger): Promise<void> {
    events.failed(code, message);
    try {
      await this.#js!.publish(resultsSubject(this.#deps.config, job), failureBody(batchId, code, message), { msgID: id });
      msg.term(`${code}: ${message}`.slice(0, 1000));
      this.#jobs.failed++;
      log.warn({ batch_id: batchId, code, reason: message }, 'queue: job failed for good; terminated');
    } catch (err) {
      // Not published: the job stays unacknowledged and comes back, to be failed (and published) again.
      log.warn({ err }, 'queue: could not publish a failure; the job will be redelivered');
    }
  }

  /** Events are informational: stored by the results stream when it captures them, never holding up a job. */
  #publishEvent(job: string, event: BatchEvent): void {
    if (!this.#nc || this.#nc.isClosed()) return;
    try {
      this.#nc.publish(eventsSubject(this.#deps.config, job), JSON.stringify(event));
    } catch (err) {
      this.#log.debug({ err }, 'queue: an event could not be published');
    }
  }
}
