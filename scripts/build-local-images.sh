#!/usr/bin/env bash
# Makes sure the image busybox:1.35 exists in the local Docker engine, and
# (through scripts/build-proxy-image.sh) the edge proxy image haproxy:2.6-alpine.
#
# The integration tests (and the example environments) run containers from
# busybox:1.35. On these machines no public registry is reachable, so when the
# image is missing and a pull fails we build a same-named stand-in from
# Debian's static busybox (package busybox-static, busybox 1.35.x, so the tag
# is honest): FROM scratch + /bin/busybox + its applet symlinks.
#
# Idempotent: if the image is already there, it says so and exits 0.
#
# Environment:
#   BUSYBOX_IMAGE          image to ensure (default busybox:1.35)
#   BUSYBOX_PULL_TIMEOUT   seconds allowed for `docker pull` (default 20;
#                          0 skips the pull attempt)
set -euo pipefail

IMAGE="${BUSYBOX_IMAGE:-busybox:1.35}"
PULL_TIMEOUT="${BUSYBOX_PULL_TIMEOUT:-20}"
DESC_LABEL="org.opencontainers.image.description"

say() { printf '[build-local-images] %s\n' "$*"; }
die() { printf '[build-local-images] ERROR: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker client is not installed (apt-get install docker.io)"
if ! docker info >/dev/null 2>&1; then
  die "no Docker engine answers (start one: apt-get install -y docker.io && dockerd >/var/log/dockerd.log 2>&1 &)"
fi

# 0. The edge proxy image (haproxy:2.6-alpine) that fronts services with a
#    fixed host port: pulled, or built locally by its sibling script.
bash "$(dirname "$0")/build-proxy-image.sh"

# 1. Already there?
# Stand-ins of an older layout (no /tmp, /etc) are rebuilt; a pulled image is kept.
STANDIN_LAYOUT=2  # keep equal to standinLayout in src/runtime/ensure-image.ts (stagecoach run builds the same stand-in)
existing_layout="$(docker image inspect --format '{{ index .Config.Labels "io.stagecoach.standin-layout" }}' "$IMAGE" 2>/dev/null || true)"
is_standin="$(docker image inspect --format '{{ index .Config.Labels "io.stagecoach.local-standin" }}' "$IMAGE" 2>/dev/null || true)"
if [[ "$is_standin" == "true" && "$existing_layout" != "$STANDIN_LAYOUT" ]]; then
  say "$IMAGE is an older local stand-in (layout ${existing_layout:-1}); rebuilding it."
  docker image rm -f "$IMAGE" >/dev/null
fi
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  desc="$(docker image inspect --format "{{ index .Config.Labels \"$DESC_LABEL\" }}" "$IMAGE" 2>/dev/null || true)"
  id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
  if [[ -n "$desc" && "$desc" != "<no value>" ]]; then
    say "$IMAGE already exists (${id:7:12}): $desc. Nothing to do."
  else
    say "$IMAGE already exists (${id:7:12}). Nothing to do."
  fi
  exit 0
fi

CTX="$(mktemp -d -t stagecoach-busybox.XXXXXX)"
trap 'rm -rf "$CTX"' EXIT

# 2. Try the registry, briefly.
if [[ "$PULL_TIMEOUT" != "0" ]]; then
  say "$IMAGE is missing; trying 'docker pull $IMAGE' (timeout ${PULL_TIMEOUT}s)..."
  if timeout "$PULL_TIMEOUT" docker pull --quiet "$IMAGE" >/dev/null 2>"$CTX/pull.log"; then
    say "pulled $IMAGE from the registry."
    exit 0
  fi
  reason="$(tail -n 1 "$CTX/pull.log" 2>/dev/null || true)"
  say "pull failed (no registry reachable${reason:+: $reason})."
else
  say "$IMAGE is missing; pull attempt skipped (BUSYBOX_PULL_TIMEOUT=0)."
fi

# 3. Build a stand-in from Debian's busybox-static.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
  if [[ "$(id -u)" != "0" ]]; then
    die "package busybox-static is not installed and we are not root to install it (sudo apt-get install busybox-static)"
  fi
  say "installing Debian package busybox-static..."
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq busybox-static >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq busybox-static >/dev/null
  fi
fi

BB=""
for candidate in /bin/busybox /usr/bin/busybox; do
  if [[ -x "$candidate" ]]; then BB="$candidate"; break; fi
done
[[ -n "$BB" ]] || die "busybox-static is installed but no /bin/busybox was found"
# It must be static: the image has no libc.
if ldd "$BB" >/dev/null 2>&1; then
  die "$BB is dynamically linked (is package 'busybox' installed instead of 'busybox-static'?)"
fi
PKG_VERSION="$(dpkg-query -W -f='${Version}' busybox-static)"
BB_VERSION="$("$BB" 2>&1 | head -n 1 | sed -n 's/^BusyBox v\([0-9.]*\).*/\1/p')"
DESC="Local stand-in for $IMAGE built from Debian's busybox-static ${PKG_VERSION} (BusyBox ${BB_VERSION:-?}); not the Docker Hub image"

case "$BB_VERSION" in
  1.35.*) ;;
  *) say "WARNING: Debian's busybox is ${BB_VERSION:-unknown}, not 1.35.x; the tag $IMAGE is then not accurate." ;;
esac

cp "$BB" "$CTX/busybox"
cat >"$CTX/Dockerfile" <<EOF
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
# The directories the Docker Hub image has, so that images built on it behave alike.
RUN ["/bin/sh", "-c", "mkdir -p /tmp /var /etc /root /home /usr/bin /usr/sbin && chmod 1777 /tmp && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group"]
LABEL $DESC_LABEL="$DESC" \\
      org.opencontainers.image.version="$BB_VERSION" \\
      io.stagecoach.local-standin="true" \\
      io.stagecoach.standin-layout="$STANDIN_LAYOUT"
CMD ["sh"]
EOF

say "building $IMAGE locally: FROM scratch + $BB from Debian busybox-static $PKG_VERSION (no registry reachable)."
# The engine is dockerd 20.10 without buildx: use the classic builder.
if ! DOCKER_BUILDKIT=0 docker build --quiet -t "$IMAGE" "$CTX" >"$CTX/build.log" 2>&1; then
  cat "$CTX/build.log" >&2
  die "docker build of $IMAGE failed"
fi

# 4. Sanity check: the applets work.
out="$(docker run --rm --network none "$IMAGE" sh -c 'echo ok' 2>&1 || true)"
[[ "$out" == "ok" ]] || die "the built $IMAGE does not run 'sh -c echo ok' (got: $out)"

id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
say "built $IMAGE (${id:7:12}): $DESC."
