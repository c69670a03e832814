/**
 * Puts a model file into the target directory only once it is complete and
 * verified: it is written to a temp name beside its destination, checked
 * against the manifest, fsynced and only then renamed into place, so a reader
 * never sees a partial or unverified file under the real name.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { acceptedDigests, matchDigest, type FileDigest, type Manifest } from './files.js';
import { formatExpected } from './verify.js';

/** Temp name beside the destination: .<file>.<pid>.<random>.part */
function tempNameFor(file: string): string {
  return `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
}

const TEMP_NAME_RE = /^\.(.+)\.(\d+)\.[0-9a-f]+\.part$/;

/** Removes temp files left by runs that no longer exist (crash, kill -9). */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_NAME_RE.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0); // existence probe only, sends no signal
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await unlink(path.join(dir, name)).catch(() => undefined);
  }
}

/** Writes a file to the temp path it is given and returns the digest of what it wrote. */
export type WriteTemp = (tmp: string) => Promise<FileDigest>;

/**
 * Has `write` fill a temp file beside dir/file, verifies its digest against the
 * manifest entry for `file`, fsyncs it and renames it to dir/file. Removes the
 * temp file on any failure.
 */
export async function installVerified(dir: string, file: string, manifest: Manifest, write: WriteTemp): Promise<void> {
  const tmp = path.join(dir, tempNameFor(file));
  try {
    const digest = await write(tmp);
    if (matchDigest(manifest, file, digest) === undefined) {
      const expected = formatExpected(acceptedDigests(manifest, file));
      throw new Error(`${file}: sha256 ${digest.sha256} (${digest.size} bytes) does not match the manifest (${expected})`);
    }
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(dir, file));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
