import { z } from 'zod';
import { TEAM_PATTERN } from '@kpi/events';
import { badRequest, ignored, rfc3339, unmappable, verifyBearer, type Mapped, type RawDelivery } from './connector.ts';
import { draftEvent } from './events.ts';
import { token } from './schema.ts';

export const greatExpectationsConfig = z.strictObject({ token });
export type GreatExpectationsConfig = z.infer<typeof greatExpectationsConfig>;

export const verifyGreatExpectations = (delivery: RawDelivery, config: GreatExpectationsConfig) => verifyBearer(delivery, config.token);

const count = z.int().min(0);
/** What the project's action (integrations/great_expectations) posts, built from a CheckpointResult. */
const checkpointBody = z.object({
  team: z.string(),
  run_id: z.string().min(1),
  run_time: z.string(),
  results: z.array(
    z
      .object({ suite: z.string().min(1), asset: z.string().min(1), success: z.boolean(), evaluated: count, successful: count })
      .refine((result) => result.successful <= result.evaluated, 'successful is more than evaluated'),
  ),
});

/** One data.validated per validation result of the checkpoint run (SPEC §8b). */
export function mapGreatExpectations(body: unknown): Mapped {
  const parsed = checkpointBody.safeParse(body);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    return badRequest(`not the checkpoint result the project's action posts: ${issue!.path.join('.') || '(root)'}: ${issue!.message}`);
  }
  const { team, run_id: runId, results } = parsed.data;
  const time = rfc3339(parsed.data.run_time);
  if (!time) return badRequest('run_time is not a timestamp');
  if (!TEAM_PATTERN.test(team)) return unmappable(`team ${JSON.stringify(team)} is not a team slug (the action's team parameter)`);
  if (results.length === 0) return ignored(`checkpoint run ${runId} validated nothing`);
  return {
    kind: 'events',
    events: results.map((result) => {
      const validationId = `gx:${runId}:${result.suite}:${result.asset}`;
      return draftEvent(
        'data.validated',
        { validation_id: validationId, dataset: result.asset, team, suite: result.suite, success: result.success, evaluated: result.evaluated, failed: result.evaluated - result.successful },
        { source: 'great_expectations', id: validationId, time },
      );
    }),
  };
}
