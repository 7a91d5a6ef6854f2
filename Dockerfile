# syntax=docker/dockerfile:1
# Multi-stage build: the build stage compiles exactly what `npm start` runs (tsc → dist/); the runtime stage
# carries production dependencies only, runs as a non-root user, and keeps all state in the /app/state volume.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    BIND_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY ops ./ops
RUN groupadd --system bosun && useradd --system --gid bosun --home /app bosun \
    && mkdir -p /app/state && chown -R bosun:bosun /app/state /app/ops
USER bosun
VOLUME ["/app/state"]
EXPOSE 8002 8003 8009 8010 8011
HEALTHCHECK --interval=10s --timeout=2s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.ENGINE_PORT||8003)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Same entry as `npm start` (whose prestart step only builds).
CMD ["node", "dist/main.bundle.mjs"]
