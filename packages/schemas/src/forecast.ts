import { z } from 'zod';

/** The final value a period under way is heading for (SPEC 5c), as the API serves it. */
export const forecastSchema = z.object({
  value: z.number().describe('the expected final value'),
  low: z.number().describe('10th percentile of the final value'),
  high: z.number().describe('90th percentile of the final value'),
  probability_met: z.number().min(0).max(1).describe('the probability that the final value meets the target'),
  outlook: z.enum(['on_track', 'at_risk']).describe('on_track when probability_met >= 0.5'),
  elapsed: z.number().min(0).max(1).describe('the fraction of the period elapsed'),
});
export type Forecast = z.output<typeof forecastSchema>;
