# syntax=docker/dockerfile:1
# Build: compile TypeScript, then drop dev and optional dependencies (the embedded PostgreSQL is for
# development only; in a container, DATABASE_URL points at a real server).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# src/sandbox (the local GitHub and Identity Center, for tests and the demo) is not in the context
# (.dockerignore) nor in the build (tsconfig.build.json): only production code reaches dist/.
COPY src ./src
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --omit=optional --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
COPY schemas ./schemas
# The image's own files stay root-owned and read-only to the process, which runs as "node".
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli.js", "start"]
