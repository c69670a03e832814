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

export async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of body) parts.push(piece);
  return Buffer.concat(parts).toString('utf8');
}
