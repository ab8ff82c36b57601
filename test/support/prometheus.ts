/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  /** The label set as written, `{a="1",b="2"}`, or '' */
  labels: string;
  value: number;
}

/** Parses the samples of a Prometheus text exposition (comments and blank lines skipped). */
export function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .map((l) => /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) }));
}

/** Sum of a metric's samples whose label set contains `labelFilter` (e.g. 'result="ok"'). */
export function sumMetric(text: string, name: string, labelFilter = ''): number {
  return parseMetrics(text)
    .filter((s) => s.name === name && s.labels.includes(labelFilter))
    .reduce((sum, s) => sum + s.value, 0);
}
