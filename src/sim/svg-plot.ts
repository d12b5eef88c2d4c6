/**
 * A hand-written SVG of a benchmark: left, energy (kWh) against SLAV per policy (one dot per day,
 * a ring at the median); right, active hosts over the first day per policy.
 */

export interface PlotPoint {
  readonly policy: string;
  readonly energyKWh: number;
  readonly slav: number;
  readonly median?: boolean;
}

export interface PlotSeries {
  readonly policy: string;
  readonly activeHosts: ArrayLike<number>;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(x: number): string {
  if (x === 0) return '0';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(1) : x.toExponential(1);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function axes(box: Box, xMax: number, yMax: number, xLabel: string, yLabel: string, title: string): string[] {
  const out = [`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="none" stroke="#333"/>`];
  for (let i = 0; i <= 4; i++) {
    const gx = box.x + (box.w * i) / 4;
    const gy = box.y + box.h - (box.h * i) / 4;
    out.push(`<text x="${gx}" y="${box.y + box.h + 14}" font-size="10" text-anchor="middle">${fmt((xMax * i) / 4)}</text>`);
    out.push(`<text x="${box.x - 4}" y="${gy + 3}" font-size="10" text-anchor="end">${fmt((yMax * i) / 4)}</text>`);
  }
  out.push(`<text x="${box.x + box.w / 2}" y="${box.y + box.h + 30}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text x="${box.x - 44}" y="${box.y + box.h / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 ${box.x - 44} ${box.y + box.h / 2})">${esc(yLabel)}</text>`);
  out.push(`<text x="${box.x + box.w / 2}" y="${box.y - 8}" font-size="12" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  return out;
}

export function renderBenchmarkSvg(points: readonly PlotPoint[], series: readonly PlotSeries[], title = 'godwit simulate'): string {
  const policies = [...new Set([...points.map((p) => p.policy), ...series.map((s) => s.policy)])];
  const color = (p: string) => COLORS[policies.indexOf(p) % COLORS.length] ?? '#000';
  const shown = points.filter((p) => Number.isFinite(p.energyKWh) && Number.isFinite(p.slav));
  const xMax = Math.max(1e-9, ...shown.map((p) => p.energyKWh)) * 1.05;
  const yMax = Math.max(1e-9, ...shown.map((p) => p.slav)) * 1.1;
  const left: Box = { x: 70, y: 40, w: 380, h: 300 };
  const right: Box = { x: 560, y: 40, w: 380, h: 300 };
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${420 + 16 * Math.ceil(policies.length / 4)}" font-family="sans-serif">`,
    `<title>${esc(title)}</title>`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    ...axes(left, xMax, yMax, 'energy (kWh)', 'SLAV', 'energy vs SLAV (dots: days, rings: median)'),
  ];
  for (const p of shown) {
    const cx = left.x + (p.energyKWh / xMax) * left.w;
    const cy = left.y + left.h - (p.slav / yMax) * left.h;
    out.push(
      p.median
        ? `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="6" fill="none" stroke="${color(p.policy)}" stroke-width="2"><title>${esc(p.policy)} median</title></circle>`
        : `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3" fill="${color(p.policy)}"><title>${esc(p.policy)}</title></circle>`,
    );
  }
  const steps = Math.max(1, ...series.map((s) => s.activeHosts.length));
  const hMax = Math.max(1, ...series.flatMap((s) => Array.from(s.activeHosts))) * 1.05;
  out.push(...axes(right, steps, hMax, 'interval (300 s)', 'active hosts', 'active hosts over the day'));
  for (const s of series) {
    const pts = Array.from(s.activeHosts, (n, k) => `${(right.x + (k / steps) * right.w).toFixed(1)},${(right.y + right.h - (n / hMax) * right.h).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color(s.policy)}" stroke-width="1.2" points="${pts.join(' ')}"><title>${esc(s.policy)}</title></polyline>`);
  }
  policies.forEach((p, i) => {
    const x = 70 + (i % 4) * 230;
    const y = 395 + 16 * Math.floor(i / 4);
    out.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${color(p)}"/><text x="${x + 14}" y="${y}" font-size="11">${esc(p)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
