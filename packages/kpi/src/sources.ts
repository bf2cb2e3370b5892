import { experiments } from './experiments/rows.ts';
import { incidents } from './incidents/rows.ts';
import { releases } from './releases/rows.ts';
import { assetReuses, dataValidations, datasetArrivals, mentorships, modelEvaluations, servingWindows, surveyResponses, trainingRuns, triagedAlerts, workItems } from './signals/rows.ts';
import type { Source } from './source.ts';

const sources = {
  releases,
  incidents,
  experiments,
  servingWindows,
  datasetArrivals,
  dataValidations,
  surveyResponses,
  triagedAlerts,
  trainingRuns,
  modelEvaluations,
  workItems,
  mentorships,
  assetReuses,
};

export type SourceName = keyof typeof sources;

/** Every source of KPI rows, by name. */
export const SOURCES: Readonly<Record<SourceName, Source>> = sources;
