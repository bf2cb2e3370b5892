import type { AddressInfo } from 'node:net';
import type { RoleHandle, Runtime } from '@kpi/runtime';
import { buildApi } from './app.ts';
import { resolveTokens } from './access/tokens.ts';

export { buildApi, UNDOCUMENTED_ROUTES, type Api } from './app.ts';
export { resolveTokens, tokenName } from './access/tokens.ts';

export interface ApiHandle extends RoleHandle {
  url: string;
  /** The admin token generated because KPI_API_TOKENS is unset, to print at start-up. */
  generatedToken: string | undefined;
}

export async function startApiRole(runtime: Runtime): Promise<ApiHandle> {
  const { tokens, generated } = resolveTokens(runtime.config);
  const app = await buildApi({ runtime, tokens });
  // Connected ahead of the first POST /v1/events, which only waits so long for Kafka's acknowledgement.
  runtime.producer().catch((error: unknown) => runtime.log.warn({ err: error }, 'the Kafka producer could not connect yet; POST /v1/events tries again'));
  await app.listen({ host: runtime.config.http.host, port: runtime.config.http.port });
  const { port } = app.server.address() as AddressInfo;
  return {
    id: 'api',
    url: `http://localhost:${port}`,
    generatedToken: generated,
    stop: () => app.close(),
  };
}
