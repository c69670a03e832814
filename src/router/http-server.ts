import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestListener } from 'node:http';
import { ERRORS, type ErrorCode } from './error-table.js';
import { errorBody } from './errors.js';

export interface HttpServerOptions {
  /** Time allowed to receive a whole request (headers and body); slow-drip clients get 408. */
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
  const [code, message] = CLIENT_ERRORS[error.code ?? ''] ?? ['bad_request', 'malformed HTTP request'];
  const { status } = ERRORS[code];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createHttpServer(app: RequestListener, options: HttpServerOptions): http.Server {
  const server = http.createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.requestTimeoutMs, 60_000),
      // Node checks those timeouts on this period (30 s by default), which would let short limits overrun.
      connectionsCheckingInterval: Math.min(1_000, options.requestTimeoutMs),
    },
    app,
  );
  server.on('clientError', answerClientError);
  return server;
}
