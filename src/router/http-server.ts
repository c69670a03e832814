import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestListener } from 'node:http';
import { ERRORS, type ErrorCode } from './error-table.js';
import { errorBody } from './errors.js';

export interface HttpServerOptions {
  /**
   * EMBEDDING_REQUEST_TIMEOUT_MS: time allowed to receive a request's headers (at most 60 s, Node's check) and then its
   * whole body; slow-drip clients get 408. A streamed body (BodyClock.idle) is held to it as an idle limit instead.
   */
  requestTimeoutMs: number;
}

/** Malformed HTTP and timed-out requests never reach Express; this keeps their answers JSON too. */
const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: ['request_timeout', 'the request was not received in time'],
  HPE_HEADER_OVERFLOW: ['headers_too_large', 'request headers are too large'],
};

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (socket as Socket).bytesWritten > 0) {
    // A response is already under way (or the peer is gone): nothing honest is left to send.
    socket.destroy();
    return;
  }
  writeRawError(socket, ...(CLIENT_ERRORS[error.code ?? ''] ?? ['bad_request', 'malformed HTTP request']));
}

function writeRawError(socket: Duplex, code: ErrorCode, message: string): void {
  const { status } = ERRORS[code];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Each request's body timer, which replaces Node's server-wide `requestTimeout`: that one counts from the request's
 * first byte to its last whatever the server does meanwhile, so it would cut off a streamed body that the server
 * itself reads slowly (TCP backpressure while the embedding pipeline is behind).
 *
 * By default the whole body must arrive within the timeout, as before: a slow-drip client gets 408, written on the
 * socket as Node wrote it. A route that streams its body calls idle(): then the limit applies to the time without a
 * new body byte while the server is reading (its socket not paused by backpressure), and on expiry `onExpire` is
 * called instead, so the route can answer (408 before its response started, an error line after).
 */
export class BodyClock {
  /** Set by a streaming route; without it, an expired clock answers 408 itself, or cuts the connection. */
  onExpire: (() => void) | undefined;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, timeoutMs: number) {
    this.#req = req;
    this.#res = res;
    this.timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => {
      if (!this.#req.complete) this.#expire();
    }, timeoutMs);
    this.#timer.unref();
    // A finished exchange lets go of its timer; a body still arriving after its answer keeps it (and is cut off).
    res.once('close', () => {
      if (this.#req.complete || this.#req.socket.destroyed) this.stop();
    });
  }

  /** Counts idle time between body bytes, only while the server is reading, from now on. */
  idle(): void {
    this.stop();
    const socket = this.#req.socket;
    let lastBytes = socket.bytesRead;
    let lastProgress = performance.now();
    // Polled: the HTTP parser consumes the socket natively, so there is no event per piece received.
    this.#timer = setInterval(
      () => {
        if (this.#req.complete || socket.destroyed) return this.stop();
        const now = performance.now();
        if (socket.bytesRead !== lastBytes || socket.isPaused()) {
          lastBytes = socket.bytesRead;
          lastProgress = now;
        } else if (now - lastProgress >= this.timeoutMs) {
          this.stop();
          this.#expire();
        }
      },
      Math.min(1_000, Math.max(50, this.timeoutMs / 4)),
    );
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #expire(): void {
    if (this.onExpire) return this.onExpire();
    const socket = this.#req.socket;
    if (this.#res.headersSent || !socket.writable) socket.destroy();
    else writeRawError(socket, 'request_timeout', 'the request was not received in time');
  }
}

const clocks = new WeakMap<IncomingMessage, BodyClock>();

/** The request's body timer (undefined outside createHttpServer, e.g. in tests that call the app directly). */
export const bodyClock = (req: IncomingMessage): BodyClock | undefined => clocks.get(req);

export function createHttpServer(app: RequestListener, options: HttpServerOptions): http.Server {
  const server = http.createServer(
    {
      // The body is timed per request (BodyClock); Node still times the headers.
      requestTimeout: 0,
      headersTimeout: Math.min(options.requestTimeoutMs, 60_000),
      // Node checks the headers' timeout on this period (30 s by default), which would let short limits overrun.
      connectionsCheckingInterval: Math.min(1_000, options.requestTimeoutMs),
    },
    (req, res) => {
      clocks.set(req, new BodyClock(req, res, options.requestTimeoutMs));
      app(req, res);
    },
  );
  server.on('clientError', answerClientError);
  return server;
}
