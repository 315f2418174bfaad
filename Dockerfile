# The gateway on Deno, as a small non-root container.
#   docker build -t failover-gateway .
#   docker run -p 8080:8080 -e OPENAI_API_KEY \
#     -v "$PWD/examples/compose/gateway.json:/etc/gateway/gateway.json:ro" failover-gateway
# `docker compose up --build` (compose.yaml) adds nats-server with JetStream for the events.
FROM denoland/deno:2.9.6

WORKDIR /app
# The image's own user (uid 1993) owns the module cache (DENO_DIR=/deno-dir); the code stays root's.
COPY deno.json deno.lock ./
COPY src/ src/
COPY actors/ actors/
USER deno
# Exactly the committed lock: fails the build if deno.json and deno.lock disagree.
RUN deno install --frozen --entrypoint src/main.ts

# Without a config file the gateway makes one provider per API key found in the environment;
# mount gateway.json under /etc/gateway to use one (the only path it may read).
ENV PORT=8080 \
    DENO_NO_UPDATE_CHECK=1
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["deno", "eval", "--no-config", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8080}/healthz`).catch(() => null); Deno.exit(r?.ok ? 0 : 1)"]
# SIGTERM (docker stop) drains: new requests get 503, in-flight requests and streams finish (up to
# 10 s), events are flushed to NATS, exit 0. Give `docker stop` at least 15 s (-t 15).
STOPSIGNAL SIGTERM
CMD ["deno", "run", "--cached-only", "--frozen", "--allow-net", "--allow-env", "--allow-read=/etc/gateway,src,actors", "src/main.ts"]
