/** Number formats of the report: '–' where a figure is missing (older runs, skipped configurations). */
const finite = (x: number | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

export const f0 = (x: number | undefined): string => (finite(x) ? Math.round(x).toLocaleString('en-US') : '–');
export const f1 = (x: number | undefined): string => (finite(x) ? x.toFixed(1) : '–');
export const f2 = (x: number | undefined): string => (finite(x) ? x.toFixed(2) : '–');
export const pct = (x: number | undefined): string => (finite(x) ? `${(x * 100).toFixed(0)}%` : '–');
