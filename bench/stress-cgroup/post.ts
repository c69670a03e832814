/**
 * POST over node:http with no client-side timeouts. Node's fetch (undici) gives up on a response
 * whose headers take over 300 s, and a 2,000-chunk JSON answer under load is only sent when its
 * last vector is done: with fetch, the client, not the server, would end those requests.
 */
import http from 'node:http';

export interface PostAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as it arrives. */
  body: AsyncIterable<Buffer>;
}

export function post(url: string, body: string, accept: string, signal?: AbortSignal): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, 'content-length': Buffer.byteLength(body) },
      signal,
      agent: false,
    });
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POSTs a body produced piece by piece (an NDJSON request body), with chunked transfer encoding, writing the next piece only
 * when the socket has taken the last (the server's TCP backpressure reaches the producer). Resolves with the response as soon
 * as its headers arrive, which for a streamed body is while pieces are still being written.
 */
export function postPieces(url: string, pieces: Iterable<string>, contentType: string, accept: string, signal?: AbortSignal): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': contentType, accept }, signal, agent: false });
    let answered = false;
    // A streamed body is answered 200 while it is still being written; any other early answer (503, 4xx) refuses it.
    let refused = false;
    req.on('response', (res) => {
      answered = true;
      refused = res.statusCode !== 200;
      // The server may have stopped reading: end now rather than wait for a 'drain' that never comes.
      if (refused && !req.writableEnded) req.end();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const iterator = pieces[Symbol.iterator]();
    const write = () => {
      for (;;) {
        if (req.destroyed || req.writableEnded) return;
        // A refusal answered before the body was read ends the request: the rest is not sent.
        const next = refused ? { done: true as const } : iterator.next();
        if (next.done) {
          req.end();
          return;
        }
        if (!req.write(next.value)) {
          req.once('drain', write);
          return;
        }
      }
    };
    write();
  });
}

export async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of body) parts.push(piece);
  return Buffer.concat(parts).toString('utf8');
}
