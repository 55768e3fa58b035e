// Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, then samples.
// Label names are written sorted, as the Go client writes them (and `le`
// last), so portero's output reads like Traefik's.

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** `{a="1",b="2"}` from pairs already in the order to write; '' for none. */
export function labels(...pairs: [string, string][]): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** Adds `le` to a label set made by labels(). */
export function withLe(set: string, le: string): string {
  return set === '' ? `{le="${le}"}` : `${set.slice(0, -1)},le="${le}"}`;
}

export function formatValue(v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class Exposition {
  private readonly parts: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.parts.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  }

  sample(name: string, labelSet: string, value: number | bigint): void {
    this.parts.push(`${name}${labelSet} ${formatValue(value)}\n`);
  }

  text(): string {
    return this.parts.join('');
  }
}
