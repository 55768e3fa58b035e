// The report's chart, written by hand: requests/s by replicas, one line per
// proxy, one small panel per (workers, body) pair of the matrix.
import { bodyText } from './body.js';
import type { Report, Row } from './report-data.js';

/** Fixed colours, so a peer looks the same in every chart. */
const COLORS: Record<string, string> = {
  direct: '#888888',
  nginx: '#2ca02c',
  haproxy: '#1f77b4',
  caddy: '#9467bd',
  portero: '#d62728',
};
const FALLBACK = ['#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const PANEL_W = 300;
const PANEL_H = 220;
/** Inside a panel: room for the y labels, the title and the x labels. */
const PAD = { left: 52, right: 14, top: 30, bottom: 40 };
const HEADER = 74;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A round tick step (1, 2, 2.5 or 5 times a power of ten) of at least v. */
export function niceStep(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v * (1 - 1e-9)) return m * p;
  return 10 * p;
}

/** A y axis from 0 that holds max, in 2 to 5 round steps. */
export function axis(max: number): { top: number; step: number } {
  const step = niceStep((max > 0 ? max : 1) / 5);
  return { top: Math.max(step, Math.ceil(max / step - 1e-9) * step), step };
}

export function shortNumber(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

/** Mean req/s of the usable rows of one peer at one point. */
function meanReqPerSec(rows: readonly Row[]): number | null {
  const ok = rows.filter((r) => r.status === 'ok' && r.profiled !== true && r.measurement !== undefined);
  if (ok.length === 0) return null;
  return ok.reduce((s, r) => s + r.measurement!.load.reqPerSec, 0) / ok.length;
}

export function chartSvg(rep: Pick<Report, 'rows' | 'settings' | 'env'>): string {
  const { rows } = rep;
  const replicas = [...new Set(rows.map((r) => r.replicas))].sort((a, b) => a - b);
  const workers = [...new Set(rows.map((r) => r.workers))].sort((a, b) => a - b);
  const bodies = rep.settings.bodies.filter((b) => rows.some((r) => r.body === b));
  const peers = [...new Set(rows.map((r) => r.peer))];
  const color = (p: string) => COLORS[p] ?? FALLBACK[peers.indexOf(p) % FALLBACK.length]!;
  const cols = Math.max(1, bodies.length);
  // Wide enough for the legend and the subtitle even with one panel.
  const width = Math.max(cols * PANEL_W + 20, 640);
  const height = HEADER + Math.max(1, workers.length) * PANEL_H + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Requests/s by replicas, one line per proxy</text>`,
    `<text x="10" y="38" fill="#555555">${escapeXml(`${rep.env.date.slice(0, 16).replace('T', ' ')} UTC, ${rep.env.cpuModel}, ${rep.env.cores} cores. One panel per worker count and body, each with its own y scale.`)}</text>`,
  );
  // Legend.
  let lx = 10;
  for (const p of peers) {
    out.push(`<line x1="${lx}" y1="58" x2="${lx + 22}" y2="58" stroke="${color(p)}" stroke-width="${p === 'portero' ? 3 : 2}"${p === 'direct' ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<circle cx="${lx + 11}" cy="58" r="3" fill="${color(p)}"/>`);
    out.push(`<text x="${lx + 28}" y="62">${escapeXml(p === 'direct' ? 'direct (no proxy: the limit)' : p)}</text>`);
    lx += 40 + (p === 'direct' ? 150 : p.length * 7);
    if (lx > width - 60) lx = width - 60;
  }
  if (rows.length === 0) out.push(`<text x="10" y="${HEADER + 20}">no measurements</text>`);

  workers.forEach((w, wi) => {
    bodies.forEach((body, bi) => {
      const x0 = 10 + bi * PANEL_W;
      const y0 = HEADER + wi * PANEL_H;
      const plotW = PANEL_W - PAD.left - PAD.right;
      const plotH = PANEL_H - PAD.top - PAD.bottom;
      const left = x0 + PAD.left;
      const top = y0 + PAD.top;
      const series = peers.map((p) => ({
        peer: p,
        points: replicas.map((n) => ({ n, v: meanReqPerSec(rows.filter((r) => r.peer === p && r.workers === w && r.body === body && r.replicas === n)) })),
      }));
      const { top: max, step } = axis(Math.max(0, ...series.flatMap((s) => s.points.map((pt) => pt.v ?? 0))));
      const xAt = (i: number) => left + (replicas.length === 1 ? plotW / 2 : (i * plotW) / (replicas.length - 1));
      const yAt = (v: number) => top + plotH - (v / max) * plotH;
      out.push(`<g>`);
      out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${escapeXml(`${w} worker${w === 1 ? '' : 's'}, ${bodyText(body)}`)}</text>`);
      // Grid and y axis labels.
      for (let v = 0; v <= max + step / 2; v += step) {
        const y = yAt(v);
        out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="${v === 0 ? '#333333' : '#e5e5e5'}"/>`);
        out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${shortNumber(v)}</text>`);
      }
      out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333333"/>`);
      out.push(`<text x="${x0 + 12}" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 12} ${top + plotH / 2})">req/s</text>`);
      // x axis labels.
      replicas.forEach((n, i) => {
        out.push(`<line x1="${xAt(i)}" y1="${top + plotH}" x2="${xAt(i)}" y2="${top + plotH + 4}" stroke="#333333"/>`);
        out.push(`<text x="${xAt(i)}" y="${top + plotH + 16}" text-anchor="middle">${n}</text>`);
      });
      out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 32}" text-anchor="middle" fill="#555555">replicas</text>`);
      // One line per peer.
      for (const s of series) {
        const pts = s.points.map((pt, i) => ({ ...pt, i })).filter((pt) => pt.v !== null);
        if (pts.length === 0) continue;
        const c = color(s.peer);
        const dash = s.peer === 'direct' ? ' stroke-dasharray="4 3"' : '';
        if (pts.length > 1) {
          const d = pts.map((pt, k) => `${k === 0 ? 'M' : 'L'}${xAt(pt.i).toFixed(1)},${yAt(pt.v!).toFixed(1)}`).join(' ');
          out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="${s.peer === 'portero' ? 3 : 2}"${dash}/>`);
        }
        for (const pt of pts) {
          out.push(`<circle cx="${xAt(pt.i).toFixed(1)}" cy="${yAt(pt.v!).toFixed(1)}" r="3" fill="${c}"><title>${escapeXml(`${s.peer}, ${pt.n} replicas: ${Math.round(pt.v!)} req/s`)}</title></circle>`);
        }
      }
      out.push(`</g>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
