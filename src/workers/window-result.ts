/**
 * Where long texts are cut into windows (EMBEDDING_LONG_INPUT `mean` or `windows`): what the main thread asks a worker
 * for and the answer, packed into one transferable ArrayBuffer like a batch result (batch-result.ts). The worker
 * tokenizes, so the windows fall on real word-piece boundaries; the main thread then embeds each window as a row.
 */
export interface WindowSpec {
  /** Word pieces of content per window: EMBEDDING_MAX_SEQ_LENGTH less [CLS] and [SEP]. */
  contentTokens: number;
  /** Most word pieces a window repeats from the end of the one before (EMBEDDING_LONG_INPUT_OVERLAP). */
  overlap: number;
  /** EMBEDDING_MAX_WINDOWS_PER_CHUNK: the text is cut after this many windows. */
  maxWindows: number;
}

/** One window of a text: characters [start, end) in UTF-16 code units, and the word pieces they tokenize to. */
export interface TextWindow {
  start: number;
  end: number;
  pieces: number;
}

export interface TextWindows {
  windows: TextWindow[];
  /** The text went on past the last window (it reached `maxWindows`). */
  cut: boolean;
}

/** Layout, per text in order: uint32 cut, uint32 n, then n × (uint32 start, uint32 end, uint32 pieces). */
export function packWindows(texts: readonly TextWindows[]): ArrayBuffer {
  let words = 0;
  for (const t of texts) words += 2 + 3 * t.windows.length;
  const out = new Uint32Array(words);
  let at = 0;
  for (const t of texts) {
    out[at++] = t.cut ? 1 : 0;
    out[at++] = t.windows.length;
    for (const w of t.windows) {
      out[at++] = w.start;
      out[at++] = w.end;
      out[at++] = w.pieces;
    }
  }
  return out.buffer;
}

export function unpackWindows(buffer: ArrayBuffer, count: number): TextWindows[] {
  const words = new Uint32Array(buffer);
  const texts: TextWindows[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 2 > words.length) throw new Error(`window result holds ${words.length} words, too few for ${count} texts`);
    const cut = words[at++] === 1;
    const n = words[at++]!;
    const windows: TextWindow[] = [];
    for (let w = 0; w < n; w++) windows.push({ start: words[at++]!, end: words[at++]!, pieces: words[at++]! });
    texts.push({ windows, cut });
  }
  if (at !== words.length) throw new Error(`window result holds ${words.length} words, expected ${at} for ${count} texts`);
  return texts;
}
