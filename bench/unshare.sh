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
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init podman
bench_as_user BENCH_LOOP -- "$runs"

work=$(mktemp -d /tmp/skiff-bench-run.XXXXXX)
bench_setup "$work/xdg" "$work"

skiff_cmd="$SKIFF --root $work/skiff-root --runroot $work/skiff-run unshare true"
podman_cmd="podman --root $work/podman-root --runroot $work/podman-run unshare true"

bench_check_cmd "$skiff_cmd"
bench_check_cmd "$podman_cmd"

bench_pick_timer
skiff_ms=$(bench_time "$skiff_cmd")
podman_ms=$(bench_time "$podman_cmd")

echo "unshare true, $runs runs each ($bench_how), median wall time:"
printf '  %-8s %8s ms   (%s)\n' skiff "$skiff_ms" "$("$SKIFF" --version)"
printf '  %-8s %8s ms   (%s)\n' podman "$podman_ms" "$(podman --version)"
awk -v s="$skiff_ms" -v p="$podman_ms" 'BEGIN { printf "  ratio podman/skiff: %.2f\n", p / s }'
