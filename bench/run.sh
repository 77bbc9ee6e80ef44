#!/bin/bash
# Starting containers: `skiff run --rm`, `exec` and a detached lifecycle
# against podman on the same image, and against the kernel floor.  Prints
# a table of medians and the ratios podman/skiff (above 1: skiff is faster).
#
#   bash bench/run.sh [RUNS]          (default 30 per command)
#
# The image: the busybox fixture of tests/system/helpers.bash (one gzip
# layer, /bin/busybox and its applet links), built here without skiff,
# pushed with skopeo to docker-registry on 127.0.0.1 and pulled by each tool
# into its own private store before anything is timed.
#
# Timed, each command after warm-up runs:
#   floor            unshare -Urmpf --mount-proc true (util-linux: user,
#                    mount and PID namespaces with a one-ID map, /proc
#                    mounted, exec): what the kernel charges at least
#   version          skiff|podman --version: starting the binary (dynamic
#                    linking, runtime start-up), which every command pays
#   unshare          skiff|podman unshare true
#   run-none         skiff|podman run --rm --network none IMG true
#   run-default      skiff|podman run --rm IMG true, each tool's default
#                    network (the summary names podman's)
#   exec             skiff|podman exec CTR true, CTR started beforehand
#                    with run -d --network none IMG sleep 1000
#   cycle            run -d --network none IMG sleep 1000; exec CTR true;
#                    stop -t 0 CTR; rm CTR, as one bash script (the bash
#                    start, about 1 ms, is in both); the steps are also
#                    timed one by one inside the script
#
# To keep a machine whose load drifts from favouring one side, the runs
# are split into BENCH_ROUNDS rounds (default 5); each round times every
# command of both tools, the tool that goes first alternating by round.
# The medians are over all rounds' runs.
#
# The stores (--root) go under BENCH_DIR (default /tmp: a disk, as a
# user's ~/.local/share); the runtime directories (--runroot and
# XDG_RUNTIME_DIR) under BENCH_RUNDIR (default /dev/shm, a tmpfs, as
# /run/user/UID is).
#
# Run it as an unprivileged user with /etc/subuid and /etc/subgid ranges;
# as root it runs itself as BENCH_USER (default skifftest, the user
# tests/run-tests.sh creates).  SKIFF names the binary (default: build/skiff
# next to this script, else skiff on PATH).  Needs podman, runc, skopeo,
# docker-registry, curl, jq and hyperfine (tests/install-deps.sh --bench).
# podman runs with runc, cgroupfs and the overlay storage driver (see
# README.md), skiff with its default driver.  Everything the script starts
# (registry, containers, podman's pause process) and every store is removed
# at the end, also after a failure or an interrupt.
set -euo pipefail

runs=${1:-30}
rounds=${BENCH_ROUNDS:-5}
[[ $runs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]?$ ]] || {
	echo "usage: $0 [RUNS]   (BENCH_ROUNDS: 1 to 99)" >&2
	exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
helpers=${BENCH_HELPERS:-$here/../tests/system/helpers.bash}
if [[ -z ${SKIFF-} ]]; then
	if [[ -x $here/../build/skiff ]]; then
		SKIFF=$here/../build/skiff
	else
		SKIFF=$(command -v skiff) || {
			echo "run.sh: no skiff binary: build it or set SKIFF" >&2
			exit 1
		}
	fi
fi
for tool in podman runc skopeo docker-registry curl jq hyperfine unshare; do
	command -v "$tool" >/dev/null || {
		echo "run.sh: $tool is not installed (bash tests/install-deps.sh --bench)" >&2
		exit 1
	}
done
[[ -f $helpers ]] || {
	echo "run.sh: no $helpers (set BENCH_HELPERS)" >&2
	exit 1
}

# As root: copy the script, the helpers and the binary where the user can
# read them and start over as that user, with a clean environment.
if [[ $(id -u) -eq 0 ]]; then
	user=${BENCH_USER:-skifftest}
	id -u "$user" >/dev/null 2>&1 || {
		echo "run.sh: no user $user: run tests/run-tests.sh once, or set BENCH_USER" >&2
		exit 1
	}
	stage=$(mktemp -d /tmp/skiff-bench.XXXXXX)
	trap 'rm -rf "$stage"' EXIT
	cp "$SKIFF" "$stage/skiff"
	cp "${BASH_SOURCE[0]}" "$stage/run.sh"
	cp "$helpers" "$stage/helpers.bash"
	chmod -R a+rX "$stage"
	cd "$stage"
	runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin \
		HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
		SKIFF="$stage/skiff" BENCH_HELPERS="$stage/helpers.bash" BENCH_ROUNDS="$rounds" \
		${BENCH_DIR:+BENCH_DIR="$BENCH_DIR"} ${BENCH_RUNDIR:+BENCH_RUNDIR="$BENCH_RUNDIR"} \
		bash "$stage/run.sh" "$runs"
	exit
fi

# ---------------------------------------------------------------------------
# Private state: stores, runtime and configuration directories, podman's
# and skopeo's configuration; the user's own are not touched.

# podman refuses a --runroot longer than 50 characters: the runtime
# directories get a short path of their own.
rundir_base=${BENCH_RUNDIR:-/dev/shm}
[[ -d $rundir_base && -w $rundir_base ]] || rundir_base=/tmp
work=$(mktemp -d "${BENCH_DIR:-/tmp}/skiff-bench-run.XXXXXX")
rundir=$(mktemp -d "$rundir_base/skiff-bench-rr.XXXXXX") || {
	rmdir "$work"
	exit 1
}
skiff=("$SKIFF" --root "$work/skiff-root" --runroot "$rundir/skiff")
podman=(podman --root "$work/podman-root" --runroot "$rundir/podman" --storage-driver overlay)

cleanup() {
	local pid
	# Containers first: they hold mounts and processes inside the stores.
	"${skiff[@]}" rm -a -f >/dev/null 2>&1 || true
	"${podman[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	stop_all_registries >/dev/null 2>&1 || true
	# podman leaves a pause process holding its user namespace.
	pid=$(cat "$rundir/xdg/libpod/tmp/pause.pid" 2>/dev/null || true)
	[[ -z $pid ]] || kill "$pid" 2>/dev/null || true
	# Layers and container files belong to subordinate IDs.
	"$SKIFF" --root "$rundir/rm-root" --runroot "$rundir/rm-run" \
		unshare rm -rf "$work" "$rundir" >/dev/null 2>&1 || true
	rm -rf "$work" "$rundir" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -m 0700 "$work/config" "$work/data" "$work/tmp" "$rundir/xdg"
export XDG_RUNTIME_DIR=$rundir/xdg XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
# helpers.bash keeps its state (registries, fixtures) under TMPDIR.
export TMPDIR=$work/tmp
# shellcheck source=tests/system/helpers.bash
source "$helpers"

cat >"$work/containers.conf" <<'EOF'
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$work/containers.conf

# ---------------------------------------------------------------------------
# Timing

# Median, minimum and maximum of the numbers on stdin (milliseconds).
stats_of() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

# Run CMD once with its output kept; a failure stops the benchmark with
# the output, rather than hyperfine's bare exit code.
check_cmd() {
	local cmd=$1
	# shellcheck disable=SC2086 # the command is split on purpose
	$cmd >"$work/check.out" 2>&1 || {
		echo "run.sh: '$cmd' failed:" >&2
		cat "$work/check.out" >&2
		exit 1
	}
}

# time_round N NAME CMD [NAME CMD...]: one hyperfine run of N runs of each
# CMD (after 3 warm-up runs); appends each run's wall time in milliseconds
# to $work/times.NAME.
time_round() {
	local n=$1 names=() cmds=() i
	shift
	while [[ $# -gt 0 ]]; do
		names+=("$1")
		cmds+=("$2")
		shift 2
	done
	hyperfine -N --warmup 3 --runs "$n" --export-json "$work/h.json" \
		"${cmds[@]}" >/dev/null 2>"$work/h.err" || {
		echo "run.sh: hyperfine failed:" >&2
		cat "$work/h.err" >&2
		exit 1
	}
	for i in "${!names[@]}"; do
		jq -r ".results[$i].times[] * 1000" "$work/h.json" >>"$work/times.${names[$i]}"
	done
}

# bench NAME_A CMD_A NAME_B CMD_B: RUNS runs of each, in rounds, with the
# order swapped every round.
bench() {
	local per=$(((runs + rounds - 1) / rounds)) r
	check_cmd "$2"
	check_cmd "$4"
	rm -f "$work/times.$1" "$work/times.$3"
	for ((r = 0; r < rounds; r++)); do
		if ((r % 2 == 0)); then
			time_round "$per" "$1" "$2" "$3" "$4"
		else
			time_round "$per" "$3" "$4" "$1" "$2"
		fi
	done
	echo "run.sh: $1 and $3 done" >&2
}

median_of() {
	stats_of <"$work/times.$1" | cut -d' ' -f1
}

# ---------------------------------------------------------------------------
# The image, in both stores

echo "run.sh: building and pushing the busybox image ($work)" >&2
# shellcheck disable=SC2119 # no arguments: plain HTTP, no auth
start_registry
build_busybox_image "$work/layout"
img=$REGISTRY_ADDR/bench/busybox:latest
push_image "$work/layout" latest "$img"
cat >"$work/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
EOF
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf
check_cmd "${skiff[*]} pull -q $img"
check_cmd "${podman[*]} pull -q --tls-verify=false $img"
# The registry is not needed any more; nothing timed may reach it.
stop_all_registries

# podman's default rootless network, as podman itself records it.
podman_net=$("${podman[@]}" create "$img" true)
podman_net_mode=$("${podman[@]}" inspect --format '{{.HostConfig.NetworkMode}}' "$podman_net")
"${podman[@]}" rm "$podman_net" >/dev/null

# The cycle: run -d, exec, stop -t 0, rm, each step's end time appended to
# LOG as "T0 T1 T2 T3 T4" (seconds, $EPOCHREALTIME).
cat >"$work/cycle.sh" <<'EOF'
#!/bin/bash
# cycle.sh LOG IMAGE TOOL [TOOL_ARGS...]
set -euo pipefail
log=$1 img=$2
shift 2
t0=$EPOCHREALTIME
id=$("$@" run -d --network none "$img" sleep 1000)
t1=$EPOCHREALTIME
"$@" exec "$id" true
t2=$EPOCHREALTIME
"$@" stop -t 0 "$id" >/dev/null 2>&1
t3=$EPOCHREALTIME
"$@" rm "$id" >/dev/null
t4=$EPOCHREALTIME
echo "$t0 $t1 $t2 $t3 $t4" >>"$log"
EOF

# ---------------------------------------------------------------------------
# Main

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "run.sh: $runs runs per command in $rounds rounds, 3 warm-up runs per round" >&2

# The floor has no contender: time it alone.
check_cmd "unshare -Urmpf --mount-proc true"
rm -f "$work/times.floor"
for ((r = 0; r < rounds; r++)); do
	time_round $(((runs + rounds - 1) / rounds)) floor "unshare -Urmpf --mount-proc true"
done

bench skiff-version "$SKIFF --version" podman-version "podman --version"
bench skiff-unshare "${skiff[*]} unshare true" podman-unshare "${podman[*]} unshare true"
bench skiff-run-none "${skiff[*]} run --rm --network none $img true" \
	podman-run-none "${podman[*]} run --rm --network none $img true"
bench skiff-run-default "${skiff[*]} run --rm $img true" \
	podman-run-default "${podman[*]} run --rm $img true"

skiff_ctr=$("${skiff[@]}" run -d --network none "$img" sleep 1000)
podman_ctr=$("${podman[@]}" run -d --network none "$img" sleep 1000)
bench skiff-exec "${skiff[*]} exec $skiff_ctr true" podman-exec "${podman[*]} exec $podman_ctr true"
"${skiff[@]}" rm -f "$skiff_ctr" >/dev/null 2>&1
"${podman[@]}" rm -f -t 0 "$podman_ctr" >/dev/null 2>&1

bench skiff-cycle "bash $work/cycle.sh $work/steps.skiff $img ${skiff[*]}" \
	podman-cycle "bash $work/cycle.sh $work/steps.podman $img ${podman[*]}"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Nothing may be left over in either store.
left=$("${skiff[@]}" ps -a -q | wc -l)
left_podman=$("${podman[@]}" ps -a -q | wc -l)
[[ $left -eq 0 && $left_podman -eq 0 ]] || {
	echo "run.sh: containers left over: skiff $left, podman $left_podman" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# Summary

echo
echo "Starting containers from $img (busybox fixture, one layer);"
echo "$runs runs per command after warm-up, in $rounds rounds, hyperfine -N."
echo "$(nproc) CPUs, kernel $(uname -r), load average $load_before before, $load_after after."
echo "stores in $(df -PT "$work" | awk 'NR == 2 { print $2 }') ($work), runtime directories in" \
	"$(df -PT "$rundir" | awk 'NR == 2 { print $2 }') ($rundir)"
echo "$("$SKIFF" --version), storage driver $("${skiff[@]}" info --format '{{.Store.GraphDriverName}}');" \
	"podman $("${podman[@]}" version --format '{{.Client.Version}}') with" \
	"$(runc --version | head -1), cgroupfs, overlay; podman's default network: $podman_net_mode"
echo
printf '%-34s %10s %10s %9s  %s\n' workload 'skiff ms' 'podman ms' podman/s target
row() {
	local label=$1 a=$2 b=$3 target=${4-}
	awk -v l="$label" -v s="$(median_of "$a")" -v p="$(median_of "$b")" -v t="$target" 'BEGIN {
		r = p / s; verdict = ""
		if (t != "") verdict = sprintf(">= %s: %s", t, r >= t ? "met" : "missed")
		printf "%-34s %10.2f %10.2f %9.2f  %s\n", l, s, p, r, verdict }'
}
row "--version" skiff-version podman-version
row "unshare true" skiff-unshare podman-unshare
row "run --rm --network none IMG true" skiff-run-none podman-run-none 5
row "run --rm IMG true (default net)" skiff-run-default podman-run-default 5
row "exec CTR true" skiff-exec podman-exec 5
row "run -d/exec/stop -t 0/rm cycle" skiff-cycle podman-cycle
echo
floor=$(median_of floor)
echo "floor, unshare -Urmpf --mount-proc true: $floor ms (median)"
awk -v f="$floor" -v u="$(median_of skiff-unshare)" -v r="$(median_of skiff-run-none)" \
	-v e="$(median_of skiff-exec)" 'BEGIN {
	printf "skiff over the floor: unshare %.1fx, run --rm --network none %.1fx, exec %.1fx\n",
		u / f, r / f, e / f }'
echo
echo "cycle steps (medians of the timed and warm-up cycles, ms):"
printf '  %-8s %8s %8s %8s %8s\n' tool 'run -d' exec stop rm
for tool in skiff podman; do
	awk '{ for (i = 1; i <= 4; i++) print i, ($(i + 1) - $i) * 1000 }' "$work/steps.$tool" >"$work/steps.$tool.ms"
	printf '  %-8s' "$tool"
	for i in 1 2 3 4; do
		printf ' %8s' "$(awk -v i="$i" '$1 == i { print $2 }' "$work/steps.$tool.ms" | stats_of | cut -d' ' -f1)"
	done
	echo
done
echo
echo "spread (min / max ms):"
for name in floor skiff-version podman-version skiff-unshare podman-unshare \
	skiff-run-none podman-run-none \
	skiff-run-default podman-run-default skiff-exec podman-exec skiff-cycle podman-cycle; do
	stats_of <"$work/times.$name" | awk -v n="$name" '{ printf "  %-20s %8.2f / %8.2f\n", n, $2, $3 }'
done
