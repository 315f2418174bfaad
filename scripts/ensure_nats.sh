#!/bin/sh
# Run by `deno task test`: the integration tests need a real nats-server and must never skip
# silently, so install it when we can and fail loudly when we cannot.
HINT="nats-server is required for the integration tests. Install it with: sudo apt-get update && sudo apt-get install -y nats-server"

# /usr/sbin is where Debian puts it, and often not on a normal user's PATH.
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update && apt-get install -y nats-server && exit 0
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update && sudo apt-get install -y nats-server && exit 0
  fi
fi

echo "$HINT" >&2
exit 1
