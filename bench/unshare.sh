#!/bin/bash
# `skiff unshare true` against `podman unshare true`: the cost of entering
# the rootless user namespace, the first step of every rootless operation.
# Times RUNS runs of each (after warm-up runs), prints both medians and the
# ratio podman/skiff (above 1: skiff is faster).
#
#   bash bench/unshare.sh [RUNS]          (default 30)
#
# Run it as an unprivileged user with /etc/subuid and /etc/subgid ranges.
# As root it runs itself as BENCH_USER (default skifftest, the user
# tests/run-tests.sh creates).  SKIFF names the binary (default: build/skiff
# next to this script, else skiff on PATH).  Needs podman and runc
# (tests/install-deps.sh --bench); uses hyperfine when installed, otherwise
# a loop timed with date +%s%N (also with BENCH_LOOP=1).
set -euo pipefail

runs=${1:-30}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -z ${SKIFF-} ]]; then
	if [[ -x $here/../build/skiff ]]; then
		SKIFF=$here/../build/skiff
	else
		SKIFF=$(command -v skiff) || {
			echo "unshare.sh: no skiff binary: build it or set SKIFF" >&2
			exit 1
		}
	fi
fi
command -v podman >/dev/null || {
	echo "unshare.sh: podman is not installed (bash tests/install-deps.sh --bench)" >&2
	exit 1
}

# As root: copy the script and the binary where the user can read them and
# start over as that user, with a clean environment.
if [[ $(id -u) -eq 0 ]]; then
	user=${BENCH_USER:-skifftest}
	id -u "$user" >/dev/null 2>&1 || {
		echo "unshare.sh: no user $user: run tests/run-tests.sh once, or set BENCH_USER" >&2
		exit 1
	}
	stage=$(mktemp -d /tmp/skiff-bench.XXXXXX)
	trap 'rm -rf "$stage"' EXIT
	cp "$SKIFF" "$stage/skiff"
	cp "${BASH_SOURCE[0]}" "$stage/unshare.sh"
	chmod -R a+rX "$stage"
	cd "$stage"
	runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin \
		HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
		SKIFF="$stage/skiff" ${BENCH_LOOP:+BENCH_LOOP=1} bash "$stage/unshare.sh" "$runs"
	exit
fi

# Private stores, runtime directory and podman configuration: the user's
# own are not touched, and both tools start from the same state.  podman
# needs runc and cgroupfs here (crun and systemd cgroups are not usable in
# this environment).
work=$(mktemp -d /tmp/skiff-bench-run.XXXXXX)
cleanup() {
	local pid
	# podman leaves a pause process holding its user namespace.
	pid=$(cat "$work/xdg/libpod/tmp/pause.pid" 2>/dev/null || true)
	[[ -z $pid ]] || kill "$pid" 2>/dev/null || true
	"$SKIFF" unshare rm -rf "$work" 2>/dev/null || rm -rf "$work"
}
trap cleanup EXIT
mkdir -m 0700 "$work/xdg"
export XDG_RUNTIME_DIR=$work/xdg
cat >"$work/containers.conf" <<'EOF'
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$work/containers.conf

skiff_cmd="$SKIFF --root $work/skiff-root --runroot $work/skiff-run unshare true"
podman_cmd="podman --root $work/podman-root --runroot $work/podman-run unshare true"

median_of() {
	sort -n | awk '{ v[NR] = $1 } END {
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

for cmd in "$skiff_cmd" "$podman_cmd"; do
	$cmd >/dev/null 2>"$work/err" || {
		echo "unshare.sh: '$cmd' failed: $(cat "$work/err")" >&2
		exit 1
	}
done

if [[ -z ${BENCH_LOOP-} ]] && command -v hyperfine >/dev/null; then
	timer=time_hyperfine
	how="hyperfine -N, 3 warm-up runs"
else
	timer=time_loop
	how="bash loop with date +%s%N, 3 warm-up runs"
fi
skiff_ms=$($timer "$skiff_cmd")
podman_ms=$($timer "$podman_cmd")

echo "unshare true, $runs runs each ($how), median wall time:"
printf '  %-8s %8s ms   (%s)\n' skiff "$skiff_ms" "$("$SKIFF" --version)"
printf '  %-8s %8s ms   (%s)\n' podman "$podman_ms" "$(podman --version)"
awk -v s="$skiff_ms" -v p="$podman_ms" 'BEGIN { printf "  ratio podman/skiff: %.2f\n", p / s }'
