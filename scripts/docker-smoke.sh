#!/usr/bin/env bash
# npm run docker:smoke — builds the image as `docker build` would, runs it as `docker run` would, and checks
# /health, /ready, one /embed and one /v1/embeddings from the host, the image's HEALTHCHECK, and a graceful stop
# (exit 0). The container runs as Kubernetes' hardened defaults would run it: read-only root filesystem with a tmpfs
# /tmp, all capabilities dropped, no privilege escalation, a non-root numeric user. Uses Docker when a daemon answers,
# else podman (see ../shared/docker-on-podman.md for podman on machines without Docker Hub: local base images, runc,
# ulimits). Prints the image size and the build time.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-doctown-embedding-worker:smoke}
HOSTPORT=${HOSTPORT:-18000}
BUILD_ARGS=()
if docker info >/dev/null 2>&1; then
  ENGINE=docker
elif command -v podman >/dev/null; then
  ENGINE=podman
  # Machines with hybrid cgroups refuse crun, and cannot raise rlimits: the same settings as the podman notes.
  if [ -z "${CONTAINERS_CONF:-}" ]; then
    conf=$(mktemp)
    printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n' >"$conf"
    export CONTAINERS_CONF=$conf
  fi
  # --format docker keeps HEALTHCHECK; --pull=never uses local base images when the registry is unreachable.
  BUILD_ARGS=(--format docker)
  podman image exists docker.io/library/node:20-slim && BUILD_ARGS+=(--pull=never)
else
  echo "docker:smoke: neither a Docker daemon nor podman is available" >&2
  exit 1
fi

# NO_CACHE=1 measures a cold build (every layer rebuilt; base images as they are locally).
[ "${NO_CACHE:-0}" = 1 ] && BUILD_ARGS+=(--no-cache)
echo "== $ENGINE build -t $IMAGE ."
start=$(date +%s)
$ENGINE build "${BUILD_ARGS[@]}" -t "$IMAGE" .
build_s=$(( $(date +%s) - start ))
size=$($ENGINE image inspect -f '{{.Size}}' "$IMAGE")
echo "== built in ${build_s} s; image size $(( size / 1000000 )) MB"

# The hardening flags mirror deploy/kubernetes/deployment.yaml's securityContext (readOnlyRootFilesystem with an emptyDir
# /tmp, capabilities drop ALL, allowPrivilegeEscalation false, runAsNonRoot).
HARDENED=(--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)
cid=$($ENGINE run -d "${HARDENED[@]}" -p "127.0.0.1:$HOSTPORT:8000" --memory 2g "$IMAGE")
echo "== $ENGINE run ${HARDENED[*]}"

cleanup() { $ENGINE rm -f "$cid" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() {
  echo "SMOKE FAILED: $*" >&2
  $ENGINE logs "$cid" 2>&1 | tail -40 >&2
  exit 1
}
url="http://127.0.0.1:$HOSTPORT"

for _ in $(seq 1 120); do
  [ "$($ENGINE inspect -f '{{.State.Running}}' "$cid")" = true ] || fail "the container exited"
  if curl -fsS "$url/health" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "$url/health" || fail "/health never answered 200"
echo
curl -fsS "$url/ready" || fail "/ready is not 200"
echo
curl -fsS -X POST "$url/embed" -H 'Content-Type: application/json' \
  -d '{"batch_id":"smoke","chunks":[{"chunk_id":"a","content":"def add(a, b): return a + b"}]}' >/tmp/docker-smoke-embed.json \
  || fail "/embed failed"
node -e '
  const r = JSON.parse(require("fs").readFileSync("/tmp/docker-smoke-embed.json", "utf8"));
  const v = r.vectors[0].vector;
  if (r.vectors.length !== 1 || v.length !== 384 || Math.abs(Math.hypot(...v) - 1) > 1e-4) { console.error("bad /embed response"); process.exit(1); }
  console.log("/embed: 1 vector of 384, norm 1, tokens", r.vectors[0].tokens);
' || fail "/embed returned a bad vector"
curl -fsS -X POST "$url/v1/embeddings" -H 'Content-Type: application/json' -d '{"model":"m","input":"hello"}' >/tmp/docker-smoke-v1.json \
  || fail "/v1/embeddings failed"
node -e '
  const r = JSON.parse(require("fs").readFileSync("/tmp/docker-smoke-v1.json", "utf8"));
  if (r.object !== "list" || r.data[0].embedding.length !== 384) { console.error("bad /v1/embeddings response"); process.exit(1); }
  console.log("/v1/embeddings: 1 vector of 384, prompt_tokens", r.usage.prompt_tokens);
' || fail "/v1/embeddings returned a bad response"
if [ "$ENGINE" = podman ]; then
  podman healthcheck run "$cid" && echo "HEALTHCHECK: healthy" || fail "the image's HEALTHCHECK failed"
fi
[ "$($ENGINE inspect -f '{{.Config.User}}' "$cid")" = 1000:1000 ] || fail "the container does not run as 1000:1000"
[ "$($ENGINE exec "$cid" id -u)" = 1000 ] || fail "the process does not run as uid 1000"
[ "$($ENGINE inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$cid")" = true ] || fail "the root filesystem is not read-only"
# /home/node belongs to the user, so only the read-only mount can refuse this write.
$ENGINE exec "$cid" touch /home/node/.write-probe 2>/dev/null && fail "the root filesystem accepted a write"
# The kernel's view of PID 1: no capabilities at all, and no_new_privs set.
status=$($ENGINE exec "$cid" cat /proc/1/status)
grep -qE '^CapEff:[[:space:]]+0+$' <<<"$status" || fail "PID 1 has capabilities: $(grep ^CapEff <<<"$status")"
grep -qE '^NoNewPrivs:[[:space:]]+1$' <<<"$status" || fail "PID 1 may gain privileges (NoNewPrivs is not 1)"
echo "== hardened: uid 1000, read-only root, CapEff 0, NoNewPrivs 1; /tmp holds: $($ENGINE exec "$cid" ls /tmp | tr '\n' ' ')"

$ENGINE stop -t 15 "$cid" >/dev/null
code=$($ENGINE inspect -f '{{.State.ExitCode}}' "$cid")
[ "$code" = 0 ] || fail "graceful stop exited $code"
echo "== graceful stop: exit 0"
echo "SMOKE OK (build ${build_s} s, image $(( size / 1000000 )) MB)"
