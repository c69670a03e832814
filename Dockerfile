# syntax=docker/dockerfile:1
# Build: docker build -t doctown-embedding-worker .
# Run:   docker run -p 8000:8000 doctown-embedding-worker
#        docker run -p 8000:8000 -m 2g -e EMBEDDING_MAX_MEMORY_PERCENT=50 doctown-embedding-worker
# Hardened (as Kubernetes' restricted defaults run it; npm run docker:smoke checks it):
#        docker run --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges -p 8000:8000 doctown-embedding-worker

# 1. Compile, and fetch the model, verified against models/manifest.json, so the image never downloads while serving.
#    The int8 graph is made here from the fp32 one by scripts/quantize/quantize.py (Python, in a venv under models/.quantize
#    that stays in this stage; docs/MODEL.md, "int8").
# The stages that run `npm ci` can compile: better-sqlite3 (the cache's disk tier) installs a prebuilt binary from GitHub
# and, where GitHub is unreachable, builds from source with node-gyp, against the headers the Node image ships (nodedir)
# rather than ones downloaded from nodejs.org.
FROM node:20-slim AS toolchain
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv make g++ && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local

FROM toolchain AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/quantize ./scripts/quantize
COPY models/manifest.json ./models/manifest.json
RUN npx tsc -p . && node dist/src/model/fetch.js --variant all

# 2. Production dependencies only; onnxruntime-node's binaries for other platforms (about 220 MB) removed.
FROM toolchain AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && arch="$(node -p 'process.arch')" \
 && cd node_modules/onnxruntime-node/bin/napi-v6 \
 && find . -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find linux -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + \
 && npm cache clean --force

# 3. The image: no compiler, no dev dependencies, no npm cache; runs as the unprivileged `node` user. Nothing under / is
#    written at run time, so the root filesystem may be read-only; only /tmp is written to (a tmpfs is enough):
#    onnxruntime-node 1.30 creates an empty /tmp/mat-debug-<pid>.log in every process that loads it.
FROM node:20-slim
# Defaults live in src/config.ts (and the README table generated from it); none is restated here.
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/dist/src ./dist/src
COPY --from=build --chown=root:root /app/models/manifest.json ./models/manifest.json
COPY --from=build --chown=root:root /app/models/all-MiniLM-L6-v2 ./models/all-MiniLM-L6-v2
# Numeric (node:20-slim's `node` is 1000:1000) so that Kubernetes' runAsNonRoot can verify it without a runAsUser.
USER 1000:1000
EXPOSE 8000
# node is PID 1 and handles SIGTERM itself: /ready turns 503, requests in flight finish, exit 0 (docker stop waits 10 s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||process.env.EMBEDDING_PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--expose-gc", "dist/src/server.js"]
