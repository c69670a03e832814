import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { cutTexts } from '../core/embedder.js';
import type { TextWindows } from '../core/ordered-embed.js';
import { ApiError } from './errors.js';
import { Chunk, EmbedStreamHeader } from './schemas.js';
import { parseBody } from './validation.js';

export interface NdjsonBodyLimits {
  /** Bytes one line may take; longer is 413 `payload_too_large` (ndjsonLineLimit). */
  maxLineBytes: number;
  /** EMBEDDING_MAX_CHUNK_CHARS: content is cut to this as soon as its line is parsed, so no longer text is held. */
  maxChunkChars?: number | undefined;
  /** Chunks parsed ahead of the embedding pipeline, at most: one window (the embedder's window size right now). */
  windowChunks: () => number;
  /** Line bytes parsed ahead of the pipeline, at most, so a window of long chunks is cut early. */
  windowBytes: number;
}

/** Line bytes a window of parsed chunks may hold before it is handed out. */
export const NDJSON_WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * Body bytes an NDJSON request holds in memory at most, for admission by cost: one line being parsed, and four windows
 * (the one read ahead, two in the pipeline, one being answered). Its chunks are cut to EMBEDDING_MAX_CHUNK_CHARS as
 * they are parsed, so this is an upper bound whatever the body's length.
 */
export const ndjsonHeldBytes = (maxLineBytes: number) => maxLineBytes + 4 * NDJSON_WINDOW_BYTES;

/** Room for a line's JSON keys and its chunk_id besides the content. */
const LINE_OVERHEAD_BYTES = 64 * 1024;
/**
 * A line may be as long as any chunk the embedder would not cut, however its content is escaped (at most 6 bytes per
 * character, `\u0000`), plus room for its id; never more than EMBEDDING_MAX_BODY_BYTES, the whole JSON body's limit.
 */
export function ndjsonLineLimit(maxChunkChars: number, maxBodyBytes: number): number {
  return Math.min(maxBodyBytes, 6 * maxChunkChars + LINE_OVERHEAD_BYTES);
}

const NEWLINE = 0x0a;

/** The request body: an IncomingMessage (`complete` once its last byte arrived), or any stream in tests. */
export type BodyStream = Readable & { readonly complete: boolean };

/**
 * Reads an `application/x-ndjson` /embed body as it arrives: a first line `{batch_id}` (EmbedStreamHeader), then one
 * Chunk per line, each validated with the JSON body's schemas. Parsed chunks wait in a buffer of at most one window;
 * while it is full, the body is not read, so Node stops reading the socket and TCP pushes back on the client. The
 * embedding pipeline takes windows from it (TextWindows). A bad line fails the stream at its position: the chunks
 * before it are handed out first, then next() throws the line's error, naming it.
 */
export class NdjsonChunkReader implements TextWindows {
  readonly #req: BodyStream;
  readonly #limits: NdjsonBodyLimits;
  /** The line being read, in pieces, and its length so far. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #line = 0;
  #header: EmbedStreamHeader | undefined;
  /** Parsed chunks not yet handed out: their (cut) texts, ids, whether they were cut, and their line bytes. */
  #texts: string[] = [];
  #ids: string[] = [];
  #cut: boolean[] = [];
  #bufferedBytes = 0;
  /** Ids and cut flags of chunks handed out and not yet answered, from index #handedBase. */
  #handedIds: string[] = [];
  #handedCut: boolean[] = [];
  #handedBase = 0;
  #received = 0;
  #ended = false;
  #closed = false;
  #error: unknown;
  #waiters: Array<() => void> = [];
  #turn: Promise<unknown> = Promise.resolve();
  readonly #wake = () => this.#notify();
  readonly #onError = (error: unknown) => this.fail(error);
  readonly #onClose = () => {
    // `complete`, not `#ended`: 'close' can come before the pump has read the last piece.
    if (!this.#req.complete) this.fail(new ApiError('request_aborted', 'the request body was not received in full: the connection closed'));
  };

  constructor(req: BodyStream, limits: NdjsonBodyLimits) {
    this.#req = req;
    this.#limits = limits;
    req.on('readable', this.#wake);
    req.on('end', this.#wake);
    req.on('error', this.#onError);
    req.on('close', this.#onClose);
    void this.#pump();
  }

  /** The first line, once read; a 4xx ApiError when it is missing or invalid. */
  async header(): Promise<EmbedStreamHeader> {
    for (;;) {
      if (this.#header) return this.#header;
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) throw new ApiError('validation_failed', 'the body is empty: its first line must be {"batch_id": …}, then one chunk per line');
      await this.#changed();
    }
  }

  /** Chunks parsed so far. */
  get received(): number {
    return this.#received;
  }

  /** The id of the chunk at `index` (counted from the first chunk line), once handed out and until forgotten. */
  chunkId(index: number): string {
    return this.#handedIds[index - this.#handedBase]!;
  }

  /** Whether the chunk at `index` was cut at EMBEDDING_MAX_CHUNK_CHARS. */
  wasCut(index: number): boolean {
    return this.#handedCut[index - this.#handedBase]!;
  }

  /** Every chunk before `index` is answered: let go of their ids. */
  forget(index: number): void {
    const drop = Math.min(index - this.#handedBase, this.#handedIds.length);
    if (drop <= 0) return;
    this.#handedIds.splice(0, drop);
    this.#handedCut.splice(0, drop);
    this.#handedBase += drop;
  }

  next(idle: Promise<void>): Promise<readonly string[] | undefined> {
    const turn = this.#turn.then(() => this.#take(idle));
    this.#turn = turn.catch(() => undefined);
    return turn;
  }

  /** Stops reading (the body's rest is discarded: drainRest) and wakes every waiter. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#req.off('readable', this.#wake);
    this.#req.off('end', this.#wake);
    this.#req.off('error', this.#onError);
    this.#req.off('close', this.#onClose);
    this.#texts = [];
    this.#ids = [];
    this.#cut = [];
    this.#partial = [];
    this.#notify();
  }

  /** Fails the stream with `error` (a bad line, the idle timeout, a lost connection) after the chunks before it. */
  fail(error: unknown): void {
    if (this.#error !== undefined || this.#ended) return;
    this.#error = error;
    this.#notify();
  }

  async #take(idle: Promise<void>): Promise<readonly string[] | undefined> {
    let idleNow = false;
    void idle.then(() => {
      idleNow = true;
      this.#notify();
    });
    for (;;) {
      if (this.#closed) return undefined;
      if (this.#texts.length > 0 && (idleNow || this.#full() || this.#ended || this.#error !== undefined)) return this.#cutWindow();
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) {
        if (this.#received === 0 && this.#header) throw new ApiError('validation_failed', 'the body has no chunk lines: send at least one {"chunk_id", "content"} line after the first');
        return undefined;
      }
      await this.#changed();
    }
  }

  #cutWindow(): string[] {
    const texts = this.#texts;
    this.#handedIds.push(...this.#ids);
    this.#handedCut.push(...this.#cut);
    this.#texts = [];
    this.#ids = [];
    this.#cut = [];
    this.#bufferedBytes = 0;
    this.#notify();
    return texts;
  }

  #full(): boolean {
    return this.#texts.length >= Math.max(1, this.#limits.windowChunks()) || this.#bufferedBytes >= this.#limits.windowBytes;
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        if (this.#closed || this.#error !== undefined) return;
        const piece = this.#req.read() as Buffer | null;
        if (piece === null) {
          if (this.#req.readableEnded) break;
          await this.#changed();
          continue;
        }
        let start = 0;
        for (let newline = piece.indexOf(NEWLINE); ; newline = piece.indexOf(NEWLINE, start)) {
          this.#append(newline === -1 ? piece.subarray(start) : piece.subarray(start, newline));
          if (newline === -1) break;
          this.#endLine();
          start = newline + 1;
          // Stop reading while a window is waiting: the pipeline is behind.
          while (this.#full() && !this.#closed && this.#error === undefined) await this.#changed();
          if (this.#closed || this.#error !== undefined) return;
        }
      }
      if (this.#partialBytes > 0) this.#endLine();
      this.#ended = true;
      this.#notify();
    } catch (error) {
      this.fail(error);
    }
  }

  #append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#partialBytes += bytes.length;
    if (this.#partialBytes > this.#limits.maxLineBytes) {
      throw new ApiError(
        'payload_too_large',
        `line ${this.#line + 1} is longer than ${this.#limits.maxLineBytes} bytes, the limit of one line of an NDJSON body (6 × EMBEDDING_MAX_CHUNK_CHARS + 64 KiB, at most EMBEDDING_MAX_BODY_BYTES); send such a chunk cut, or in a JSON body`,
      );
    }
    this.#partial.push(bytes);
  }

  #endLine(): void {
    this.#line++;
    const bytes = this.#partial.length === 1 ? this.#partial[0]! : Buffer.concat(this.#partial, this.#partialBytes);
    const size = this.#partialBytes;
    this.#partial = [];
    this.#partialBytes = 0;
    let text = bytes.toString('utf8');
    if (this.#line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim().length === 0) return; // blank lines (a trailing newline, CRLF endings) carry nothing
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ApiError('invalid_json', `line ${this.#line} is not valid JSON: ${(error as Error).message}`);
    }
    if (!this.#header) {
      this.#header = this.#parse(EmbedStreamHeader, value, '');
      if (value !== null && typeof value === 'object' && 'chunks' in value) {
        throw new ApiError('validation_failed', 'line 1: chunks: the first line carries batch_id only; send each chunk as a line of its own', { param: 'chunks' });
      }
      return;
    }
    const chunk = this.#parse(Chunk, value, `chunks[${this.#received}]`);
    const [content] = cutTexts([chunk.content], this.#limits.maxChunkChars);
    this.#texts.push(content!);
    this.#ids.push(chunk.chunk_id);
    this.#cut.push(content!.length < chunk.content.length);
    this.#bufferedBytes += size;
    this.#received++;
    this.#notify();
  }

  /** Validated as the JSON body's part at `path` would be, the error naming the line and the field (`chunks[3].content`). */
  #parse<S extends typeof Chunk | typeof EmbedStreamHeader>(schema: S, value: unknown, path: string): ReturnType<S['parse']> {
    try {
      return parseBody(schema, value, 'validation_failed') as ReturnType<S['parse']>;
    } catch (error) {
      const apiError = error as ApiError;
      const where = apiError.message.startsWith('body: ') ? `${path || 'body'}${apiError.message.slice(4)}` : path ? `${path}.${apiError.message}` : apiError.message;
      throw new ApiError(apiError.code, `line ${this.#line}: ${where}`, { param: path ? 'chunks' : apiError.param });
    }
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * After an answer that did not read the whole body (a bad line, an error): the rest is read and discarded, so the
 * connection can carry the next request, and memory stays flat while it drains.
 */
export function drainRest(req: IncomingMessage): void {
  if (!req.complete && !req.destroyed) req.resume();
}
