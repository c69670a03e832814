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

export function parseBody<S extends z.ZodType>(schema: S, body: unknown, invalid: 'invalid_request' | 'validation_failed' = 'invalid_request'): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = relevantIssue(result.error.issues[0]!);
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'body';
  const param = issue.path.length > 0 ? String(issue.path[0]) : null;
  // RequestLimits' size limit (an array over its max) is 413, not a malformed request.
  if (issue.code === 'too_big' && issue.origin === 'array') throw new ApiError('too_many_chunks', `${where}: ${issue.message}`, { param });
  throw new ApiError(invalid, `${where}: ${issue.message}`, { param });
}

/**
 * Empty and repeated chunk ids pass, as they did in the original worker: the answer follows the chunks by position.
 * An invalid body is 422 `validation_failed`, the status the original answered with.
 */
export function parseEmbedRequest(body: unknown): EmbedRequest {
  return parseBody(EmbedRequest, body, 'validation_failed');
}
