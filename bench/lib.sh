# Shared setup for the benchmark scripts in this directory.  Every script
# starts with
#
#   set -euo pipefail
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# and keeps only its own workload; what every benchmark does the same way
# (README.md, "How a benchmark is run") lives here.  Messages name the
# script ("run.sh: ..."): bench_name.
#
# Start
#   bench_init [--helpers] TOOL...
#                      sets SKIFF (default: build/skiff next to this file,
#                      else skiff on PATH) and fails unless every TOOL is
#                      installed; with --helpers also `helpers`, the path
#                      of tests/system/helpers.bash (or BENCH_HELPERS),
#                      which bench_setup then sources
#   bench_as_user VAR... -- ARG...
#                      as root: copies the script, this file, the helpers
#                      and the binary to a directory the user can read and
#                      runs the script again there as BENCH_USER (default
#                      skifftest) with ARGs and a clean environment that
#                      keeps only SKIFF, BENCH_HELPERS and each VAR that is
#                      set and not empty; exits with its status.  As any
#                      other user: returns
#
# Private state (the user's own stores and configuration are not touched)
#   bench_setup XDG DIR...
#                      XDG becomes XDG_RUNTIME_DIR (mode 0700); the first
#                      DIR (the script's $work) gets the private
#                      XDG_CONFIG_HOME, XDG_DATA_HOME and TMPDIR (where the
#                      helpers keep registries and fixtures) and podman's
#                      containers.conf (runc, cgroupfs, file events), named
#                      by CONTAINERS_CONF; sources the helpers; at exit,
#                      also after a failure or an interrupt, bench_cleanup
#                      runs
#   bench_cleanup      removes the containers of the `skiff` and `podman`
#                      command arrays (when the script sets them), stops the
#                      registries, kills podman's pause process and removes
#                      every DIR, through bench_unshare: layers and
#                      container files belong to subordinate IDs
#   bench_stores NAME RUN_PREFIX XDG_NAME
#                      the layout of the container benchmarks: work, a new
#                      directory skiff-bench-NAME.* under BENCH_DIR (default
#                      /tmp: a disk, as a user's ~/.local/share) for the
#                      stores, and rundir, a new RUN_PREFIX.* under
#                      BENCH_RUNDIR (default /dev/shm, a tmpfs as
#                      /run/user/UID is; /tmp when that is not writable) for
#                      the runroots and XDG_RUNTIME_DIR (rundir/XDG_NAME);
#                      the command arrays `skiff` and `podman` (overlay) on
#                      them; then bench_setup
#   bench_unshare CMD...
#                      CMD inside skiff's user namespace, with a throwaway
#                      store in the last DIR
#   bench_registries_conf
#                      a registries.conf that lets both tools reach the
#                      local registry ($REGISTRY_ADDR) over plain HTTP, named
#                      by CONTAINERS_REGISTRIES_CONF
#   bench_busybox_image
#                      starts a registry, builds the busybox fixture of the
#                      helpers, pushes it as $img (set here), pulls it into
#                      the stores of `skiff` and `podman` and stops the
#                      registry: nothing timed can reach it
#   bench_check_cmd CMD
#                      runs CMD (split on blanks) once with its output in
#                      $work/check.out; a failure stops the benchmark with
#                      that output rather than a timer's bare exit code
#
# Timing, one command at a time (RUNS: the script's $runs)
#   bench_pick_timer   hyperfine when installed and BENCH_LOOP is empty,
#                      else a bash loop with date +%s%N; sets bench_how,
#                      the words that say which
#   bench_time CMD     the median wall time in ms (2 decimals) of RUNS runs
#                      of CMD after 3 warm-up runs, with that timer
#
# Timing in rounds, with hyperfine (runs in $work/times.NAME, one per line,
# in ms)
#   bench_time_round N WARMUP NAME PREPARE CMD [NAME PREPARE CMD...]
#                      one hyperfine call: N runs of each CMD after WARMUP
#                      warm-up runs, each run preceded by PREPARE (not
#                      timed; empty for none)
#   bench_pair WARMUP NAME_A PREP_A CMD_A NAME_B PREP_B CMD_B
#                      RUNS runs of each in BENCH_ROUNDS rounds (the
#                      script's $rounds), the one that goes first
#                      alternating by round, so that a load that drifts
#                      does not favour one side
#   bench_median_of NAME
#                      the median of $work/times.NAME
#
# Numbers
#   bench_median       the median of the numbers on stdin
#   bench_stats        "MEDIAN MIN MAX" (2 decimals) of the numbers on stdin
#
# Summary
#   bench_load         the 1, 5 and 15 minute load averages
#   bench_fstype DIR   the type of the file system DIR is on
#   bench_host         "N CPUs, kernel K; SKIFF_VERSION; podman V"
#   bench_versions     skiff's version and storage driver, podman's version,
#                      runc's, as the `skiff` and `podman` arrays run them
#   bench_spread FORMAT NAME...
#                      a "spread (min / max ms):" block, a line per NAME
#                      printed with FORMAT from NAME, min and max

# runs and rounds are the script's; bench_how, img and work are for it.
# shellcheck disable=SC2034,SC2154
bench_name=${0##*/}
bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------------------
# Start

bench_init() {
	local tool
	if [[ ${1-} == --helpers ]]; then
		shift
		helpers=${BENCH_HELPERS:-$bench_here/../tests/system/helpers.bash}
	fi
	if [[ -z ${SKIFF-} ]]; then
		if [[ -x $bench_here/../build/skiff ]]; then
			SKIFF=$bench_here/../build/skiff
		else
			SKIFF=$(command -v skiff) || {
				echo "$bench_name: no skiff binary: build it or set SKIFF" >&2
				exit 1
			}
		fi
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null || {
			echo "$bench_name: $tool is not installed (bash tests/install-deps.sh --bench)" >&2
			exit 1
		}
	done
	[[ -z ${helpers-} || -f $helpers ]] || {
		echo "$bench_name: no $helpers (set BENCH_HELPERS)" >&2
		exit 1
	}
}

bench_as_user() {
	local user pass=()
	while [[ $# -gt 0 && $1 != -- ]]; do
		[[ -z ${!1-} ]] || pass+=("$1=${!1}")
		shift
	done
	shift
	[[ $(id -u) -eq 0 ]] || return 0
	user=${BENCH_USER:-skifftest}
	id -u "$user" >/dev/null 2>&1 || {
		echo "$bench_name: no user $user: run tests/run-tests.sh once, or set BENCH_USER" >&2
		exit 1
	}
	# Global: the EXIT trap runs after this function's locals are gone.
	bench_stage=$(mktemp -d /tmp/skiff-bench.XXXXXX)
	trap 'rm -rf "$bench_stage"' EXIT
	cp "$SKIFF" "$bench_stage/skiff"
	cp "$0" "$bench_stage/$bench_name"
	cp "${BASH_SOURCE[0]}" "$bench_stage/lib.sh"
	if [[ -n ${helpers-} ]]; then
		cp "$helpers" "$bench_stage/helpers.bash"
		pass+=(BENCH_HELPERS="$bench_stage/helpers.bash")
	fi
	chmod -R a+rX "$bench_stage"
	cd "$bench_stage" || exit 1
	runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin \
		HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
		SKIFF="$bench_stage/skiff" "${pass[@]}" bash "$bench_stage/$bench_name" "$@"
	exit
}

# ---------------------------------------------------------------------------
# Private state

bench_setup() {
	bench_xdg=$1
	shift
	bench_dirs=("$@")
	bench_work=$1
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -m 0700 "$bench_xdg" "$bench_work/config" "$bench_work/data" "$bench_work/tmp"
	export XDG_RUNTIME_DIR=$bench_xdg XDG_CONFIG_HOME=$bench_work/config
	export XDG_DATA_HOME=$bench_work/data TMPDIR=$bench_work/tmp
	if [[ -n ${helpers-} ]]; then
		# shellcheck source=tests/system/helpers.bash
		source "$helpers"
	fi
	# podman needs runc and cgroupfs here: crun and systemd cgroups are
	# not usable without a systemd user session.
	cat >"$bench_work/containers.conf" <<'EOF'
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
	export CONTAINERS_CONF=$bench_work/containers.conf
}

bench_stores() {
	local base=${BENCH_RUNDIR:-/dev/shm}
	# podman refuses a --runroot longer than 50 characters: the runtime
	# directories get a short path of their own.
	[[ -d $base && -w $base ]] || base=/tmp
	work=$(mktemp -d "${BENCH_DIR:-/tmp}/skiff-bench-$1.XXXXXX")
	rundir=$(mktemp -d "$base/$2.XXXXXX") || {
		rmdir "$work"
		exit 1
	}
	skiff=("$SKIFF" --root "$work/skiff-root" --runroot "$rundir/skiff")
	podman=(podman --root "$work/podman-root" --runroot "$rundir/podman" --storage-driver overlay)
	bench_setup "$rundir/$3" "$work" "$rundir"
}

bench_unshare() {
	"$SKIFF" --root "${bench_dirs[-1]}/rm-root" --runroot "${bench_dirs[-1]}/rm-run" unshare "$@"
}

bench_cleanup() {
	local pid
	# Containers first: they hold mounts and processes inside the stores.
	if declare -p skiff podman >/dev/null 2>&1; then
		"${skiff[@]}" rm -a -f >/dev/null 2>&1 || true
		"${podman[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	fi
	if declare -F stop_all_registries >/dev/null; then
		stop_all_registries >/dev/null 2>&1 || true
	fi
	# podman leaves a pause process holding its user namespace.
	pid=$(cat "$bench_xdg/libpod/tmp/pause.pid" 2>/dev/null || true)
	[[ -z $pid ]] || kill "$pid" 2>/dev/null || true
	bench_unshare rm -rf "${bench_dirs[@]}" >/dev/null 2>&1 || true
	rm -rf "${bench_dirs[@]}" 2>/dev/null || true
}

bench_registries_conf() {
	cat >"$bench_work/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
EOF
	export CONTAINERS_REGISTRIES_CONF=$bench_work/registries.conf
}

bench_busybox_image() {
	echo "$bench_name: building and pushing the busybox image ($bench_work)" >&2
	# shellcheck disable=SC2119 # no arguments: plain HTTP, no auth
	start_registry
	build_busybox_image "$bench_work/layout"
	img=$REGISTRY_ADDR/bench/busybox:latest
	push_image "$bench_work/layout" latest "$img"
	bench_registries_conf
	bench_check_cmd "${skiff[*]} pull -q $img"
	bench_check_cmd "${podman[*]} pull -q --tls-verify=false $img"
	stop_all_registries
}

bench_check_cmd() {
	local cmd=$1
	# shellcheck disable=SC2086 # the command is split on purpose
	$cmd >"$bench_work/check.out" 2>&1 || {
		echo "$bench_name: '$cmd' failed:" >&2
		cat "$bench_work/check.out" >&2
		exit 1
	}
}

# ---------------------------------------------------------------------------
# Timing, one command at a time

bench_pick_timer() {
	if [[ -z ${BENCH_LOOP-} ]] && command -v hyperfine >/dev/null; then
		bench_timer=bench_time_hyperfine
		bench_how="hyperfine -N, 3 warm-up runs"
	else
		bench_timer=bench_time_loop
		bench_how="bash loop with date +%s%N, 3 warm-up runs"
	fi
}

bench_time() {
	$bench_timer "$1"
}

bench_time_loop() {
	local cmd=$1 i start end
	for ((i = 0; i < 3; i++)); do $cmd >/dev/null 2>&1; done
	for ((i = 0; i < runs; i++)); do
		start=$(date +%s%N)
		$cmd >/dev/null 2>&1
		end=$(date +%s%N)
		echo $(((end - start) / 1000))
	done | bench_median | awk '{ printf "%.2f\n", $1 / 1000 }'
}

bench_time_hyperfine() {
	local cmd=$1
	hyperfine -N --warmup 3 --runs "$runs" --export-json "$bench_work/h.json" "$cmd" >/dev/null 2>&1
	jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$bench_work/h.json"
}

# ---------------------------------------------------------------------------
# Timing in rounds

bench_time_round() {
	local n=$1 warmup=$2 names=() args=() i
	shift 2
	while [[ $# -gt 0 ]]; do
		names+=("$1")
		[[ -z $2 ]] || args+=(--prepare "$2")
		args+=("$3")
		shift 3
	done
	hyperfine -N --warmup "$warmup" --runs "$n" --export-json "$bench_work/h.json" \
		"${args[@]}" >/dev/null 2>"$bench_work/h.err" || {
		echo "$bench_name: hyperfine failed:" >&2
		cat "$bench_work/h.err" >&2
		exit 1
	}
	for i in "${!names[@]}"; do
		jq -r ".results[$i].times[] * 1000" "$bench_work/h.json" >>"$bench_work/times.${names[$i]}"
	done
}

bench_pair() {
	local warmup=$1 per=$(((runs + rounds - 1) / rounds)) r
	shift
	rm -f "$bench_work/times.$1" "$bench_work/times.$4"
	for ((r = 0; r < rounds; r++)); do
		if ((r % 2 == 0)); then
			bench_time_round "$per" "$warmup" "$1" "$2" "$3" "$4" "$5" "$6"
		else
			bench_time_round "$per" "$warmup" "$4" "$5" "$6" "$1" "$2" "$3"
		fi
	done
	echo "$bench_name: $1 and $4 done" >&2
}

bench_median_of() {
	bench_stats <"$bench_work/times.$1" | cut -d' ' -f1
}

# ---------------------------------------------------------------------------
# Numbers

bench_median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

# ---------------------------------------------------------------------------
# Summary

bench_load() {
	cut -d' ' -f1-3 /proc/loadavg
}

bench_fstype() {
	df -PT "$1" | awk 'NR == 2 { print $2 }'
}

bench_host() {
	echo "$(nproc) CPUs, kernel $(uname -r); $("$SKIFF" --version); podman $(podman version --format '{{.Client.Version}}')"
}

bench_versions() {
	echo "$("$SKIFF" --version), storage driver $("${skiff[@]}" info --format '{{.Store.GraphDriverName}}');" \
		"podman $("${podman[@]}" version --format '{{.Client.Version}}') with" \
		"$(runc --version | head -1), cgroupfs, overlay"
}

bench_spread() {
	local format=$1 name
	shift
	echo "spread (min / max ms):"
	for name in "$@"; do
		bench_stats <"$bench_work/times.$name" | awk -v n="$name" -v f="$format" '{ printf f, n, $2, $3 }'
	done
}
