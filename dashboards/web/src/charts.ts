/** Charts: uPlot for a KPI over periods (with its target line), small SVG sparklines and CI bars. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { svg } from './dom.ts';
import { formatAxis, formatPeriod, formatValue, type Granularity, type Status, type Unit } from './format.ts';
import type { KpiValue } from '@kpi/api-contract';

export const STATUS_COLOUR: Record<Status, string> = { met: '#1a7f37', breached: '#c62828', no_target: '#4a5b8c', no_data: '#8a8f98' };

/** A sparkline of the last periods; gaps where the API has no value. Drawing only: values are scaled to pixels. */
export function sparkline(points: { value: number | null; status: Status; label: string }[], width = 120, height = 28): SVGElement {
  const pad = 4;
  const numbers = points.map((p) => p.value).filter((v): v is number => v !== null);
  const root = svg('svg', { class: 'sparkline', width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true', focusable: 'false' });
  root.appendChild(svg('title', {})).textContent = points.map((p) => `${p.label}: ${p.value === null ? 'no value' : p.value}`).join('\n');
  if (numbers.length === 0) {
    root.appendChild(svg('line', { x1: pad, x2: width - pad, y1: height / 2, y2: height / 2, class: 'spark-empty' }));
    return root;
  }
  const lo = Math.min(...numbers);
  const hi = Math.max(...numbers);
  const x = (i: number) => (points.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v: number) => (hi === lo ? height / 2 : height - pad - ((v - lo) * (height - 2 * pad)) / (hi - lo));
  let segment: string[] = [];
  const flush = () => {
    if (segment.length > 1) root.appendChild(svg('polyline', { points: segment.join(' '), class: 'spark-line' }));
    segment = [];
  };
  points.forEach((p, i) => {
    if (p.value === null) return flush();
    segment.push(`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
  });
  flush();
  points.forEach((p, i) => {
    if (p.value === null) return;
    const last = i === points.length - 1;
    root.appendChild(svg('circle', { cx: x(i).toFixed(1), cy: y(p.value).toFixed(1), r: last ? 3 : 1.8, fill: last ? STATUS_COLOUR[p.status] : '#5b6575' }));
  });
  return root;
}

/** The primary lift and its 95 % interval on a shared symmetric scale around 0 (drawing only). */
export function intervalBar(lift: number | null, low: number | null, high: number | null, scale: number, tone: string, width = 150, height = 18): SVGElement {
  const root = svg('svg', { class: 'ci-bar', width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true', focusable: 'false' });
  const x = (v: number) => Math.max(2, Math.min(width - 2, width / 2 + (v / scale) * (width / 2 - 4)));
  root.appendChild(svg('line', { x1: width / 2, x2: width / 2, y1: 1, y2: height - 1, class: 'ci-zero' }));
  if (low !== null && high !== null) {
    root.appendChild(svg('rect', { x: x(low), y: height / 2 - 3, width: Math.max(1, x(high) - x(low)), height: 6, rx: 3, fill: tone, 'fill-opacity': '0.35', stroke: tone }));
  }
  if (lift !== null) root.appendChild(svg('circle', { cx: x(lift), cy: height / 2, r: 3.5, fill: tone }));
  return root;
}

export interface KpiChart {
  destroy(): void;
}

const PROJECTION = { on_track: '#1a7f37', at_risk: '#c62828' } as const;

type ChartOptions = { unit: Unit; granularity: Granularity; name: string; selected: number; onSelect(index: number): void };

/** The selected period: a light band. */
function drawSelection(u: uPlot, selected: number, count: number) {
  if (selected < 0 || selected >= count) return;
  const ctx = u.ctx;
  const left = u.valToPos(selected - 0.5, 'x', true);
  const right = u.valToPos(selected + 0.5, 'x', true);
  ctx.save();
  ctx.fillStyle = 'rgba(29, 78, 216, 0.08)';
  ctx.fillRect(Math.max(u.bbox.left, left), u.bbox.top, Math.min(u.bbox.left + u.bbox.width, right) - Math.max(u.bbox.left, left), u.bbox.height);
  ctx.restore();
}

/** The projected end of the period at `i` (a hollow point, dashed to the value so far) and its 80 % band (a bar). */
function drawProjection(u: uPlot, v: KpiValue, i: number, ratio: number) {
  if (!v.forecast) return;
  const ctx = u.ctx;
  const { value, low, high, outlook } = v.forecast;
  const cx = u.valToPos(i, 'x', true);
  const half = Math.max(4 * ratio, u.valToPos(i + 0.18, 'x', true) - cx);
  ctx.save();
  ctx.fillStyle = outlook === 'at_risk' ? 'rgba(198, 40, 40, 0.16)' : 'rgba(26, 127, 55, 0.16)';
  ctx.strokeStyle = PROJECTION[outlook];
  ctx.lineWidth = 1.5 * ratio;
  const top = u.valToPos(high, 'y', true);
  const bottom = u.valToPos(low, 'y', true);
  ctx.fillRect(cx - half, top, 2 * half, Math.max(2 * ratio, bottom - top));
  ctx.strokeRect(cx - half, top, 2 * half, Math.max(2 * ratio, bottom - top));
  if (v.value !== null) {
    ctx.setLineDash([4 * ratio, 3 * ratio]);
    ctx.beginPath();
    ctx.moveTo(cx, u.valToPos(v.value, 'y', true));
    ctx.lineTo(cx, u.valToPos(value, 'y', true));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.fillStyle = '#fff';
  ctx.beginPath();
  ctx.arc(cx, u.valToPos(value, 'y', true), 5 * ratio, 0, Math.PI * 2);
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

/** The value of the period at `i`, coloured by status: a diamond when breached, else a dot. */
function drawValuePoint(u: uPlot, v: KpiValue, i: number, ratio: number) {
  if (v.value === null) return;
  const ctx = u.ctx;
  const cx = u.valToPos(i, 'x', true);
  const cy = u.valToPos(v.value, 'y', true);
  const r = 4.5 * ratio;
  ctx.save();
  ctx.fillStyle = STATUS_COLOUR[v.status];
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 1.5 * ratio;
  ctx.beginPath();
  if (v.status === 'breached') {
    ctx.moveTo(cx, cy - r * 1.3);
    ctx.lineTo(cx + r * 1.3, cy);
    ctx.lineTo(cx, cy + r * 1.3);
    ctx.lineTo(cx - r * 1.3, cy);
    ctx.closePath();
  } else {
    ctx.arc(cx, cy, r, 0, Math.PI * 2);
  }
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

/** The y range: the values, the forecasts' bands, 0 for units that cannot go below it and [0, 1] for ratios, padded by 8 %. */
function valueRange(unit: Unit, bands: number[]): uPlot.Range.Function {
  const nonNegative = !['correlation', 'relative_lift'].includes(unit);
  return (_u, min, max) => {
    if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, unit === 'ratio' ? 1 : 1];
    let lo = Math.min(nonNegative ? Math.min(0, min) : min, ...bands);
    let hi = Math.max(unit === 'ratio' ? Math.max(1, max) : max, ...bands);
    if (lo === hi) hi = lo + 1;
    const padding = (hi - lo) * 0.08;
    return [nonNegative && lo === 0 ? 0 : lo - padding, hi + padding];
  };
}

/** uPlot's options for a KPI's series: the value, the stepped target and the projected end (drawn by the draw hook). */
function chartOptions(container: HTMLElement, values: KpiValue[], options: ChartOptions, labels: string[], xs: number[]): uPlot.Options {
  const { unit } = options;
  // The band's ends belong on the scale too.
  const bands = values.flatMap((v) => (v.forecast ? [v.forecast.low, v.forecast.high] : []));
  const drawMarkers = (u: uPlot) => {
    const ratio = devicePixelRatio || 1;
    drawSelection(u, options.selected, values.length);
    values.forEach((v, i) => drawProjection(u, v, i, ratio));
    values.forEach((v, i) => drawValuePoint(u, v, i, ratio));
  };
  return {
    width: Math.max(320, container.clientWidth),
    height: 260,
    title: undefined,
    scales: { x: { time: false, range: () => [-0.5, Math.max(0.5, values.length - 0.5)] }, y: { range: valueRange(unit, bands) } },
    series: [
      { label: 'Period', value: (_u, i) => (i === null ? '' : (labels[i] ?? '')) },
      { label: options.name, stroke: '#1d4ed8', width: 2, spanGaps: false, points: { show: false }, value: (_u, v) => formatValue(v, unit) },
      {
        label: 'Target',
        stroke: '#6b2c2c',
        width: 1.5,
        dash: [6, 4],
        spanGaps: false,
        points: { show: false },
        paths: uPlot.paths.stepped!({ align: 1, extend: true }),
        value: (_u, v) => (v === null ? 'none' : formatValue(v, unit)),
      },
      // Drawn by drawMarkers (point, band); a series so the legend and the cursor name it.
      { label: 'Projected end', stroke: '#1d4ed8', width: 0, paths: () => null, points: { show: false }, value: (_u, v) => (v === null ? '—' : formatValue(v, unit)) },
    ],
    axes: [
      {
        splits: () => xs,
        values: (_u, splits) => {
          const every = Math.ceil(splits.length / Math.max(1, Math.floor((container.clientWidth || 600) / 80)));
          return splits.map((s, i) => ((splits.length - 1 - i) % every === 0 ? (labels[s] ?? '') : ''));
        },
        grid: { show: false },
      },
      { values: (_u, splits) => splits.map((s) => formatAxis(s, unit)), size: 70, grid: { stroke: '#e5e7eb' } },
    ],
    cursor: { drag: { x: false, y: false }, points: { size: 8 } },
    legend: { show: true },
    hooks: { draw: [drawMarkers] },
  };
}

/**
 * A KPI's values over periods with the target each was judged against (stepped, dashed), points
 * coloured and shaped by status, and for the period under way its projected end (a hollow point,
 * joined to the value so far) with the 80 % band (a bar), coloured by outlook.
 */
export function kpiChart(container: HTMLElement, values: KpiValue[], options: ChartOptions): KpiChart {
  const labels = values.map((v) => formatPeriod(v.period_start, options.granularity));
  const xs = values.map((_, i) => i);
  const ys = values.map((v) => v.value);
  const targets = values.map((v) => v.target);
  const projected = values.map((v) => v.forecast?.value ?? null);
  const plot = new uPlot(chartOptions(container, values, options, labels, xs), [xs, ys as (number | null)[], targets as (number | null)[], projected], container);
  plot.over.addEventListener('click', () => {
    const index = plot.cursor.idx;
    if (index !== null && index !== undefined) options.onSelect(index);
  });
  plot.over.title = 'Click a period to see its breakdown';
  const observer = new ResizeObserver(() => {
    const width = Math.max(320, container.clientWidth);
    if (Math.abs(width - plot.width) > 2) plot.setSize({ width, height: 260 });
  });
  observer.observe(container);
  return {
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}
