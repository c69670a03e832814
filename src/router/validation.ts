import type { z } from 'zod';
import { ApiError } from './errors.js';
import { EmbedRequest } from './schemas.js';

/** `chunks[3].content`, the way a client would point at the field. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/**
 * A union's failure (`input`: a string or an array of strings) reports every branch; the branch
 * whose value had the right type says what is actually wrong (e.g. too many items).
 */
function relevantIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const branch = issue.errors.find((issues) => issues.length > 0 && !(issues[0]!.code === 'invalid_type' && issues[0]!.path.length === 0));
  if (!branch) return issue;
  const inner = relevantIssue(branch[0]!);
  return { ...inner, path: [...issue.path, ...inner.path] };
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = relevantIssue(result.error.issues[0]!);
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'body';
  const param = issue.path.length > 0 ? String(issue.path[0]) : null;
  // A size limit from RequestLimits (an array or a string over its max) is 413, not a malformed request.
  if (issue.code === 'too_big' && (issue.origin === 'array' || issue.origin === 'string')) {
    const code = issue.origin === 'array' ? 'too_many_chunks' : 'chunk_too_large';
    throw new ApiError(code, `${where}: ${issue.message}`, { param });
  }
  throw new ApiError('invalid_request', `${where}: ${issue.message}`, { param });
}

export function parseEmbedRequest(body: unknown): EmbedRequest {
  const request = parseBody(EmbedRequest, body);
  const seen = new Set<string>();
  request.chunks.forEach(({ chunk_id }, index) => {
    if (seen.has(chunk_id)) {
      throw new ApiError('duplicate_chunk_id', `chunks[${index}].chunk_id: ${JSON.stringify(chunk_id)} appears more than once`);
    }
    seen.add(chunk_id);
  });
  return request;
}
