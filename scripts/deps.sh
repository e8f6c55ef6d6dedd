#!/usr/bin/env bash
# deps.sh — install every build and test dependency of subnode from Debian's
# packages, when missing. Idempotent and quiet when all is present; used by
# `make deps`, the README's two commands and .ci/run.
#
#   scripts/deps.sh [build|test|all]   (default: all)
set -euo pipefail

BUILD_PKGS=(
  build-essential pkg-config
  libseccomp-dev libcap-dev libjansson-dev libmicrohttpd-dev libgnutls28-dev
  libcurl4-openssl-dev libarchive-dev libssl-dev libsqlite3-dev
  libmnl-dev libnftnl-dev libcmocka-dev
  libnftables-dev
  musl-tools musl-dev
  xxd
)
# (xxd: the dashboard's files become a C table, scripts/embed-web.sh)
# (musl: subnode-sup is linked statically against it, see the Makefile)
BUILD_PKGS+=(clang libclang-rt-14-dev)
# (clang + its libFuzzer runtime: `make fuzz`, tests/fuzz/)
TEST_PKGS=(
  bats jq curl iproute2 nftables procps psmisc util-linux
  busybox-static runc crun podman skopeo umoci docker-registry
  python3 apache2-utils hyperfine golang-go golang-github-opencontainers-runtime-tools-dev
  golang-github-google-uuid-dev uidmap fuse-overlayfs
  prometheus
  e2fsprogs
)
# (e2fsprogs: mkfs.ext4 makes each volume's file system, docs/NODE.md "Volumes")
TEST_PKGS+=(chromium chromium-driver fonts-dejavu-core)
# (headless Chromium driven over WebDriver: tests/integration/manager_dashboard.bats)

what=${1:-all}
case "$what" in
  build) want=("${BUILD_PKGS[@]}") ;;
  test|all) want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
  *) echo "deps.sh: unknown set '$what' (build|test|all)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
