/** The memory supervisor's decisions, counted by kind from the server's JSON log lines (those with a `supervisor` field). */
export interface Decisions {
  byKind: Record<string, number>;
  /** The first few, in order, for the report: time is the log's own. */
  first: Array<{ time: number; kind: string; msg: string; reason: string | null }>;
}

export function countDecisions(logLines: readonly string[], keep = 30): Decisions {
  const byKind: Record<string, number> = {};
  const first: Decisions['first'] = [];
  for (const line of logLines) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // not a log line
    }
    if (typeof entry.supervisor !== 'string') continue;
    byKind[entry.supervisor] = (byKind[entry.supervisor] ?? 0) + 1;
    if (first.length < keep && entry.supervisor !== 'start') {
      first.push({ time: Number(entry.time), kind: entry.supervisor, msg: String(entry.msg ?? ''), reason: typeof entry.reason === 'string' ? entry.reason : null });
    }
  }
  return { byKind, first };
}
