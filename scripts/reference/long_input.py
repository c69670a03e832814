"""Long-input windows for reference-long.json: make_reference.py --long-input.

An independent Python statement of how the service cuts a long text into windows (src/workers/thread/windows.ts) and
merges their vectors (src/core/long-input.ts), with the Hugging Face tokenizers (Rust) library counting word pieces and
sentence-transformers embedding each window's text. The rule, so both sides can be checked against it:

- A text whose word pieces (without [CLS]/[SEP]) fit in one window (max_seq_length - 2) is one window: the text itself.
- Otherwise it is taken line by line ('\n'), each line trimmed of ASCII whitespace (' ', '\t', '\r'), lines of no
  word pieces skipped. A line of more pieces than a window is halved, recursively: at the ASCII whitespace nearest its
  middle, else next to the nearest punctuation mark, CJK ideograph or Unicode space separator (words of their own to
  BERT), else at the middle (never inside a surrogate pair); each half trimmed and counted again.
- Windows take units greedily while their pieces fit. The next window starts with the last units of the one before
  that together hold at most `overlap` pieces, and at most a window less the next new unit (never with that window's
  first unit). After `max_windows` windows the
  rest of the text is dropped and the text is marked cut.
- Positions are UTF-16 code units (JavaScript string indices); the text is handled as UTF-16 here so the middles agree.
- The text's vector is the mean of the window vectors weighted by each window's tokens ([CLS] and [SEP] included),
  in float64, L2-normalised, then float32.
"""
from __future__ import annotations

import unicodedata

import numpy as np


def _is_space(c: int) -> bool:
    return c in (0x20, 0x09, 0x0A, 0x0D)


def _is_own_word(c: int) -> bool:
    if 33 <= c <= 47 or 58 <= c <= 64 or 91 <= c <= 96 or 123 <= c <= 126:
        return True
    if 0x4E00 <= c <= 0x9FFF or 0x3400 <= c <= 0x4DBF or 0xF900 <= c <= 0xFAFF:
        return True
    if c > 127 and not 0xD800 <= c <= 0xDFFF:
        category = unicodedata.category(chr(c))
        return category.startswith("P") or category == "Zs"
    return False


class Utf16Text:
    def __init__(self, text: str):
        self.raw = text.encode("utf-16-le", errors="surrogatepass")
        self.units = [int.from_bytes(self.raw[i : i + 2], "little") for i in range(0, len(self.raw), 2)]

    def __len__(self) -> int:
        return len(self.units)

    def slice(self, start: int, end: int) -> str:
        return self.raw[start * 2 : end * 2].decode("utf-16-le", errors="surrogatepass")


def cut_windows(text: str, count_pieces, content_tokens: int, overlap: int, max_windows: int):
    """[(start, end, pieces)], cut: as windows.ts's cutWindows."""
    t = Utf16Text(text)
    u = t.units
    limit = max(1, content_tokens)
    overlap = max(0, min(overlap, limit - 1))
    max_windows = max(1, max_windows)

    def trim(s: int, e: int):
        while s < e and _is_space(u[s]):
            s += 1
        while e > s and _is_space(u[e - 1]):
            e -= 1
        return s, e

    def split_point(start: int, end: int) -> int:
        middle = start + (end - start) // 2

        def nearest(ok) -> int:
            d = 0
            while middle - d > start or middle + d < end:
                if middle - d > start and ok(middle - d):
                    return middle - d
                if middle + d < end and ok(middle + d):
                    return middle + d
                d += 1
            return -1

        space = nearest(lambda i: _is_space(u[i]))
        if space != -1:
            return space
        punct = nearest(lambda i: _is_own_word(u[i]) or _is_own_word(u[i - 1]))
        if punct != -1:
            return punct
        return middle + 1 if 0xD800 <= u[middle - 1] <= 0xDBFF else middle

    def fitted(start: int, end: int, pieces: int, out: list):
        if pieces <= limit or end - start < 2:
            out.append((start, end, pieces))
            return
        at = split_point(start, end)
        for a, b in ((start, at), (at, end)):
            s, e = trim(a, b)
            if s == e:
                continue
            n = count_pieces(t.slice(s, e))
            if n > 0:
                fitted(s, e, n, out)

    units = []
    line_start = 0
    while line_start < len(u):
        try:
            line_end = u.index(0x0A, line_start)
        except ValueError:
            line_end = len(u)
        s, e = trim(line_start, line_end)
        line_start = line_end + 1
        if s == e:
            continue
        n = count_pieces(t.slice(s, e))
        if n == 0:
            continue
        fitted(s, e, n, units)

    windows = []
    cut = False
    start = 0
    while True:
        end = start
        pieces = 0
        while end < len(units) and pieces + units[end][2] <= limit:
            pieces += units[end][2]
            end += 1
        if end == start and end < len(units):
            pieces += units[end][2]
            end += 1
        if start == 0 and end >= len(units):
            return [(0, len(u), pieces)], False
        windows.append((units[start][0], units[end - 1][1], pieces))
        if end >= len(units):
            break
        if len(windows) == max_windows:
            cut = True
            break
        nxt = end
        repeated = 0
        room = min(overlap, limit - units[end][2])
        while nxt - 1 > start and repeated + units[nxt - 1][2] <= room:
            nxt -= 1
            repeated += units[nxt][2]
        start = nxt
    return windows, cut


def weighted_mean(vectors: np.ndarray, weights) -> np.ndarray:
    """The chunk's vector: token-weighted mean of the window vectors, float64, L2-normalised, as float32."""
    if len(vectors) == 1:
        return vectors[0]
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for vec, w in zip(vectors, weights):
        total += vec.astype(np.float64) * float(w)
    return (total / np.linalg.norm(total)).astype(np.float32)
