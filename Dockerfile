# wa-connd gateway image. Multi-stage: dependencies are installed (with the build
# tools some native modules need) in one stage, and only the app and its production
# node_modules are copied into a slim runtime stage that runs as a non-root user.
# The TypeScript sources run through tsx (a production dependency), as `npm start` does.

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    WA_CONND_DATA_DIR=/data \
    WA_CONND_HTTP_HOST=0.0.0.0 \
    WA_CONND_HTTP_PORT=8080 \
    NATS_URL=nats://nats:4222
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY machines ./machines
COPY src ./src
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
