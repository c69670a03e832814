/**
 * sha256 and byte count, the pair the manifest pins every model file by: of a
 * file on disk, or of bytes as they stream into one.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { FileDigest } from './files.js';

/** Streaming sha256 + byte count of a file. */
export async function sha256File(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    size += buf.length;
    hash.update(buf);
  }
  return { sha256: hash.digest('hex'), size };
}

/** A pass-through stage that hashes what flows through it, so a download or an extraction is verified without reading the file again. */
export function hashingTap(): { tap: Transform; digest: () => FileDigest; onData: (fn: () => void) => void } {
  const hash = createHash('sha256');
  let size = 0;
  let listener: (() => void) | undefined;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      listener?.();
      cb(null, chunk);
    },
  });
  return { tap, digest: () => ({ sha256: hash.digest('hex'), size }), onData: (fn) => (listener = fn) };
}
