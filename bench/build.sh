#!/bin/bash
# Building an image: `skiff build` against `podman build` on the same
# multi-stage Dockerfile with RUN steps and a COPY of a 2,000-file context,
# cold (no build cache, the base image present) and fully cached.  Prints
# the medians and the ratios podman/skiff (above 1: skiff is faster) with
# the issue's targets.
#
#   bash bench/build.sh [RUNS]        (default 10 per workload and tool)
#
# The base image is the busybox fixture of tests/system/helpers.bash (one
# gzip layer), built here without skiff, pushed with skopeo to
# docker-registry on 127.0.0.1 and pulled by each tool into its own private
# store before anything is timed; the registry is stopped before timing.
#
# The context: 2,000 files of 20 to 400 bytes in 40 directories under src/,
# a .dockerignore excluding *.tmp (plus 50 such files), and this Dockerfile:
#
#   FROM IMG AS build
#   RUN mkdir -p /out && echo built >/out/artifact
#   COPY src /src
#   RUN find /src -type f | wc -l >/out/count
#   FROM IMG
#   ENV APP=/app
#   COPY --from=build /out /opt/out
#   COPY src /app/src
#   RUN cat /opt/out/count
#   CMD ["sh"]
#
# Timed (hyperfine -N, each tool's default network for RUN):
#   cold     TOOL build -t bench-app CTX after `rmi -f bench-app` and
#            `image prune -f` (hyperfine --prepare, not timed): every step
#            runs, the base image stays
#   cached   TOOL build -t bench-app CTX with everything in the cache:
#            every step is reused
# Targets (the Build issue): cached under 300 ms and at most 1/3 of
# podman's (ratio >= 3); cold no slower than podman's (ratio >= 1).
#
# To keep a machine whose load drifts from favouring one side, the runs are
# split into BENCH_ROUNDS rounds (default 5); each round times both tools,
# the one that goes first alternating by round.
#
# Run it as an unprivileged user with /etc/subuid and /etc/subgid ranges;
# as root it runs itself as BENCH_USER (default skifftest, the user
# tests/run-tests.sh creates).  SKIFF names the binary (default: build/skiff
# next to this script, else skiff on PATH).  Needs podman, runc, skopeo,
# docker-registry, curl, jq and hyperfine (tests/install-deps.sh --bench).
# podman runs with runc, cgroupfs and the overlay storage driver (see
# README.md), skiff with its default driver.  BENCH_DIR is where the
# stores and the context go (default /tmp).  Everything the script starts
# and every store is removed at the end, also after a failure.
set -euo pipefail

runs=${1:-10}
rounds=${BENCH_ROUNDS:-5}
[[ $runs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]?$ ]] || {
	echo "usage: $0 [RUNS]   (BENCH_ROUNDS: 1 to 99)" >&2
	exit 2
}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init --helpers podman runc skopeo docker-registry curl jq hyperfine
bench_as_user BENCH_ROUNDS BENCH_DIR BENCH_RUNDIR -- "$runs"

# Private state, as bench/run.sh keeps it (lib.sh).
bench_stores build skiff-bench-rr xdg

# ---------------------------------------------------------------------------
# The base image in both stores, and the context

bench_busybox_image

ctx=$work/ctx
mkdir -p "$ctx/src"
# 2,000 files of 20 to 400 bytes in 40 directories, and 50 ignored ones.
awk -v dir="$ctx/src" 'BEGIN {
	srand(42)
	for (i = 0; i < 2000; i++) {
		d = sprintf("%s/d%02d", dir, i % 40)
		if (i < 40) system("mkdir -p " d)
		f = sprintf("%s/f%04d.txt", d, i)
		n = 20 + int(rand() * 380)
		s = ""
		while (length(s) < n) s = s sprintf("%d ", int(rand() * 1e6))
		print substr(s, 1, n) > f
		close(f)
	}
	for (i = 0; i < 50; i++) {
		f = sprintf("%s/d%02d/junk%02d.tmp", dir, i % 40, i)
		print "junk" > f
		close(f)
	}
}'
echo '**/*.tmp' >"$ctx/.dockerignore"
cat >"$ctx/Dockerfile" <<EOF
FROM $img AS build
RUN mkdir -p /out && echo built >/out/artifact
COPY src /src
RUN find /src -type f | wc -l >/out/count
FROM $img
ENV APP=/app
COPY --from=build /out /opt/out
COPY src /app/src
RUN cat /opt/out/count
CMD ["sh"]
EOF

skiff_build="${skiff[*]} build -t bench-app $ctx"
podman_build="${podman[*]} build -t bench-app $ctx"
skiff_reset="bash -c '${skiff[*]} rmi -f bench-app >/dev/null 2>&1; ${skiff[*]} image prune -f >/dev/null'"
podman_reset="bash -c '${podman[*]} rmi -f bench-app >/dev/null 2>&1; ${podman[*]} image prune -f >/dev/null'"

# Both tools must build it, and both must see 2,000 files.
for tool in skiff podman; do
	declare -n cmd=${tool}_build
	bench_check_cmd "$cmd"
	grep -q '^2000$' "$work/check.out" || {
		echo "build.sh: $tool did not copy 2,000 files:" >&2
		cat "$work/check.out" >&2
		exit 1
	}
	unset -n cmd
done
# And the reset between cold runs must really empty the cache.
for tool in skiff podman; do
	declare -n reset=${tool}_reset cmd=${tool}_build
	eval "$reset" || {
		echo "build.sh: '$reset' failed" >&2
		exit 1
	}
	bench_check_cmd "$cmd"
	! grep -q 'Using cache' "$work/check.out" || {
		echo "build.sh: $tool used its cache after the reset:" >&2
		cat "$work/check.out" >&2
		exit 1
	}
	unset -n reset cmd
done

# ---------------------------------------------------------------------------
# Main

load_before=$(bench_load)
echo "build.sh: $runs runs per workload and tool in $rounds rounds" >&2
bench_pair 1 skiff-cold "$skiff_reset" "$skiff_build" podman-cold "$podman_reset" "$podman_build"
# The cold runs leave the image built: every step below is a cache hit.
bench_check_cmd "$skiff_build"
bench_check_cmd "$podman_build"
bench_pair 2 skiff-cached true "$skiff_build" podman-cached true "$podman_build"
load_after=$(bench_load)

# A cached build must have reused every step (the same image ID).
skiff_id=$("${skiff[@]}" image inspect --format '{{.Id}}' bench-app)
bench_check_cmd "$skiff_build"
[[ $("${skiff[@]}" image inspect --format '{{.Id}}' bench-app) == "$skiff_id" ]] || {
	echo "build.sh: skiff's cached build made a new image" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# Summary

echo
echo "Building a 2-stage Dockerfile (3 RUN, 3 COPY, one of a 2,000-file context)"
echo "on $img (busybox fixture); $runs runs per workload after warm-up, in $rounds rounds,"
echo "hyperfine -N.  $(nproc) CPUs, kernel $(uname -r), load average $load_before before,"
echo "$load_after after.  Stores in $(bench_fstype "$work") ($work)."
bench_versions
echo
printf '%-28s %10s %10s %9s  %s\n' workload 'skiff ms' 'podman ms' podman/s target
row() {
	local label=$1 a=$2 b=$3 ratio=$4 limit=${5-}
	awk -v l="$label" -v s="$(bench_median_of "$a")" -v p="$(bench_median_of "$b")" -v t="$ratio" \
		-v lim="$limit" 'BEGIN {
		r = p / s
		verdict = sprintf("ratio >= %s: %s", t, r >= t ? "met" : "missed")
		if (lim != "") verdict = verdict sprintf("; < %d ms: %s", lim, s < lim ? "met" : "missed")
		printf "%-28s %10.1f %10.1f %9.2f  %s\n", l, s, p, r, verdict }'
}
row "cold build (no cache)" skiff-cold podman-cold 1
row "cached build" skiff-cached podman-cached 3 300
echo
bench_spread '  %-14s %9.1f / %9.1f\n' skiff-cold podman-cold skiff-cached podman-cached
