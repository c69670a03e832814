/**
 * One cached vector, and its bytes on disk (or in a shared bucket). A stored entry is checked before it
 * is served: its length, format version, dimensions and a CRC-32 over its key and contents, so a
 * damaged entry, or one filed under the wrong key, is a counted miss and never a wrong vector.
 */
import os from 'node:os';
import zlib from 'node:zlib';

/** What the workers computed for one text: served on a hit instead of running the model. */
export interface CacheEntry {
  /** The float32 vector as the worker returned it (bit for bit). */
  vector: Float32Array;
  /** Word pieces, [CLS] and [SEP] included, as the response reports them. */
  tokens: number;
  /** Cut at the sequence length. */
  truncated: boolean;
}

const VERSION = 1;
const HEADER_BYTES = 12;
const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * zlib.crc32 (Node 20.15, 22.2): a C checksum, about 20 times cheaper than hashing 1.5 KB again. On an older Node
 * the stored tiers cannot check their entries, so they stay off (createCache says so once).
 */
const crc32 = (zlib as { crc32?: (data: Uint8Array, initial?: number) => number }).crc32;
export const CHECKSUMS_AVAILABLE = typeof crc32 === 'function';

/** Bytes of one encoded entry of `dims` floats. */
export const encodedBytes = (dims: number) => HEADER_BYTES + dims * 4;

/**
 * Layout (little-endian): u8 version, u8 flags (bit 0: truncated), u16 tokens, u16 dims, u16 zero,
 * u32 CRC-32 of (key, bytes 0–7, vector bytes), then dims float32.
 */
export function encodeEntry(key: Uint8Array, entry: CacheEntry): Buffer {
  const dims = entry.vector.length;
  const out = Buffer.allocUnsafe(encodedBytes(dims));
  out.writeUInt8(VERSION, 0);
  out.writeUInt8(entry.truncated ? 1 : 0, 1);
  out.writeUInt16LE(entry.tokens, 2);
  out.writeUInt16LE(dims, 4);
  out.writeUInt16LE(0, 6);
  const floats = Buffer.from(entry.vector.buffer, entry.vector.byteOffset, dims * 4);
  floats.copy(out, HEADER_BYTES);
  if (!LITTLE_ENDIAN) out.subarray(HEADER_BYTES).swap32();
  out.writeUInt32LE(checksum(key, out), 8);
  return out;
}

/** The entry, or undefined when the bytes are not an intact entry of `dims` floats for this key. */
export function decodeEntry(key: Uint8Array, bytes: Uint8Array, dims: number): CacheEntry | undefined {
  if (bytes.length !== encodedBytes(dims)) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.readUInt8(0) !== VERSION || buf.readUInt16LE(4) !== dims || buf.readUInt16LE(6) !== 0 || (buf.readUInt8(1) & ~1) !== 0) return undefined;
  if (buf.readUInt32LE(8) !== checksum(key, buf)) return undefined;
  // A buffer of its own: aligned, and holding neither the store's buffer nor a shared pool slab alive.
  const vector = new Float32Array(dims);
  const floats = Buffer.from(vector.buffer);
  buf.copy(floats, 0, HEADER_BYTES);
  if (!LITTLE_ENDIAN) floats.swap32();
  return { vector, tokens: buf.readUInt16LE(2), truncated: buf.readUInt8(1) === 1 };
}

function checksum(key: Uint8Array, entry: Buffer): number {
  let crc = crc32!(key);
  crc = crc32!(entry.subarray(0, 8), crc);
  return crc32!(entry.subarray(HEADER_BYTES), crc) >>> 0;
}
