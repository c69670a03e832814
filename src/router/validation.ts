import type { z } from 'zod';
import { ApiError } from './errors.js';
import { EmbedRequest } from './schemas.js';

/** `chunks[3].content`, the way a client would point at the field. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'body';
  throw new ApiError(400, 'invalid_request', `${where}: ${issue.message}`);
}

export function parseEmbedRequest(body: unknown): EmbedRequest {
  const request = parseBody(EmbedRequest, body);
  const seen = new Set<string>();
  request.chunks.forEach(({ chunk_id }, index) => {
    if (seen.has(chunk_id)) {
      throw new ApiError(400, 'duplicate_chunk_id', `chunks[${index}].chunk_id: ${JSON.stringify(chunk_id)} appears more than once`);
    }
    seen.add(chunk_id);
  });
  return request;
}
