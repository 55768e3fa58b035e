# The tests' whoami replica: portero's own image running its whoami stand-in
# (Traefik's whoami cannot be pulled here). The health check makes Swarm report a
# task running only once it answers, as a readiness gate.
ARG BASE=portero
FROM ${BASE}
HEALTHCHECK --interval=3s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:80/').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/demo/whoami.js", "80"]
