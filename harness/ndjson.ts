/**
 * Clients for /embed's NDJSON forms: a body streamed as NDJSON (Content-Type: application/x-ndjson), sent in pieces
 * at the caller's pace, and NDJSON responses read line by line, without holding the whole body.
 */

export const NDJSON = 'application/x-ndjson';

export interface ChunkLine {
  chunk_id: string;
  content: string;
}

/** The body's lines: `{batch_id}`, then one chunk per line. */
export function* ndjsonLines(batchId: string, chunks: Iterable<ChunkLine>): Generator<string> {
  yield `${JSON.stringify({ batch_id: batchId })}\n`;
  for (const chunk of chunks) yield `${JSON.stringify(chunk)}\n`;
}

/**
 * POSTs a streamed body: `pieces` (text, or raw bytes) are sent as they are produced (an async generator can wait between them), over one
 * request with chunked transfer encoding. `signal` aborts it (the connection is cut).
 */
type Pieces = Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

export function postNdjsonBody(url: string, pieces: Pieces, options: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Response> {
  const iterator = Symbol.asyncIterator in pieces ? pieces[Symbol.asyncIterator]() : pieces[Symbol.iterator]();
  const encoder = new TextEncoder();
  // Pulled one piece at a time as the connection takes them (not Readable.toWeb, which reads its source eagerly),
  // so the client feels the server's backpressure.
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(typeof next.value === 'string' ? encoder.encode(next.value) : next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  return fetch(url, { method: 'POST', headers: { 'content-type': NDJSON, ...options.headers }, body, duplex: 'half', signal: options.signal } as RequestInit);
}

/** Reads an NDJSON response line by line, without holding the whole body. */
export async function* responseLines(res: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(piece, { stream: true });
    let newline: number;
    while ((newline = rest.indexOf('\n')) !== -1) {
      yield rest.slice(0, newline);
      rest = rest.slice(newline + 1);
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest;
}
