#!/usr/bin/env bash
# Makes sure the Dockerfile's base image (node:20-bookworm-slim) exists in the
# local Docker engine.
#
# On the machines this project is built on no public registry is reachable, so
# `docker pull node:20-bookworm-slim` cannot work. When the image is missing
# and a short pull attempt fails, this script builds a same-named LOCAL
# STAND-IN from this host's own files (Debian 12 with Node 20, like the real
# image): FROM scratch + a root filesystem holding
#
#   * the host's `node` binary, npm and corepack (from `command -v node`),
#   * the host's `git` with its helpers from /usr/lib/git-core (clone, fetch,
#     push and ls-remote over file://, git://, http(s)://) and templates,
#     and `ssh` when the host has one (for ssh:// remotes),
#   * every shared library `ldd` lists for those programs (glibc, libstdc++,
#     libcurl-gnutls, ...),
#   * /bin/sh and the usual applets from Debian's static busybox
#     (package busybox-static), only where no real program is copied,
#   * the host's CA bundle (/etc/ssl/certs/ca-certificates.crt), which node
#     and npm are told to trust (NODE_EXTRA_CA_CERTS), as on the host,
#   * /etc/passwd and /etc/group with root and `node` (uid/gid 1000, home
#     /home/node, as in the official image), /tmp (1777).
#
# The image carries LABEL io.stagecoach.local-standin=true and a description
# saying what it is; `docker image inspect node:20-bookworm-slim` shows it.
# It is NOT the Docker Hub image: no apt/dpkg, no perl, busybox instead of
# coreutils. The project's Dockerfile works with both.
#
# Idempotent: if the image is already there (pulled or built), it says so and
# exits 0. Takes a few seconds; the only slow part is `apt-get install
# busybox-static` on a machine without it.
#
# Environment:
#   NODE_IMAGE              image to ensure (default node:20-bookworm-slim)
#   NODE_BASE_PULL_TIMEOUT  seconds allowed for `docker pull` (default 20;
#                           0 skips the pull attempt)
#   NODE_BASE_REBUILD=1     rebuild the stand-in even if the image exists
#                           (never replaces a pulled, real image)
set -euo pipefail

IMAGE="${NODE_IMAGE:-node:20-bookworm-slim}"
PULL_TIMEOUT="${NODE_BASE_PULL_TIMEOUT:-20}"
REBUILD="${NODE_BASE_REBUILD:-0}"
DESC_LABEL="org.opencontainers.image.description"
STANDIN_LABEL="io.stagecoach.local-standin"
# Bumped when the stand-in's contents change: an older stand-in is rebuilt.
RECIPE_LABEL="io.stagecoach.standin-recipe"
RECIPE="2"

say() { printf '[build-node-base] %s\n' "$*"; }
die() { printf '[build-node-base] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=lib/standin.sh
. "$(dirname "$0")/lib/standin.sh"
require_engine

# 1. Already there?
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
  standin="$(label_of "$IMAGE" "$STANDIN_LABEL")"
  if [[ "$REBUILD" == "1" && "$standin" == "true" ]]; then
    say "$IMAGE exists (${id:7:12}, a local stand-in); NODE_BASE_REBUILD=1: building it again."
  elif [[ "$standin" == "true" && "$(label_of "$IMAGE" "$RECIPE_LABEL")" != "$RECIPE" ]]; then
    say "$IMAGE exists (${id:7:12}) but is a local stand-in from an older recipe of this script: building it again."
    REBUILD=1
  else
    desc="$(label_of "$IMAGE" "$DESC_LABEL")"
    say "$IMAGE already exists (${id:7:12})${desc:+: $desc}. Nothing to do."
    exit 0
  fi
fi

CTX="$(mktemp -d -t stagecoach-node-base.XXXXXX)"
trap 'rm -rf "$CTX"' EXIT

# 2. Try the registry, briefly (skipped when rebuilding a stand-in).
try_pull "$CTX" "."

# 3. Build a stand-in from this host's files.
[[ "$(uname -m)" == "x86_64" || "$(uname -m)" == "aarch64" ]] || say "WARNING: untested architecture $(uname -m)"

NODE_BIN="$(command -v node || true)"
[[ -n "$NODE_BIN" ]] || die "no 'node' on this host: the stand-in is built from the host's Node.js (install Node 20)"
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" --version)"
case "$NODE_VERSION" in
  v20.*) ;;
  *) say "WARNING: the host's node is $NODE_VERSION, not 20.x; the tag $IMAGE is then not accurate." ;;
esac
# npm and corepack live in <prefix>/lib/node_modules next to <prefix>/bin/node.
NODE_PREFIX="$(dirname "$(dirname "$NODE_BIN")")"
NODE_MODULES_DIR="$NODE_PREFIX/lib/node_modules"
[[ -f "$NODE_MODULES_DIR/npm/bin/npm-cli.js" ]] || die "npm not found in $NODE_MODULES_DIR (expected next to $NODE_BIN)"

need_pkgs=()
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need_pkgs+=(ca-certificates)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=(busybox-static)
install_packages "${need_pkgs[@]}"
GIT_BIN="$(readlink -f "$(command -v git)")"
GIT_EXEC_PATH="$(git --exec-path)"
GIT_VERSION="$(git --version | awk '{print $3}')"
BB="$(static_busybox)"
SSH_BIN="$(command -v ssh || true)"

R="$CTX/rootfs"
mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib,usr/local/bin,etc,tmp,root,home/node,var/tmp,dev,proc,sys,run}
# Debian 12's merged /usr layout: /bin, /lib, ... are links into /usr.
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
if [[ -e /lib64 ]]; then mkdir -p "$R/usr/lib64"; ln -s usr/lib64 "$R/lib64"; fi
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 700 "$R/root"

# Copies host path $1 to the same path in the rootfs (following $R's links),
# dereferencing symlinks.
put() { cp -L --preserve=mode "$1" "$R$1"; }

# Node.js: the binary, npm, corepack and their command links.
cp --preserve=mode "$NODE_BIN" "$R/usr/bin/node"
mkdir -p "$R/usr/lib/node_modules"
cp -a "$NODE_MODULES_DIR/npm" "$R/usr/lib/node_modules/npm"
[[ -d "$NODE_MODULES_DIR/corepack" ]] && cp -a "$NODE_MODULES_DIR/corepack" "$R/usr/lib/node_modules/corepack"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/bin/npx"
[[ -d "$R/usr/lib/node_modules/corepack" ]] && ln -s ../lib/node_modules/corepack/dist/corepack.js "$R/usr/bin/corepack"

# git: the binary, its exec path (helpers such as git-remote-http, git-daemon,
# git-upload-pack are there or link to git), its templates.
cp --preserve=mode "$GIT_BIN" "$R/usr/bin/git"
for tool in git-upload-pack git-receive-pack git-upload-archive git-shell; do
  if [[ -e "/usr/bin/$tool" ]]; then
    if [[ -L "/usr/bin/$tool" ]]; then cp -a "/usr/bin/$tool" "$R/usr/bin/$tool"; else ln -s git "$R/usr/bin/$tool"; fi
  fi
done
mkdir -p "$R$(dirname "$GIT_EXEC_PATH")"
cp -a "$GIT_EXEC_PATH" "$R$GIT_EXEC_PATH"
[[ -d /usr/share/git-core ]] && { mkdir -p "$R/usr/share"; cp -a /usr/share/git-core "$R/usr/share/git-core"; }
[[ -f /etc/gitconfig ]] && put /etc/gitconfig
if [[ -n "$SSH_BIN" ]]; then cp --preserve=mode "$(readlink -f "$SSH_BIN")" "$R/usr/bin/ssh"; fi

# Shared libraries of every ELF program copied above.
elves=("$R/usr/bin/node" "$R/usr/bin/git")
[[ -n "$SSH_BIN" ]] && elves+=("$R/usr/bin/ssh")
while IFS= read -r -d '' f; do
  [[ -L "$f" ]] && continue
  if head -c 4 "$f" | grep -q 'ELF'; then elves+=("$f"); fi
done < <(find "$R$GIT_EXEC_PATH" -type f -print0)
libs="$CTX/libs.txt"
copy_libraries "$R" "$libs" "${elves[@]}"
nlibs="$(wc -l <"$libs")"
LOADER="$(grep -m1 '/ld-linux' "$libs" || true)"   # e.g. /lib64/ld-linux-x86-64.so.2
[[ -n "$LOADER" ]] || die "ldd named no dynamic loader for node"

# /bin/sh and applets from busybox, only where nothing real was copied.
cp "$BB" "$R/usr/bin/busybox"
while IFS= read -r applet; do
  [[ "$applet" == */* ]] || continue
  target="$R/usr/${applet#usr/}"   # bin/sh and usr/bin/env both land in usr/bin (merged /usr)
  mkdir -p "$(dirname "$target")"
  [[ -e "$target" || -L "$target" ]] || ln -s /usr/bin/busybox "$target"
done < <("$BB" --list-full)
[[ -e "$R/usr/bin/sh" ]] || die "busybox gave no sh applet"

# Trust store: the host's CA bundle (Debian's ca-certificates plus whatever
# the host added to it, e.g. the CA of a TLS-intercepting egress proxy). The
# image sets NODE_EXTRA_CA_CERTS to it, so node and npm inside trust what this
# host trusts (node otherwise uses only its built-in Mozilla list): that is
# what lets `npm ci` in a `docker build` FROM the stand-in reach the registry
# through such a proxy. The real image sets no such variable.
mkdir -p "$R/etc/ssl/certs"
put /etc/ssl/certs/ca-certificates.crt

# Users, groups, name service, misc.
cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000::/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
cat >"$R/etc/nsswitch.conf" <<'EOF'
passwd: files
group:  files
shadow: files
hosts:  files dns
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
printf 'Debian GNU/Linux 12 (stand-in)\n' >"$R/etc/issue"
[[ -f /etc/os-release ]] && cp -L /etc/os-release "$R/etc/os-release"
[[ -f /etc/debian_version ]] && cp -L /etc/debian_version "$R/etc/debian_version"
chown -R 1000:1000 "$R/home/node"

HOST="$(hostname 2>/dev/null || echo host)"
DESC="LOCAL STAND-IN for $IMAGE, built on $HOST from this host's own files (node $NODE_VERSION, npm $("$NODE_BIN" "$NODE_MODULES_DIR/npm/bin/npm-cli.js" --version 2>/dev/null || echo '?'), git $GIT_VERSION, $nlibs shared libraries, busybox-static for /bin/sh) because no registry was reachable to pull the real image; not the Docker Hub image"

cat >"$CTX/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    NODE_VERSION=${NODE_VERSION#v} \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL $DESC_LABEL="$DESC" \\
      $STANDIN_LABEL="true" \\
      $RECIPE_LABEL="$RECIPE" \\
      org.opencontainers.image.version="${NODE_VERSION#v}"
CMD ["node"]
EOF

say "building $IMAGE locally: a LOCAL STAND-IN from this host's files (node $NODE_VERSION from $NODE_BIN, git $GIT_VERSION, busybox $BB), because no registry is reachable."
# The engine may be dockerd 20.10 without buildx: use the classic builder.
if ! DOCKER_BUILDKIT=0 docker build --quiet -t "$IMAGE" "$CTX" >"$CTX/build.log" 2>&1; then
  cat "$CTX/build.log" >&2
  die "docker build of $IMAGE failed"
fi

# 4. Sanity check: node, npm, git and sh work, as root and as node.
# The loader lists every ELF program's libraries; one it cannot load fails the check.
check='set -e
node -e "process.exit(0)"; npm --version >/dev/null
cd /tmp && git init -q r && git -C r -c user.name=a -c user.email=a@b commit -q --allow-empty -m x
git clone -q file:///tmp/r c && git -C c ls-remote origin >/dev/null
for f in /usr/bin/node /usr/bin/git /usr/bin/ssh $(git --exec-path)/*; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
  $LOADER --list "$f" >/dev/null 2>&1 || { echo "$f cannot load: $($LOADER --list "$f" 2>&1 | tail -n 2)"; exit 1; }
done
echo ok'
for user in 0 1000; do
  out="$(docker run --rm --network none --user "$user" -e LOADER="$LOADER" "$IMAGE" sh -c "$check" 2>&1 || true)"
  [[ "$out" == "ok" ]] || die "the built $IMAGE fails its self-check as uid $user (got: $out)"
done

id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
size="$(docker image inspect --format '{{.Size}}' "$IMAGE")"
say "built $IMAGE (${id:7:12}, $((size / 1024 / 1024)) MB): $DESC."
