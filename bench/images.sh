#!/bin/bash
# `skiff images` against `podman images` on a store of 100 images: listing
# the local store, which every docker-style workflow does all the time.
# Times RUNS runs of each (after warm-up runs), prints the medians and the
# ratios podman/skiff (above 1: skiff is faster).
#
#   bash bench/images.sh [RUNS]          (default 30)
#
# The images (built here, without skiff, with tests/system/helpers.bash,
# pushed with skopeo to docker-registry on 127.0.0.1, then pulled by each
# tool into its own private store): 100 distinct images bench/img-001 to
# bench/img-100, each one gzip layer of a few small files and a config
# with its own label, so no two share a layer, a config or an ID.
#
# Timed: `images` (the default table) and `images -q` (IDs only), each
# with --root/--runroot pointing at that tool's store, and `--version`
# (the cost of starting each program, for reference).
#
# Run it as an unprivileged user with /etc/subuid and /etc/subgid ranges;
# as root it runs itself as BENCH_USER (default skifftest, the user
# tests/run-tests.sh creates).  SKIFF names the binary (default:
# build/skiff next to this script, else skiff on PATH).  Needs podman,
# runc, skopeo, docker-registry, curl and jq (tests/install-deps.sh
# --bench); uses hyperfine when installed, otherwise a loop timed with
# date +%s%N (also with BENCH_LOOP=1).  BENCH_IMAGES sets the number of
# images (default 100).
set -euo pipefail

runs=${1:-30}
[[ $runs =~ ^[1-9][0-9]*$ ]] || {
	echo "usage: $0 [RUNS]" >&2
	exit 2
}
n_images=${BENCH_IMAGES:-100}
[[ $n_images =~ ^[1-9][0-9]{0,2}$ ]] || {
	echo "images.sh: BENCH_IMAGES must be 1 to 999" >&2
	exit 2
}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init --helpers podman skopeo docker-registry curl jq
bench_as_user BENCH_IMAGES BENCH_LOOP -- "$runs"

work=$(mktemp -d /tmp/skiff-bench-images.XXXXXX)
# podman refuses a --runroot longer than 50 characters.
runroots=$(mktemp -d /tmp/skiff-bench-rr.XXXXXX)
bench_setup "$work/xdg" "$work" "$runroots"

skiff_store=(--root "$work/skiff-root" --runroot "$runroots/skiff")
podman_store=(--root "$work/podman-root" --runroot "$runroots/podman" --storage-driver overlay)

# ---------------------------------------------------------------------------
# The images

build_and_push_images() {
	local layout=$work/layout src=$work/src i name
	for ((i = 1; i <= n_images; i++)); do
		name=$(printf 'img-%03d' "$i")
		rm -rf "$src"
		mkdir -p "$src/rootfs/etc/bench" "$src/rootfs/usr/share/bench"
		echo "$name" >"$src/rootfs/etc/bench/name"
		seq 1 "$((i * 10))" >"$src/rootfs/usr/share/bench/numbers"
		chmod -R u=rwX,go=rX "$src/rootfs"
		layer_tar "$src/layer.tar" "$src/rootfs"
		OCI_IMAGE_CONFIG="{\"Labels\":{\"org.skiff.bench\":\"$name\"}}" \
			oci_add_image "$layout" "$name" "$src/layer.tar"
		push_image "$layout" "$name" "$REGISTRY_ADDR/bench/$name:latest"
	done
	rm -rf "$src" "$layout"
}

pull_all() {
	local i name ref
	for ((i = 1; i <= n_images; i++)); do
		name=$(printf 'img-%03d' "$i")
		ref=$REGISTRY_ADDR/bench/$name:latest
		# podman warns on stderr about / not being a shared mount.
		if ! "$SKIFF" "${skiff_store[@]}" pull -q "$ref" >/dev/null 2>"$work/err" ||
			! podman "${podman_store[@]}" pull -q --tls-verify=false "$ref" \
				>/dev/null 2>"$work/err"; then
			echo "images.sh: pulling $ref failed: $(cat "$work/err")" >&2
			exit 1
		fi
	done
}

check_counts() {
	local n
	n=$("$SKIFF" "${skiff_store[@]}" images -q | wc -l)
	[[ $n -eq $n_images ]] || {
		echo "images.sh: skiff images lists $n images, expected $n_images" >&2
		exit 1
	}
	n=$(podman "${podman_store[@]}" images -q | wc -l)
	[[ $n -eq $n_images ]] || {
		echo "images.sh: podman images lists $n images, expected $n_images" >&2
		exit 1
	}
}

# ---------------------------------------------------------------------------
# Main

echo "images.sh: building and pushing $n_images images ($work)" >&2
# shellcheck disable=SC2119 # no arguments: plain HTTP, no auth
start_registry
build_and_push_images
bench_registries_conf
echo "images.sh: pulling them into both stores" >&2
pull_all
check_counts
# The registry is not needed any more: nothing listens while timing.
stop_all_registries

bench_pick_timer

echo "images.sh: timing, $runs runs each" >&2
# --version: starting the program, no store; what `images` costs beyond
# that is the listing.
commands=("images" "images -q" "--version")
declare -A ms
for args in "${commands[@]}"; do
	if [[ $args == --version ]]; then
		ms[skiff $args]=$(bench_time "$SKIFF $args")
		ms[podman $args]=$(bench_time "podman $args")
	else
		ms[skiff $args]=$(bench_time "$SKIFF ${skiff_store[*]} $args")
		ms[podman $args]=$(bench_time "podman ${podman_store[*]} $args")
	fi
done

echo
echo "$n_images images (one small layer each) in each store; $runs runs each ($bench_how), median wall time:"
bench_host
echo
printf '%-12s %12s %12s %14s\n' command skiff podman podman/skiff
for args in "${commands[@]}"; do
	awk -v a="$args" -v s="${ms[skiff $args]}" -v p="${ms[podman $args]}" 'BEGIN {
		printf "%-12s %9.2f ms %9.2f ms %14.2f\n", a, s, p, p / s }'
done
