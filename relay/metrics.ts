// Prometheus text exposition (format 0.0.4) for a handful of gauges and counters.
export interface Metric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: number;
  labels?: Record<string, string>;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function renderMetrics(metrics: Metric[]): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of metrics) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m.name)) throw new Error(`bad metric name ${m.name}`);
    if (!seen.has(m.name)) {
      seen.add(m.name);
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    }
    const labels = Object.entries(m.labels ?? {})
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    out.push(`${m.name}${labels ? `{${labels}}` : ''} ${Number.isFinite(m.value) ? m.value : 0}`);
  }
  return out.join('\n') + '\n';
}
