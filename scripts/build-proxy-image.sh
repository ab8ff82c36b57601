#!/usr/bin/env bash
# Makes sure the edge proxy image (haproxy:2.6-alpine) exists in the Docker
# engine that `docker` talks to (DOCKER_HOST or the local socket).
#
# stagecoach puts an HAProxy container in front of every service that
# publishes a fixed host port (see README, "Deploys"). It needs an image with
# `haproxy` 2.6, `sh`, `printf` and `nc` on PATH, whose /tmp is writable: the
# official haproxy:2.6-alpine is one. On the machines this project is built
# on no registry answers, so when the image is missing and a short pull
# fails, this script builds a same-named LOCAL STAND-IN:
#
#   FROM scratch + Debian's /usr/sbin/haproxy (package haproxy, 2.6.x, so the
#   version in the tag is honest) + every shared library `ldd` lists for it +
#   Debian's static busybox (package busybox-static) for sh, printf and nc.
#
# It is NOT the Docker Hub image (glibc, not Alpine's musl); its labels say so
# (`docker image inspect haproxy:2.6-alpine`). Idempotent: an existing image
# (pulled or built) is kept.
#
# Environment:
#   EDGE_IMAGE              image to ensure (default haproxy:2.6-alpine)
#   EDGE_PULL_TIMEOUT       seconds allowed for `docker pull` (default 20; 0 skips it)
#   EDGE_REBUILD=1          rebuild the stand-in even if it exists (never replaces a pulled image)
set -euo pipefail

IMAGE="${EDGE_IMAGE:-haproxy:2.6-alpine}"
PULL_TIMEOUT="${EDGE_PULL_TIMEOUT:-20}"
REBUILD="${EDGE_REBUILD:-0}"
DESC_LABEL="org.opencontainers.image.description"
STANDIN_LABEL="io.stagecoach.local-standin"
RECIPE_LABEL="io.stagecoach.standin-recipe"
RECIPE="2"

say() { printf '[build-proxy-image] %s\n' "$*"; }
die() { printf '[build-proxy-image] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=lib/standin.sh
. "$(dirname "$0")/lib/standin.sh"
require_engine

# 1. Already there?
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
  standin="$(label_of "$IMAGE" "$STANDIN_LABEL")"
  if [[ "$standin" == "true" && ( "$REBUILD" == "1" || "$(label_of "$IMAGE" "$RECIPE_LABEL")" != "$RECIPE" ) ]]; then
    say "$IMAGE exists (${id:7:12}, a local stand-in of another recipe or EDGE_REBUILD=1): building it again."
    REBUILD=1
  else
    desc="$(label_of "$IMAGE" "$DESC_LABEL")"
    say "$IMAGE already exists (${id:7:12})${desc:+: $desc}. Nothing to do."
    exit 0
  fi
fi

CTX="$(mktemp -d -t stagecoach-edge.XXXXXX)"
trap 'rm -rf "$CTX"' EXIT

# 2. Try the registry, briefly.
try_pull "$CTX" "; building a local stand-in."

# 3. A stand-in from Debian's haproxy and busybox-static.
need=()
dpkg-query -W -f='${Status}' haproxy 2>/dev/null | grep -q 'install ok installed' || need+=(haproxy)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need+=(busybox-static)
install_packages "${need[@]}"
HAPROXY="$(readlink -f /usr/sbin/haproxy)"
[[ -x "$HAPROXY" ]] || die "no /usr/sbin/haproxy after installing package haproxy"
BB="$(static_busybox)"
VERSION="$("$HAPROXY" -v | sed -n '1s/^HAProxy version \([0-9.]*\).*/\1/p')"
case "$VERSION" in
  2.6.*) ;;
  *) say "WARNING: Debian's haproxy is ${VERSION:-unknown}, not 2.6.x; the tag $IMAGE is then not accurate." ;;
esac

R="$CTX/rootfs"
mkdir -p "$R"/{usr/sbin,usr/bin,bin,tmp,etc,var/lib/haproxy}
chmod 1777 "$R/tmp"
cp --preserve=mode "$HAPROXY" "$R/usr/sbin/haproxy"
copy_libraries "$R" "$CTX/libs.txt" "$HAPROXY"
nlibs="$(wc -l <"$CTX/libs.txt")"
cp "$BB" "$R/bin/busybox"
for applet in sh printf nc cat mv sleep kill ps; do ln -s /bin/busybox "$R/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nhaproxy:x:99:99::/var/lib/haproxy:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nhaproxy:x:99:\n' >"$R/etc/group"
printf 'hosts: files dns\n' >"$R/etc/nsswitch.conf"

DESC="LOCAL STAND-IN for $IMAGE: Debian's haproxy $VERSION ($nlibs shared libraries from ldd) and busybox-static (sh, printf, nc) on scratch, built because no registry was reachable; not the Docker Hub image"
cat >"$CTX/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/sbin:/usr/bin:/bin
LABEL $DESC_LABEL="$DESC" \\
      $STANDIN_LABEL="true" \\
      $RECIPE_LABEL="$RECIPE" \\
      org.opencontainers.image.version="$VERSION"
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-v"]
DOCKERFILE

say "building $IMAGE locally: FROM scratch + $HAPROXY (HAProxy $VERSION) + $nlibs libraries + $BB, because no registry is reachable."
if ! DOCKER_BUILDKIT=0 docker build --quiet -t "$IMAGE" "$CTX" >"$CTX/build.log" 2>&1; then
  cat "$CTX/build.log" >&2
  die "docker build of $IMAGE failed"
fi

# 4. Sanity check: haproxy loads its libraries and accepts a configuration.
out="$(docker run --rm --network none "$IMAGE" sh -c 'printf "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nlisten l\n  bind 127.0.0.1:1\n  server s 127.0.0.1:2\n" > /tmp/t.cfg && haproxy -c -q -f /tmp/t.cfg && echo ok' 2>&1 || true)"
[[ "$out" == "ok" ]] || die "the built $IMAGE fails its self-check (got: $out)"
id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
say "built $IMAGE (${id:7:12}): $DESC."
