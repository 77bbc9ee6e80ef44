#!/bin/bash
# Install the Debian 12 packages skiff needs to build, to run, and to be
# tested; with --bench also what bench/ compares against (podman, runc,
# hyperfine).  Packages already installed are not asked for again, so a
# second run costs one dpkg-query and no network.  Run as root.
#
#   bash tests/install-deps.sh [--bench]
set -euo pipefail

build_pkgs=(autoconf automake libtool pkg-config gcc binutils libc6-dev make
	libcurl4-openssl-dev libjson-c-dev libarchive-dev libfuse3-dev
	libslirp-dev libglib2.0-dev libssl-dev libcmocka-dev)
# uidmap gives newuidmap/newgidmap, fuse-overlayfs and fuse3 the overlay
# fallback; the rest is what tests/system uses: a registry, an independent
# client (skopeo), the busybox fixture, jq, curl, htpasswd, ss and ps, and
# python3 for the fixture servers (a registry serving hostile bytes, a token
# service signing JWTs with python3-jwt and python3-cryptography).
runtime_pkgs=(uidmap fuse-overlayfs fuse3)
test_pkgs=(bats docker-registry skopeo busybox-static jq zstd curl
	apache2-utils iproute2 procps python3 python3-jwt python3-cryptography)
# The completion tests load the scripts in zsh and fish; the man-page
# tests check every generated page with groff and render one with man.
test_pkgs+=(zsh fish groff-base man-db)
bench_pkgs=(podman runc hyperfine)

pkgs=("${build_pkgs[@]}" "${runtime_pkgs[@]}" "${test_pkgs[@]}")
if [[ ${1-} == --bench ]]; then
	pkgs+=("${bench_pkgs[@]}")
elif [[ $# -gt 0 ]]; then
	echo "usage: $0 [--bench]" >&2
	exit 2
fi

# dpkg-query prints one line per known package; unknown ones go to stderr
# and simply count as missing.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${pkgs[@]}" \
	2>/dev/null | awk '$2 == "ii" { print $1 }')
missing=()
for p in "${pkgs[@]}"; do
	grep -qxF "$p" <<<"$installed" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#pkgs[@]} packages are installed"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
	"${missing[@]}" >/dev/null
echo "install-deps: done"
