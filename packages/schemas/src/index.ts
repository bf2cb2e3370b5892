/**
 * The vocabulary every layer shares, each enumeration and schema defined here once: the pipeline
 * packages (kpi, alerts, storage, config, connectors) re-export what they use, the API contract
 * builds its routes from it, and the dashboard loads it in the browser. Pure by design: zod and
 * nothing else, no node: modules, no I/O. Marked free of side effects, so a bundle keeps only the
 * modules it uses (the dashboard: the zod-free enumerations of kpis.ts).
 */
export * from './kpis.ts';
export * from './forecast.ts';
export * from './alerts.ts';
export * from './access.ts';
export * from './webhooks.ts';
