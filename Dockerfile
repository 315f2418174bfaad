# The gateway on Deno. Build: docker build -t failover-gateway .
# Run:   docker run -p 8080:8080 -e OPENAI_API_KEY=... failover-gateway
FROM denoland/deno:2.9.6
WORKDIR /app
COPY deno.json deno.lock ./
COPY src/ src/
COPY actors/ actors/
RUN deno install --frozen --entrypoint src/main.ts
USER deno
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/healthz'); Deno.exit(r.ok ? 0 : 1)"]
CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "src/main.ts"]
