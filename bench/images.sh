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
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
helpers=${BENCH_HELPERS:-$here/../tests/system/helpers.bash}
if [[ -z ${SKIFF-} ]]; then
	if [[ -x $here/../build/skiff ]]; then
		SKIFF=$here/../build/skiff
	else
		SKIFF=$(command -v skiff) || {
			echo "images.sh: no skiff binary: build it or set SKIFF" >&2
			exit 1
		}
	fi
fi
for tool in podman skopeo docker-registry curl jq; do
	command -v "$tool" >/dev/null || {
		echo "images.sh: $tool is not installed (bash tests/install-deps.sh --bench)" >&2
		exit 1
	}
done
[[ -f $helpers ]] || {
	echo "images.sh: no $helpers (set BENCH_HELPERS)" >&2
	exit 1
}

# As root: copy the script, the helpers and the binary where the user can
# read them and start over as that user, with a clean environment.
if [[ $(id -u) -eq 0 ]]; then
	user=${BENCH_USER:-skifftest}
	id -u "$user" >/dev/null 2>&1 || {
		echo "images.sh: no user $user: run tests/run-tests.sh once, or set BENCH_USER" >&2
		exit 1
	}
	stage=$(mktemp -d /tmp/skiff-bench.XXXXXX)
	trap 'rm -rf "$stage"' EXIT
	cp "$SKIFF" "$stage/skiff"
	cp "${BASH_SOURCE[0]}" "$stage/images.sh"
	cp "$helpers" "$stage/helpers.bash"
	chmod -R a+rX "$stage"
	cd "$stage"
	runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin \
		HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
		SKIFF="$stage/skiff" BENCH_HELPERS="$stage/helpers.bash" \
		BENCH_IMAGES="$n_images" ${BENCH_LOOP:+BENCH_LOOP=1} \
		bash "$stage/images.sh" "$runs"
	exit
fi

# ---------------------------------------------------------------------------
# Private state: stores, runtime and configuration directories, podman's
# and skopeo's configuration; the user's own are not touched.

work=$(mktemp -d /tmp/skiff-bench-images.XXXXXX)
# podman refuses a --runroot longer than 50 characters.
runroots=$(mktemp -d /tmp/skiff-bench-rr.XXXXXX)
mkdir -m 0700 "$work/xdg" "$work/config" "$work/data" "$work/tmp"
export XDG_RUNTIME_DIR=$work/xdg XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
# helpers.bash keeps its state (registries, fixtures) under TMPDIR.
export TMPDIR=$work/tmp
# shellcheck source=tests/system/helpers.bash
source "$helpers"

cleanup() {
	local pid
	stop_all_registries 2>/dev/null || true
	# podman leaves a pause process holding its user namespace.
	pid=$(cat "$work/xdg/libpod/tmp/pause.pid" 2>/dev/null || true)
	[[ -z $pid ]] || kill "$pid" 2>/dev/null || true
	"$SKIFF" --root "$work/rm-root" --runroot "$work/rm-run" \
		unshare rm -rf "$work" "$runroots" >/dev/null 2>&1 || true
	rm -rf "$work" "$runroots" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/containers.conf" <<'EOF'
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$work/containers.conf

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
# Timing

median_of() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Median wall time of RUNS runs of CMD, in milliseconds.
time_loop() {
	local cmd=$1 i start end
	for ((i = 0; i < 3; i++)); do $cmd >/dev/null 2>&1; done
	for ((i = 0; i < runs; i++)); do
		start=$(date +%s%N)
		$cmd >/dev/null 2>&1
		end=$(date +%s%N)
		echo $(((end - start) / 1000))
	done | median_of | awk '{ printf "%.2f\n", $1 / 1000 }'
}

time_hyperfine() {
	local cmd=$1
	hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" "$cmd" >/dev/null 2>&1
	jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$work/h.json"
}

# ---------------------------------------------------------------------------
# Main

echo "images.sh: building and pushing $n_images images ($work)" >&2
# shellcheck disable=SC2119 # no arguments: plain HTTP, no auth
start_registry
build_and_push_images
cat >"$work/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
EOF
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf
echo "images.sh: pulling them into both stores" >&2
pull_all
check_counts
# The registry is not needed any more: nothing listens while timing.
stop_all_registries

if [[ -z ${BENCH_LOOP-} ]] && command -v hyperfine >/dev/null; then
	timer=time_hyperfine
	how="hyperfine -N, 3 warm-up runs"
else
	timer=time_loop
	how="bash loop with date +%s%N, 3 warm-up runs"
fi

echo "images.sh: timing, $runs runs each" >&2
# --version: starting the program, no store; what `images` costs beyond
# that is the listing.
commands=("images" "images -q" "--version")
declare -A ms
for args in "${commands[@]}"; do
	if [[ $args == --version ]]; then
		ms[skiff $args]=$($timer "$SKIFF $args")
		ms[podman $args]=$($timer "podman $args")
	else
		ms[skiff $args]=$($timer "$SKIFF ${skiff_store[*]} $args")
		ms[podman $args]=$($timer "podman ${podman_store[*]} $args")
	fi
done

echo
echo "$n_images images (one small layer each) in each store; $runs runs each ($how), median wall time:"
echo "$(nproc) CPUs, kernel $(uname -r); $("$SKIFF" --version); podman $(podman version --format '{{.Client.Version}}')"
echo
printf '%-12s %12s %12s %14s\n' command skiff podman podman/skiff
for args in "${commands[@]}"; do
	awk -v a="$args" -v s="${ms[skiff $args]}" -v p="${ms[podman $args]}" 'BEGIN {
		printf "%-12s %9.2f ms %9.2f ms %14.2f\n", a, s, p, p / s }'
done
