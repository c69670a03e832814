# syntax=docker/dockerfile:1
# Build: docker build -t doctown-embedding-worker .
# Run:   docker run -p 8000:8000 doctown-embedding-worker

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY models/manifest.json ./models/manifest.json
RUN npx tsc -p . \
 # Fetched and verified against the manifest at build time, so the image never downloads while serving.
 && node dist/src/model/fetch.js --variant all \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0 \
    EMBEDDING_MODEL_VARIANT=fp32 \
    EMBEDDING_MIN_BATCH_SIZE=8 \
    EMBEDDING_MAX_BATCH_SIZE=64
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist/src ./dist/src
COPY --from=build --chown=node:node /app/models ./models
USER node
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/server.js"]
