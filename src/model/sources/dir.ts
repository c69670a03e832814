/** model:fetch's last source: a directory the user already has, named by EMBEDDING_MODEL_DIR. */
import path from 'node:path';
import type { Manifest } from '../files.js';
import { checkModelFiles, describeProblem } from '../verify.js';

/** (c) EMBEDDING_MODEL_DIR, used in place. Returns the report line and whether it is usable. */
export async function dirSource(
  envDir: string | undefined,
  target: string,
  files: readonly string[],
  manifest: Manifest,
): Promise<{ ok: boolean; line: string }> {
  if (!envDir?.trim()) return { ok: false, line: 'source dir: skipped (EMBEDDING_MODEL_DIR is not set)' };
  const dir = path.resolve(envDir.trim());
  if (dir === target) {
    return { ok: false, line: `source dir: failed (EMBEDDING_MODEL_DIR is the target directory ${dir}, whose files did not verify)` };
  }
  const absent = await checkModelFiles(dir, files, { checkHashes: false });
  if (absent.length > 0) {
    return { ok: false, line: `source dir: failed (${absent.map(describeProblem).join('; ')})` };
  }
  const unverified = await checkModelFiles(dir, files, { checkHashes: true, manifest });
  const hashNote =
    unverified.length === 0
      ? 'sha256 verified against the manifest'
      : `sha256 not in the manifest for ${unverified.map((p) => p.file).join(', ')}: used at your own risk`;
  return {
    ok: true,
    line: `source dir: EMBEDDING_MODEL_DIR=${dir} holds ${files.join(', ')} (${hashNote}); it will be used as is, nothing copied`,
  };
}
