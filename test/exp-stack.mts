import { makeEvent } from '@kpi/events';
import { startStack, waitReady } from './support/stack.ts';
import { setTimeout as sleep } from 'node:timers/promises';
const stack = await startStack();
console.log(stack.dataDir);
await waitReady(stack);
console.log('ready');
const r = await stack.request('/v1/events', { method: 'POST', body: [makeEvent('survey.response', { team: 'platform', score: 5 }, { time: '2026-03-10T10:00:00Z' }), makeEvent('survey.response', { team: 'platform', score: 4 }, { time: '2026-03-11T10:00:00Z' })] });
console.log(r.status);
for (;;) { const v = await stack.request('/v1/kpis/stakeholder_satisfaction/values?granularity=month&from=2026-03-01&to=2026-04-01'); if (v.body.values[0].value === 4.5) break; await sleep(200); }
console.log('value');
const t = Date.now();
stack.child.kill('SIGTERM');
console.log('exit', await stack.exited, Date.now() - t);
