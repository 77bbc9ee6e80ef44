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
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init --helpers podman runc skopeo docker-registry curl jq hyperfine unshare
bench_as_user BENCH_ROUNDS BENCH_DIR BENCH_RUNDIR -- "$runs"

# ---------------------------------------------------------------------------
# Private state (lib.sh): stores, runtime and configuration directories,
# podman's and skopeo's configuration; the user's own are not touched.

bench_stores run skiff-bench-rr xdg

# bench NAME_A CMD_A NAME_B CMD_B: RUNS runs of each, in rounds, after 3
# warm-up runs per round.
bench() {
	bench_check_cmd "$2"
	bench_check_cmd "$4"
	bench_pair 3 "$1" "" "$2" "$3" "" "$4"
}

# ---------------------------------------------------------------------------
# The image, in both stores

bench_busybox_image

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

load_before=$(bench_load)
echo "run.sh: $runs runs per command in $rounds rounds, 3 warm-up runs per round" >&2

# The floor has no contender: time it alone.
bench_check_cmd "unshare -Urmpf --mount-proc true"
rm -f "$work/times.floor"
for ((r = 0; r < rounds; r++)); do
	bench_time_round $(((runs + rounds - 1) / rounds)) 3 floor "" "unshare -Urmpf --mount-proc true"
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
load_after=$(bench_load)

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
echo "stores in $(bench_fstype "$work") ($work), runtime directories in $(bench_fstype "$rundir") ($rundir)"
echo "$(bench_versions); podman's default network: $podman_net_mode"
echo
printf '%-34s %10s %10s %9s  %s\n' workload 'skiff ms' 'podman ms' podman/s target
row() {
	local label=$1 a=$2 b=$3 target=${4-}
	awk -v l="$label" -v s="$(bench_median_of "$a")" -v p="$(bench_median_of "$b")" -v t="$target" 'BEGIN {
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
floor=$(bench_median_of floor)
echo "floor, unshare -Urmpf --mount-proc true: $floor ms (median)"
awk -v f="$floor" -v u="$(bench_median_of skiff-unshare)" -v r="$(bench_median_of skiff-run-none)" \
	-v e="$(bench_median_of skiff-exec)" 'BEGIN {
	printf "skiff over the floor: unshare %.1fx, run --rm --network none %.1fx, exec %.1fx\n",
		u / f, r / f, e / f }'
echo
echo "cycle steps (medians of the timed and warm-up cycles, ms):"
printf '  %-8s %8s %8s %8s %8s\n' tool 'run -d' exec stop rm
for tool in skiff podman; do
	awk '{ for (i = 1; i <= 4; i++) print i, ($(i + 1) - $i) * 1000 }' "$work/steps.$tool" >"$work/steps.$tool.ms"
	printf '  %-8s' "$tool"
	for i in 1 2 3 4; do
		printf ' %8s' "$(awk -v i="$i" '$1 == i { print $2 }' "$work/steps.$tool.ms" | bench_stats | cut -d' ' -f1)"
	done
	echo
done
echo
bench_spread '  %-20s %8.2f / %8.2f\n' floor skiff-version podman-version \
	skiff-unshare podman-unshare skiff-run-none podman-run-none \
	skiff-run-default podman-run-default skiff-exec podman-exec skiff-cycle podman-cycle
