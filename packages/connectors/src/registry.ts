import { isObject, str } from './connector.ts';
import type { MlflowRegistry, RegistryTags } from './mlflow.ts';

/** How long tags read from the registry are reused (tag webhooks forget them sooner). */
const TTL_MS = 60_000;
const TIMEOUT_MS = 5_000;

export class RegistryUnavailable extends Error {
  override name = 'RegistryUnavailable';
}

const tagsOf = (value: unknown): Record<string, string> =>
  Object.fromEntries((Array.isArray(value) ? value : []).filter(isObject).map((tag) => [str(tag.key) ?? '', String(tag.value ?? '')]).filter(([key]) => key !== ''));

/**
 * The MLflow model registry over its REST API (`model-versions/get`, `registered-models/get`), an
 * MLflow server's or a Databricks workspace's (with its token), with tags cached for a minute per
 * version and per model: a deploy burst reads each once. Anything but an answer (refused, timed
 * out, 5xx) throws RegistryUnavailable so the delivery is retried rather than mapped without its team.
 */
export function mlflowRegistry(trackingUri: string, token?: string, fetchImpl: typeof fetch = fetch): MlflowRegistry {
  const cache = new Map<string, { at: number; tags: Promise<Record<string, string>> }>();
  const get = async (path: string, params: Record<string, string>, field: string) => {
    const url = `${trackingUri}/api/2.0/mlflow/${path}?${new URLSearchParams(params)}`;
    let response: Response;
    try {
      response = await fetchImpl(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    } catch (error) {
      throw new RegistryUnavailable(`MLflow registry at ${trackingUri} unreachable: ${(error as Error).message}`);
    }
    if (!response.ok) throw new RegistryUnavailable(`MLflow registry at ${trackingUri} answered ${response.status} to ${path}`);
    const body = (await response.json()) as Record<string, unknown>;
    return tagsOf(isObject(body[field]) ? (body[field] as Record<string, unknown>).tags : undefined);
  };
  const cached = (key: string, read: () => Promise<Record<string, string>>) => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.tags;
    const tags = read();
    cache.set(key, { at: Date.now(), tags });
    tags.catch(() => cache.delete(key));
    return tags;
  };
  return {
    async tags(name, version): Promise<RegistryTags> {
      const [versionTags, modelTags] = await Promise.all([
        cached(`v|${name}|${version}`, () => get('model-versions/get', { name, version }, 'model_version')),
        cached(`m|${name}`, () => get('registered-models/get', { name }, 'registered_model')),
      ]);
      return { version: versionTags, model: modelTags };
    },
    forget(name, version) {
      cache.delete(`m|${name}`);
      if (version !== undefined) cache.delete(`v|${name}|${version}`);
    },
  };
}
