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
    /** The methods `path` answers, or none for a path no route has. */
    at(path: string): string[] {
      const methods = new Set<string>();
      for (const { pattern, methods: declared } of byPattern.values()) if (pattern.test(path)) declared.forEach((method) => methods.add(method));
      if (methods.has('GET')) methods.add('HEAD');
      return [...methods].sort();
    },
    /** Every (method, path) registered, HEAD routes included. */
    all: () => [...registered],
  };
}
