/**
 * Inline SVG charts, generated as text: no script, no external reference, fixed rounding, so
 * the same numbers always draw the same bytes and the HTML stays self-contained and printable.
 */
import type { Status, Unit } from '@kpi/kpi';
import { escapeHtml } from './html-escape.ts';
import { formatAxis, formatValue, STATUS_LABEL } from './format.ts';
import type { ReportKpi } from './model.ts';

export const STATUS_COLOUR: Record<Status, string> = { met: '#1a7f37', breached: '#b42318', no_target: '#3f4f7d', no_data: '#8c959f' };
const TARGET_COLOUR = '#9a6700';
const LINE_COLOUR = '#57606a';

const r1 = (n: number) => Math.round(n * 10) / 10;

/** A round step (1, 2, 2.5 or 5 times a power of ten) that cuts `span` into about `count` parts. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  return (residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10) * magnitude;
}

/** The y axis: round ticks covering the values and targets, 0 included for counts and shares. */
export function axisOf(numbers: number[], unit: Unit): { lo: number; hi: number; ticks: number[] } {
  let lo = Math.min(...numbers);
  let hi = Math.max(...numbers);
  if (unit === 'count' || unit === 'ratio') {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    hi += pad;
    lo = unit === 'count' || unit === 'ratio' ? Math.max(0, lo - pad) : lo - pad;
  }
  const step = niceStep(hi - lo, 3);
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let tick = first; tick <= last + step / 2; tick += step) ticks.push(Math.abs(tick) < step / 1e6 ? 0 : tick);
  return { lo: first, hi: last, ticks };
}

/**
 * The KPI over the last periods (quarters, or years): its values (a line broken at empty periods, each point coloured
 * by its status, the latest one larger), its target (dashed).
 */
export function trendChart(kpi: ReportKpi, size: { width: number; height: number } = { width: 250, height: 112 }): string {
  const { width, height } = size;
  const left = 46;
  const right = 10;
  const top = 6;
  const bottom = 24;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const points = kpi.trend;
  const x = (index: number) => r1(left + (points.length === 1 ? plotWidth / 2 : (index * plotWidth) / (points.length - 1)));
  const numbers = points.flatMap((point) => [point.value, point.target]).filter((n): n is number => n !== null && Number.isFinite(n));
  const description = points.map((point) => `${point.quarter}: ${formatValue(point.value, kpi.unit)} (${STATUS_LABEL[point.status]})`).join('; ');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(`${kpi.name}, last ${points.length} periods: ${description}`)}">`,
  ];
  // x axis labels: the quarter under every point, the year under the first and each Q1.
  points.forEach((point, index) => {
    const [year, q] = point.quarter.split('-');
    parts.push(`<text x="${x(index)}" y="${height - bottom + 12}" class="tick" text-anchor="middle">${q}</text>`);
    if (index === 0 || q === 'Q1') parts.push(`<text x="${x(index)}" y="${height - bottom + 22}" class="tick year" text-anchor="middle">${year}</text>`);
  });
  parts.push(`<line x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}" class="axis"/>`);
  if (numbers.length === 0) {
    parts.push(`<text x="${r1(left + plotWidth / 2)}" y="${r1(top + plotHeight / 2)}" class="empty" text-anchor="middle">no data in these periods</text>`, '</svg>');
    return parts.join('');
  }
  const { lo, hi, ticks } = axisOf(numbers, kpi.unit);
  const y = (value: number) => r1(top + plotHeight - ((value - lo) / (hi - lo)) * plotHeight);
  for (const tick of ticks) {
    parts.push(`<line x1="${left}" y1="${y(tick)}" x2="${width - right}" y2="${y(tick)}" class="grid"/>`);
    parts.push(`<text x="${left - 4}" y="${r1(y(tick) + 3)}" class="tick" text-anchor="end">${escapeHtml(formatAxis(tick, kpi.unit))}</text>`);
  }
  // Target: dashed segments between consecutive periods that have one.
  const targetPath = segments(points.map((point, index) => (point.target === null ? null : `${x(index)},${y(point.target)}`)));
  if (targetPath) parts.push(`<path d="${targetPath}" fill="none" stroke="${TARGET_COLOUR}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
  const valuePath = segments(points.map((point, index) => (point.value === null ? null : `${x(index)},${y(point.value)}`)));
  if (valuePath) parts.push(`<path d="${valuePath}" fill="none" stroke="${LINE_COLOUR}" stroke-width="1.6"/>`);
  points.forEach((point, index) => {
    if (point.value === null) return;
    const last = index === points.length - 1;
    parts.push(`<circle cx="${x(index)}" cy="${y(point.value)}" r="${last ? 3.6 : 2.6}" fill="${STATUS_COLOUR[point.status]}"${last ? ' stroke="#fff" stroke-width="1"' : ''}/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** An SVG path of line segments through consecutive non-null points ("M a L b M c ..."). */
function segments(points: (string | null)[]): string {
  let path = '';
  let drawing = false;
  for (const point of points) {
    if (point === null) {
      drawing = false;
      continue;
    }
    path += `${drawing ? 'L' : 'M'}${point}`;
    drawing = true;
  }
  // A lone point draws nothing as a line; its circle shows it.
  return path;
}

/** A relative lift with its 95 % CI on a symmetric scale around 0 (one scale for a whole table). */
export function intervalBar(lift: number | null, low: number | null, high: number | null, scale: number, significance: string | null): string {
  const width = 150;
  const height = 16;
  const pad = 6;
  const x = (value: number) => r1(width / 2 + (Math.max(-scale, Math.min(scale, value)) / scale) * (width / 2 - pad));
  const tone = significance === 'win' ? STATUS_COLOUR.met : significance === 'regression' ? STATUS_COLOUR.breached : LINE_COLOUR;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" class="ci" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-hidden="true">`];
  parts.push(`<line x1="${width / 2}" y1="1" x2="${width / 2}" y2="${height - 1}" stroke="#8c959f" stroke-dasharray="2 2"/>`);
  if (lift !== null && low !== null && high !== null) {
    parts.push(`<line x1="${x(low)}" y1="${height / 2}" x2="${x(high)}" y2="${height / 2}" stroke="${tone}" stroke-width="3" stroke-linecap="round"/>`);
    parts.push(`<circle cx="${x(lift)}" cy="${height / 2}" r="3.5" fill="#fff" stroke="${tone}" stroke-width="2"/>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal stacked bar of counts (incidents by severity), each part labelled in the legend. */
export function stackedBar(parts: { label: string; value: number; colour: string }[], width = 420): string {
  const total = parts.reduce((sum, part) => sum + part.value, 0);
  const height = 14;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" class="stacked" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-hidden="true">`];
  if (total === 0) out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#eaeef2" rx="3"/>`);
  let x = 0;
  for (const part of parts) {
    if (part.value === 0) continue;
    const w = r1((part.value / total) * width);
    out.push(`<rect x="${r1(x)}" y="0" width="${w}" height="${height}" fill="${part.colour}"/>`);
    x += (part.value / total) * width;
  }
  out.push('</svg>');
  return out.join('');
}
