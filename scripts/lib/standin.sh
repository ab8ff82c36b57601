# Shared by the scripts that build LOCAL STAND-INS of images no registry here
# serves (build-node-base.sh, build-proxy-image.sh). Source it after defining
# say() and die(); it uses $IMAGE, $PULL_TIMEOUT and $REBUILD.

# label_of IMAGE LABEL -> the label's value, or empty.
label_of() {
  local v
  v="$(docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true)"
  [[ "$v" == "<no value>" ]] && v=""
  printf '%s' "$v"
}

# require_engine: the docker client is installed and an engine answers.
require_engine() {
  command -v docker >/dev/null 2>&1 || die "the docker client is not installed (apt-get install docker.io)"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (start one: apt-get install -y docker.io && dockerd >/var/log/dockerd.log 2>&1 &)"
}

# try_pull CTX SUFFIX: a short `docker pull $IMAGE` unless rebuilding or
# PULL_TIMEOUT is 0; exits 0 when it worked. SUFFIX ends the failure line.
try_pull() {
  [[ "$REBUILD" != "1" && "$PULL_TIMEOUT" != "0" ]] || return 0
  say "$IMAGE is missing; trying 'docker pull $IMAGE' (timeout ${PULL_TIMEOUT}s)..."
  if timeout "$PULL_TIMEOUT" docker pull --quiet "$IMAGE" >/dev/null 2>"$1/pull.log"; then
    say "pulled $IMAGE from the registry."
    exit 0
  fi
  local reason
  reason="$(tail -n 1 "$1/pull.log" 2>/dev/null || true)"
  say "pull failed (no registry reachable${reason:+: $reason})$2"
}

# install_packages PKG...: installs the Debian packages given (none: nothing), as root.
install_packages() {
  (($#)) || return 0
  [[ "$(id -u)" == "0" ]] || die "missing Debian packages $* and we are not root to install them (sudo apt-get install $*)"
  say "installing Debian packages: $*..."
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

# static_busybox -> the path of Debian's static busybox (package busybox-static).
static_busybox() {
  local candidate
  for candidate in /bin/busybox /usr/bin/busybox; do
    if [[ -x "$candidate" ]]; then
      ldd "$candidate" >/dev/null 2>&1 && die "$candidate is dynamically linked (is package 'busybox' installed instead of 'busybox-static'?)"
      printf '%s' "$candidate"
      return
    fi
  done
  die "busybox-static is installed but no busybox binary was found"
}

# copy_libraries ROOTFS LIST ELF...: every shared library `ldd` names for the
# programs, copied (links followed) to the same path under ROOTFS; LIST gets
# their paths, one per line.
copy_libraries() {
  local root="$1" list="$2" f lib
  shift 2
  : >"$list"
  for f in "$@"; do
    # "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
    ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' >>"$list" || true
  done
  sort -u "$list" -o "$list"
  while IFS= read -r lib; do
    [[ -n "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L --preserve=mode "$lib" "$root$lib"
  done <"$list"
}
