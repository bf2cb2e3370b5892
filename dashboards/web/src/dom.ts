/** A tiny element builder: text is always set as text, never parsed as HTML. */
import { formatForecast, formatOutlook, formatPercent, formatProbability, OUTLOOK_LABEL, STATUS_ICON, STATUS_LABEL, type Forecast, type Status, type Unit } from './format.ts';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = String(value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag: string, attrs: Record<string, string | number | null | undefined> = {}, ...children: (SVGElement | null)[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) element.setAttribute(key, String(value));
  for (const child of children) if (child) element.appendChild(child);
  return element;
}

/** A status as colour, icon AND text; carries data-status for tests and styling. */
export function statusBadge(status: Status) {
  return h('span', { class: `status status-${status}`, 'data-status': status }, h('span', { class: 'status-icon', 'aria-hidden': 'true' }, STATUS_ICON[status] ?? '?'), ' ', STATUS_LABEL[status] ?? status);
}

/** A forecast (SPEC 5c) as the scorecard and the KPI view show it: projected end, band, outlook and probability. */
export function forecastBadge(forecast: Forecast, unit: Unit) {
  return h(
    'span',
    { class: `forecast forecast-${forecast.outlook}`, 'data-outlook': forecast.outlook, title: `Projected end of the period with its 80 % band; ${formatOutlook(forecast)} (${formatPercent(forecast.elapsed, 0)} of the period elapsed)` },
    h('span', { class: 'forecast-value' }, `→ ${formatForecast(forecast, unit)}`),
    ' ',
    h('span', { class: 'forecast-outlook' }, `${OUTLOOK_LABEL[forecast.outlook]} ${formatProbability(forecast.probability_met)}`),
  );
}

export function notice(kind: 'info' | 'error' | 'unavailable', ...children: Child[]) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null }, ...children);
}
