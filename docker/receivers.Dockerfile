# deploy/receivers.py (the demo's pager and Slack webhooks and SMTP sink) on Debian 12.
# Build context: the repository root (docker-compose.yml sets it).
FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-aiosmtpd \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/receivers.py /usr/local/bin/receivers.py
USER nobody
EXPOSE 9095 2525
CMD ["python3", "/usr/local/bin/receivers.py", "--listen-host", "0.0.0.0", "--http-port", "9095", \
     "--smtp-port", "2525", "--log", "/tmp/notifications.jsonl"]
