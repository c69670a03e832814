/**
 * Small helpers for watching a service from the outside, in-process or child: polling until a
 * condition holds (tests wait for states, never for fixed times), reading one Prometheus sample, and
 * parsing pino's JSON lines.
 */

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, everyMs = 25): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One sample from GET /metrics by its exact name and labels (`name{label="x"}`); NaN when absent. */
export async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

/** The lines that parse as JSON objects (pino's log entries), skipping anything else. */
export function jsonLines(lines: readonly string[]): Array<Record<string, any>> {
  return lines.flatMap((line) => {
    try {
      const entry: unknown = JSON.parse(line);
      return entry !== null && typeof entry === 'object' ? [entry as Record<string, any>] : [];
    } catch {
      return [];
    }
  });
}
