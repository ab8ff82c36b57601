# stagecoach, the daemon, as an image.
#
#   docker build -t stagecoach .
#   docker run -d --name stagecoach --init \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v stagecoach-data:/data -p 127.0.0.1:7420:7420 \
#     stagecoach run --repo https://git.example.com/ops/config.git
#
# * The daemon runs as the unprivileged user `node` (uid 1000). It talks to the
#   engine through the mounted socket, so that user must be in the socket's
#   group: `--group-add $(stat -c %g /var/run/docker.sock)`, as above (on
#   Debian the socket is root:docker, mode 660). Anyone who can use that socket
#   is root on the host in all but name: so is this container.
# * State (the clone of the config repo, the seeded example) lives in /data, a
#   volume. A named volume starts out owned by `node`; for a bind mount, chown
#   the host folder to 1000 first.
# * `--init` reaps the git processes the daemon starts; without it, orphaned
#   helpers can linger as zombies under PID 1.
# * Without --repo the daemon follows the bundled example. Its manifests
#   publish host ports 18080-18082 and its HTTP tests ask 127.0.0.1, which in a
#   container is the container itself: run the example with `--network host`.
# * HEALTHCHECK asks /healthz on the port of STAGECOACH_LISTEN (default 7420).
#   Change the port with `-e STAGECOACH_LISTEN=0.0.0.0:PORT`, not `run
#   --listen`, or the health check keeps asking 7420.
#
# Base image. On machines where no registry answers (the ones this project is
# built on), `bash scripts/build-node-base.sh` first makes a local stand-in of
# the same name from the host's node, npm and git; this file works with both.
# Build with the classic builder or BuildKit alike (no BuildKit-only syntax).
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# deps: every dependency, from the lockfile. Scripts are skipped: nothing here
# needs a native build (ssh2 falls back to pure JS without cpu-features), and
# `prepare` would compile before the sources are in. This is the one step that
# needs the npm registry (reachable from containers here; the local stand-in
# trusts the host's CA bundle, so a TLS-intercepting egress proxy works too).
FROM ${NODE_IMAGE} AS deps
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts

# prod-deps: production dependencies only, from the npm cache the step above
# filled (no second download).
FROM deps AS prod-deps
RUN npm ci --omit=dev --ignore-scripts --prefer-offline

# build: TypeScript to dist/.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# The build also compiles the schemas into standalone validators (scripts/build-schemas.mjs).
COPY schemas/ schemas/
COPY scripts/build-schemas.mjs scripts/bundle-cli.mjs scripts/bundle-policy.mjs scripts/
RUN npm run build

# ---------------------------------------------------------------------------
# runtime
FROM ${NODE_IMAGE}
# simple-git runs the `git` binary (https/ssh remotes need CA certificates and
# ssh). The real node:*-slim images have no git; the local stand-in does.
RUN if ! command -v git >/dev/null 2>&1; then \
      apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git ca-certificates openssh-client \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && git --version \
    && mkdir -p /data \
    && chown node:node /data

ENV NODE_ENV=production \
    STAGECOACH_DATA=/data \
    STAGECOACH_LISTEN=0.0.0.0:7420

WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY bin/ bin/
COPY schemas/ schemas/
COPY environments/ environments/

LABEL org.opencontainers.image.title="stagecoach" \
      org.opencontainers.image.description="GitOps delivery daemon for Docker hosts; needs the Docker socket (-v /var/run/docker.sock:/var/run/docker.sock --group-add <its gid>)" \
      org.opencontainers.image.licenses="MIT"

USER node
VOLUME /data
EXPOSE 7420
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.STAGECOACH_LISTEN||'').split(':').pop()||'7420';fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The node flags of `npm start` (README, "Memory"): a 1 MB young generation, no V8 helper threads, and a full GC after each deploy keep an idle daemon small.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--single-threaded", "--expose-gc", "/app/bin/stagecoach.js"]
CMD ["run"]
