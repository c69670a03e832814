import { z } from 'zod';
import { MAX_SEQ_LENGTH } from '../model/spec.js';
import { LONG_INPUT_MODES } from './long-input.js';

/**
 * The /embed request body, the original Python worker's wire contract (issue 12): `{batch_id, chunks: [{chunk_id,
 * content}]}`. It lives below the router because two ways in accept it: HTTP POST /embed (src/router/) and a queue job
 * (src/queue/), validated by the same schema with the same messages. Like the original, chunk ids are the caller's
 * business: empty and repeated ids are accepted, and vectors are matched to chunks by position.
 */
export const contentText = (maxSeqLength: number) =>
  `Text to embed; may be empty, of any length. The model sees its first ${maxSeqLength} word pieces (EMBEDDING_MAX_SEQ_LENGTH), [CLS] and [SEP] included; the rest is cut, never refused.`;

export const Chunk = z
  .object({
    chunk_id: z.string().describe('Caller-chosen id, echoed with its vector; may be empty or repeated (vectors follow the chunks by position)'),
    content: z.string().describe(contentText(MAX_SEQ_LENGTH)),
  })
  .meta({ id: 'Chunk' });

/** A request's `long_input` (/embed, /v1/embeddings and queue jobs): what becomes of a text longer than one window. */
export const LongInput = z
  .enum(LONG_INPUT_MODES)
  .optional()
  .describe(
    'What becomes of a text longer than one window (EMBEDDING_MAX_SEQ_LENGTH word pieces); the server default (EMBEDDING_LONG_INPUT) when absent. truncate: the model sees the first window only. mean: overlapping windows (EMBEDDING_LONG_INPUT_OVERLAP), each embedded with its own [CLS] and [SEP]; the vector is their mean weighted by tokens, L2-normalised. windows: as mean, and each entry also lists its windows. A text that fits one window gets the same vector in every mode.',
  );

export const EmbedRequest = z
  .object({
    batch_id: z.string().describe('Caller-chosen id echoed in the response and in the embedding.batch_*.v1 log events'),
    chunks: z.array(Chunk).min(1),
    long_input: LongInput,
  })
  .meta({ id: 'EmbedRequest' });
export type EmbedRequest = z.infer<typeof EmbedRequest>;

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

/** Why a body failed its schema: the first relevant issue, where it is, and whether it is a size limit (an array over its max). */
export interface BodyIssue {
  /** `chunks[3].content: Invalid input: expected string, received number`. */
  message: string;
  /** The top-level field at fault, or null for the body as a whole. */
  param: string | null;
  tooMany: boolean;
}

export type BodyCheck<T> = { ok: true; data: T } | { ok: false; issue: BodyIssue };

export function checkBody<S extends z.ZodType>(schema: S, body: unknown): BodyCheck<z.infer<S>> {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, data: result.data };
  const issue = relevantIssue(result.error.issues[0]!);
  const where = issue.path.length > 0 ? formatPath(issue.path) : 'body';
  return {
    ok: false,
    issue: {
      message: `${where}: ${issue.message}`,
      param: issue.path.length > 0 ? String(issue.path[0]) : null,
      tooMany: issue.code === 'too_big' && issue.origin === 'array',
    },
  };
}
