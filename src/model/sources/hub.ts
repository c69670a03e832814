/** model:fetch's first source: the Hugging Face Hub, or the mirror HF_ENDPOINT names. */
import { downloadToFile } from '../download.js';
import type { SourceContext } from './context.js';

const HUB_DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Time allowed for the Hub to answer (DNS + connect + headers). */
const HUB_RESPONSE_TIMEOUT_MS = 10_000;

export function hubUrl(endpoint: string, repo: string, revision: string, filePath: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${filePath}`;
}

/** (a) Hugging Face Hub: <HF_ENDPOINT>/<repo>/resolve/<revision>/<path>. */
export async function hubSource(ctx: SourceContext): Promise<void> {
  const hub = ctx.manifest.sources.hub;
  const endpoint = ctx.env.HF_ENDPOINT?.trim() || HUB_DEFAULT_ENDPOINT;
  for (const file of ctx.files) {
    const entry = ctx.manifest.files[file]?.sources.hub;
    if (!entry) throw new Error(`manifest has no Hub entry for ${file}`);
    const url = hubUrl(endpoint, hub.repo, hub.revision, entry.path);
    await ctx.install(file, (tmp) => downloadToFile(url, tmp, { responseTimeoutMs: HUB_RESPONSE_TIMEOUT_MS, expectedSizes: [entry.size] }));
  }
}
