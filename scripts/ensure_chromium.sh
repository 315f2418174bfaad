#!/bin/sh
# Run by `deno task test`: the dashboard test drives a real headless Chromium (Debian's package)
# and must never skip silently, so install it when we can and fail loudly when we cannot.
HINT="chromium is required for the dashboard browser test. Install it with: sudo apt-get update && sudo apt-get install -y chromium"

if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium && exit 0
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium && exit 0
  fi
fi

echo "$HINT" >&2
exit 1
