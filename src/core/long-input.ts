import type { TextWindows, WindowSpec } from '../workers/window-result.js';
import { allocateRows, type EmbeddedRows, type WindowVector } from './batch-runner.js';

/**
 * What becomes of a text longer than one window (EMBEDDING_LONG_INPUT, or a request's `long_input`):
 * - `truncate`: the model sees its first EMBEDDING_MAX_SEQ_LENGTH word pieces, as sentence-transformers does;
 * - `mean`: it is cut into overlapping windows (workers/thread/windows.ts), each embedded as a row of its own with its
 *   own [CLS] and [SEP], and its vector is the mean of the windows' vectors weighted by their tokens, L2-normalised;
 * - `windows`: as `mean`, and every window's vector and character range is returned too.
 * A text that fits in one window is one row, the text itself, in every mode: its vector is bit for bit truncate's.
 */
export const LONG_INPUT_MODES = ['truncate', 'mean', 'windows'] as const;
export type LongInputMode = (typeof LONG_INPUT_MODES)[number];

/** Default words pieces a window repeats from the one before: 32 of 254, an eighth, so a statement cut at a window's end is whole in the next. */
export const DEFAULT_WINDOW_OVERLAP = 32;
/** Default bound on windows per text: 32 windows of 254 pieces, about 7,000 word pieces (a 700-line file). */
export const DEFAULT_MAX_WINDOWS = 32;

/** Asks a worker to cut texts into windows (EmbeddingPool.windows). */
export type CutWindows = (texts: string[], spec: WindowSpec) => Promise<TextWindows[]>;

export interface LongInputSettings {
  /** The server's default mode (EMBEDDING_LONG_INPUT). */
  mode: LongInputMode;
  /** EMBEDDING_LONG_INPUT_OVERLAP. */
  overlap: number;
  /** EMBEDDING_MAX_WINDOWS_PER_CHUNK. */
  maxWindows: number;
  cut: CutWindows;
}

/** Texts handed to one worker task for cutting, so a big request's cutting spreads over the workers. */
const TEXTS_PER_CUT_TASK = 64;

/** A request's texts as rows: each text's windows, consecutive, in request order. */
export interface Expansion {
  /** The rows' texts: the text itself when it fits one window, else `text.slice(start, end)` per window. */
  rows: string[];
  /** Rows of text i are `first[i]` … `first[i + 1] - 1`. */
  first: Int32Array;
  /** Each row's range in its text. */
  starts: Uint32Array;
  ends: Uint32Array;
  /** Texts cut at EMBEDDING_MAX_WINDOWS_PER_CHUNK. */
  cut: Uint8Array;
}

/**
 * Cuts every text longer than one window into windows. Only texts of more UTF-16 units than a window has word pieces
 * are sent to the workers: every word piece covers at least one character, so a shorter text fits.
 */
export async function expandTexts(texts: readonly string[], spec: WindowSpec, cut: CutWindows): Promise<Expansion> {
  const long: number[] = [];
  texts.forEach((text, i) => {
    if (text.length > spec.contentTokens) long.push(i);
  });
  const tasks: Promise<TextWindows[]>[] = [];
  for (let at = 0; at < long.length; at += TEXTS_PER_CUT_TASK) {
    tasks.push(cut(long.slice(at, at + TEXTS_PER_CUT_TASK).map((i) => texts[i]!), spec));
  }
  const windowsOf = new Map<number, TextWindows>();
  (await Promise.all(tasks)).flat().forEach((w, k) => windowsOf.set(long[k]!, w));

  const rows: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const first = new Int32Array(texts.length + 1);
  const cutFlags = new Uint8Array(texts.length);
  texts.forEach((text, i) => {
    first[i] = rows.length;
    const found = windowsOf.get(i);
    if (!found || found.windows.length <= 1) {
      // The text itself, not a slice of it: one row exactly as `truncate` sends it.
      rows.push(text);
      starts.push(0);
      ends.push(text.length);
      return;
    }
    for (const w of found.windows) {
      rows.push(text.slice(w.start, w.end));
      starts.push(w.start);
      ends.push(w.end);
    }
    if (found.cut) cutFlags[i] = 1;
  });
  first[texts.length] = rows.length;
  return { rows, first, starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), cut: cutFlags };
}

/**
 * Folds embedded rows back into one entry per text, in order. Rows may come in several consecutive pieces (the NDJSON
 * path hands them out as they finish); a text whose windows straddle two pieces waits for the second. Each call
 * returns the texts completed by its piece, as rows `offset … offset + count - 1` in text order.
 */
export class WindowMerger {
  readonly #expansion: Expansion;
  readonly #dims: number;
  readonly #keepWindows: boolean;
  /** The next text to complete, and its windows' running sums. */
  #text = 0;
  #sum: Float64Array;
  #weight = 0;
  #tokens = 0;
  #truncated = 0;
  /** Every row of the text so far came from the embedding cache: the chunk counts as cached. */
  #fromCache = true;
  #windows: WindowVector[] = [];
  /** The first row of the text being summed, kept as it came when the text is one row (no arithmetic: exactness). */
  #single: Float32Array | undefined;

  constructor(expansion: Expansion, dims: number, keepWindows: boolean) {
    this.#expansion = expansion;
    this.#dims = dims;
    this.#keepWindows = keepWindows;
    this.#sum = new Float64Array(dims);
  }

  take(rows: EmbeddedRows): EmbeddedRows {
    const { first, starts, ends } = this.#expansion;
    const dims = this.#dims;
    const from = this.#text;
    let to = from;
    while (to < first.length - 1 && first[to + 1]! <= rows.offset + rows.count) to++;
    const out: EmbeddedRows = allocateRows(from, to - from, dims);
    if (this.#keepWindows) out.windows = [];
    for (let r = 0; r < rows.count; r++) {
      const row = rows.offset + r;
      const vector = rows.vectors.subarray(r * dims, (r + 1) * dims);
      const tokens = rows.tokens[r]!;
      if (row === first[this.#text]) this.#single = vector;
      else {
        if (this.#single) this.#add(this.#single, this.#weight);
        this.#single = undefined;
        this.#add(vector, tokens);
      }
      this.#weight += tokens;
      this.#tokens += tokens;
      if (rows.truncated[r] === 1) this.#truncated = 1;
      if (rows.cachedRows?.[r] !== 1) this.#fromCache = false;
      if (this.#keepWindows) this.#windows.push({ start: starts[row]!, end: ends[row]!, tokens, vector: vector.slice() });
      if (row === first[this.#text + 1]! - 1) this.#finish(out);
    }
    // A text of no rows cannot happen: every text is at least one row.
    return out;
  }

  #add(vector: Float32Array, weight: number): void {
    for (let d = 0; d < this.#dims; d++) this.#sum[d]! += vector[d]! * weight;
  }

  #finish(out: EmbeddedRows): void {
    const at = this.#text - out.offset;
    const dims = this.#dims;
    if (this.#single) out.vectors.set(this.#single, at * dims);
    else {
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += this.#sum[d]! * this.#sum[d]!;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let d = 0; d < dims; d++) out.vectors[at * dims + d] = this.#sum[d]! * scale;
    }
    out.tokens[at] = this.#tokens;
    out.truncated[at] = this.#truncated || this.#expansion.cut[this.#text]!;
    if (out.windows) out.windows[at] = this.#windows;
    if (this.#fromCache) out.cached = (out.cached ?? 0) + 1;
    this.#text++;
    this.#sum.fill(0);
    this.#weight = 0;
    this.#tokens = 0;
    this.#truncated = 0;
    this.#windows = [];
    this.#single = undefined;
    this.#fromCache = true;
  }
}

/** The long-input step around the embedder's plan → submit → scatter: expand before, merge after. */
export class LongInput {
  constructor(
    private readonly settings: LongInputSettings,
    /** Word pieces per window, [CLS] and [SEP] included: EMBEDDING_MAX_SEQ_LENGTH. */
    private readonly maxSeqLength: number,
  ) {}

  /** The mode a request runs in: its own `long_input`, else the server's. */
  mode(requested: LongInputMode | undefined): LongInputMode {
    return requested ?? this.settings.mode;
  }

  get spec(): WindowSpec {
    return { contentTokens: this.maxSeqLength - 2, overlap: this.settings.overlap, maxWindows: this.settings.maxWindows };
  }

  /** Every text's entry at once: `run` embeds the rows (all of them, in order). */
  async embed(texts: readonly string[], mode: LongInputMode, run: (rows: readonly string[]) => Promise<EmbeddedRows>): Promise<EmbeddedRows> {
    const expansion = await expandTexts(texts, this.spec, this.settings.cut);
    const rows = await run(expansion.rows);
    return new WindowMerger(expansion, rows.dims, mode === 'windows').take(rows);
  }

  /** Entries handed out as their rows finish, in order: `run` yields the rows in consecutive pieces. */
  async *stream(
    texts: readonly string[],
    mode: LongInputMode,
    dims: number,
    run: (rows: readonly string[]) => AsyncGenerator<EmbeddedRows, void, undefined>,
  ): AsyncGenerator<EmbeddedRows, void, undefined> {
    const expansion = await expandTexts(texts, this.spec, this.settings.cut);
    const merger = new WindowMerger(expansion, dims, mode === 'windows');
    for await (const rows of run(expansion.rows)) {
      const done = merger.take(rows);
      if (done.count > 0) yield done;
    }
  }
}
