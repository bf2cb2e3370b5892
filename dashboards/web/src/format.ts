// The shared formatting rules (packages/format): the dashboard writes numbers exactly as the reports do.
export * from '@kpi/format';
