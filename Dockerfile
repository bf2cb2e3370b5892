# One image for every role: `node services/ingest`, `node services/worker`, `node services/api`.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
RUN npm install -g pnpm@10
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.json ./
COPY packages ./packages
COPY services ./services
COPY infra/package.json infra/package.json
COPY infra/src infra/src
RUN pnpm install --frozen-lockfile
USER node
EXPOSE 8080
CMD ["node", "services/api"]
