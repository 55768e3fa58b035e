# portero: a front door for Docker Swarm that speaks Traefik.
# NODE_IMAGE lets a machine without registry access build from a local base.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
EXPOSE 80 8080
# /ping answers 503 while draining, so orchestrators stop routing here first.
# Generous timeout and retries: the check starts a node process, which can take
# seconds on a saturated machine, and an unhealthy proxy task gets replaced.
HEALTHCHECK --interval=10s --timeout=10s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/ping').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# portero handles SIGTERM itself (drain, then exit 0), also as PID 1.
STOPSIGNAL SIGTERM
# A 2 MB young generation (V8's default grows to 16 MB per semi-space): the
# main thread builds large, long-lived tables, and the default kept ~40 MB
# of slack resident with 10,000 routers. Workers get the same through piscina.
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/src/cli.js"]
