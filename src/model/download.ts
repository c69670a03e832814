/**
 * HTTP download straight to a file, hashed on the way so the caller can check
 * it against the manifest without reading it again.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { hashingTap } from './digest.js';
import type { FileDigest } from './files.js';

/** A download that receives nothing for this long is aborted. */
const IDLE_TIMEOUT_MS = 60_000;

/** Streams `url` to `dest` (must not exist), hashing on the way. */
export async function downloadToFile(
  url: string,
  dest: string,
  opts: { responseTimeoutMs: number; expectedSizes?: readonly number[] },
): Promise<FileDigest> {
  const ac = new AbortController();
  let timer = setTimeout(() => ac.abort(new Error(`no response within ${opts.responseTimeoutMs / 1000}s from ${new URL(url).host}`)), opts.responseTimeoutMs);
  try {
    const res = await fetch(url, {
      signal: ac.signal,
      redirect: 'follow',
      headers: { 'user-agent': 'doctown-embed-model-fetch' },
    });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (opts.expectedSizes && Number.isFinite(length) && length > 0 && !opts.expectedSizes.includes(length)) {
      await res.body.cancel().catch(() => undefined);
      throw new Error(`${url} has ${length} bytes, the manifest expects ${opts.expectedSizes.join(' or ')}`);
    }
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new Error(`download stalled for ${IDLE_TIMEOUT_MS / 1000}s: ${url}`)), IDLE_TIMEOUT_MS);
    const { tap, digest, onData } = hashingTap();
    onData(() => timer.refresh());
    const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
    await pipeline(body, tap, createWriteStream(dest, { flags: 'wx' }));
    return digest();
  } catch (err) {
    if (ac.signal.aborted && ac.signal.reason instanceof Error) throw ac.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** An error as one short line (fetch's "fetch failed" is replaced by its cause). */
export function oneLine(err: unknown): string {
  let msg: string;
  if (err instanceof Error) {
    msg = err.message;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && (msg === 'fetch failed' || msg === 'terminated' || msg === '')) {
      msg = cause.message || (cause as NodeJS.ErrnoException).code || msg;
    }
  } else {
    msg = String(err);
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 500 ? `${msg.slice(0, 497)}...` : msg;
}
