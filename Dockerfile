# One image for every role: `node services/ingest`, `node services/worker`, `node services/api`.
FROM node:20-bookworm-slim
# Chromium renders report PDFs.
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN npm install -g pnpm@10
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.json ./
COPY bench/package.json bench/package.json
COPY test/package.json test/package.json
COPY packages ./packages
COPY services ./services
COPY dashboards/web ./dashboards/web
COPY infra/package.json infra/package.json
COPY infra/src infra/src
COPY scripts ./scripts
# The build tools (vite, esbuild) are devDependencies: install everything, build, then keep
# only what runs.
RUN pnpm install --frozen-lockfile && pnpm --filter @kpi/dashboard build && pnpm build && pnpm prune --prod
ENV NODE_ENV=production
USER node
EXPOSE 8080
CMD ["node", "services/api"]
