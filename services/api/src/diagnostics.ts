import { waitingForDefiningEvent, type Evaluation, type KpiDefinition } from '@kpi/kpi';
import type { Storage } from '@kpi/storage';

/** Why a number is what it is: what was left out, and why a value is null. */
export async function diagnose(storage: Storage, kpi: KpiDefinition, evaluation: Evaluation) {
  const waiting = await waitingForDefiningEvent(storage, kpi.source);
  const source = kpi.source;
  const defining = source.planning.kind === 'entity' ? source.planning.definingType : undefined;
  return {
    null_reason: evaluation.value === null ? String(evaluation.details.null_reason ?? 'no entities in this period and scope') : null,
    waiting_for_defining_event: {
      explanation: defining
        ? `${source.entity}s with events but no ${defining} yet: they have no team or tier and count in no KPI until it arrives`
        : `every ${source.eventTypes.join(', ')} event names its team and counts on its own`,
      total: waiting.total,
      entities: waiting.sample,
    },
  };
}
