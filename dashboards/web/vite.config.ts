import { defineConfig } from 'vite';

// `pnpm --filter @kpi/dashboard dev` proxies the API to KPI_API_URL (default: the local stack).
const api = process.env.KPI_API_URL ?? 'http://localhost:8080';

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  server: { proxy: { '/v1': { target: api, changeOrigin: true } } },
  preview: { proxy: { '/v1': { target: api, changeOrigin: true } } },
});
