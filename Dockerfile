# syntax=docker/dockerfile:1
# The gatekeeper image: `docker build -t gatekeeper .` at the repository root.
#
# build:   npm ci (dev dependencies: TypeScript) and npm run build, then the production dependencies alone.
# runtime: node, the built packages, their production node_modules and the OAGF policy library; no compiler, no
#          sources, no npm cache. Runs as an unprivileged numeric user (Kubernetes runAsNonRoot can check it) with a
#          read-only root filesystem: everything it writes goes to /var/lib/gatekeeper (a volume) and /tmp.
# Configuration and keys are mounted at run time (/etc/gatekeeper): nothing secret is in the image.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# The npm major the lockfile is written with.
RUN npm install -g npm@11 --no-audit --no-fund
WORKDIR /src
# Manifests and bin shims first: the dependency layer is rebuilt only when they change (npm links bins at install).
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/rego/package.json packages/rego/
COPY packages/rego/bin packages/rego/bin
COPY packages/ledger/package.json packages/ledger/
COPY packages/ledger/bin packages/ledger/bin
COPY packages/sandbox/package.json packages/sandbox/
COPY packages/sandbox/bin packages/sandbox/bin
COPY packages/gatekeeper/package.json packages/gatekeeper/
COPY packages/gatekeeper/bin packages/gatekeeper/bin
RUN npm ci --no-audit --no-fund
COPY packages packages
RUN npm run build
# Production dependencies only, for the runtime stage.
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    GATEKEEPER_HEALTH_URL=http://127.0.0.1:8787/healthz
RUN groupadd --system --gid 10001 gatekeeper \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/gatekeeper --no-create-home --shell /usr/sbin/nologin gatekeeper \
 && mkdir -p /var/lib/gatekeeper /etc/gatekeeper \
 && chown 10001:10001 /var/lib/gatekeeper
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/packages/rego/package.json packages/rego/
COPY --from=build /src/packages/rego/dist packages/rego/dist
COPY --from=build /src/packages/ledger/package.json packages/ledger/
COPY --from=build /src/packages/ledger/dist packages/ledger/dist
COPY --from=build /src/packages/sandbox/package.json packages/sandbox/
COPY --from=build /src/packages/sandbox/dist packages/sandbox/dist
COPY --from=build /src/packages/gatekeeper/package.json packages/gatekeeper/
COPY --from=build /src/packages/gatekeeper/dist packages/gatekeeper/dist
# The approval console's browser files are served from the sources' folder (tsc does not copy them).
COPY --from=build /src/packages/gatekeeper/src/approvals/console/static packages/gatekeeper/src/approvals/console/static
COPY policies /usr/share/gatekeeper/policies
# Ledger (SQLite), approvals and witness state: keep it on a volume, never in the container's layer.
VOLUME ["/var/lib/gatekeeper"]
USER 10001:10001
EXPOSE 8787
# Liveness, as /healthz answers it (readiness, /readyz, is for the load balancer: a replica without its store is alive).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.GATEKEEPER_HEALTH_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/packages/gatekeeper/dist/cli.js"]
CMD ["serve", "--config", "/etc/gatekeeper/gatekeeper.yaml"]
