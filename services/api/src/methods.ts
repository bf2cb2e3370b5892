import type { RouteOptions } from 'fastify';

/**
 * The routes registered, as fastify's onRoute hook sees them: the methods each path answers (for
 * 405 Method Not Allowed with an `Allow` header) and the list a test compares with the contract.
 * Wildcard routes (the dashboard's files) know no methods.
 */
export function routeTable() {
  const byPattern = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  const registered: { method: string; url: string }[] = [];
  return {
    /** The onRoute hook that records each route. */
    record(route: RouteOptions) {
      const { url } = route;
      for (const method of [route.method].flat()) registered.push({ method, url });
      if (!url || url.includes('*')) return;
      const entry = byPattern.get(url) ?? { pattern: new RegExp(`^${url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`), methods: new Set<string>() };
      for (const method of [route.method].flat()) entry.methods.add(method);
      byPattern.set(url, entry);
    },
    /**
     * The methods `path` answers, or none for a path no route has. A path that is a route's own
     * (no parameters) is that resource alone, as in OpenAPI: /v1/webhooks/deliveries does not
     * take the POST of /v1/webhooks/:connector.
     */
    at(path: string): string[] {
      const methods = new Set<string>();
      const exact = path.includes(':') ? undefined : byPattern.get(path);
      const matching = exact ? [exact] : [...byPattern.values()].filter(({ pattern }) => pattern.test(path));
      for (const { methods: declared } of matching) declared.forEach((method) => methods.add(method));
      if (methods.has('GET')) methods.add('HEAD');
      return [...methods].sort();
    },
    /** Every (method, path) registered, HEAD routes included. */
    all: () => [...registered],
  };
}
