# syntax=docker/dockerfile:1

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The protocol package and the client SDK are npm workspaces: npm ci needs their package.json.
COPY protocol/package.json ./protocol/
COPY client/package.json ./client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY protocol ./protocol
COPY src ./src
COPY client ./client
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# espeak-ng: the embedded speech engine (TTS_PROVIDER=auto uses it when present); pocketsphinx: the
# embedded speech recognizer for voice input (ASR_PROVIDER=auto).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng pocketsphinx pocketsphinx-en-us \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=8000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
# node_modules/@agent-gateway/protocol links here.
COPY --from=build --chown=node:node /app/protocol/package.json ./protocol/
COPY --from=build --chown=node:node /app/protocol/dist ./protocol/dist
COPY --from=build --chown=node:node /app/dist ./dist
# The demo page the gateway serves at /.
COPY --from=build --chown=node:node /app/client/dist/demo ./client/dist/demo
USER node
EXPOSE 8000
# Ready: not draining, and Redis answering when REDIS_URL is set.
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:8000/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
