#!/usr/bin/env bats
# skiff stats: one sample of running containers (--no-stream), its
# --format forms, -a, and a stopped container named on the command line.
# The numbers come from /proc, so only their shape is checked.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

# A running container NAME that idles until SIGTERM.
run_idle() {
	run_skiff run -d --name "$1" "$CTR_IMAGE" sh -c \
		'trap "exit 0" TERM; echo started; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	wait_until 100 ctr_logs_contain "$1" started
}

@test "stats --no-stream: one row for a running container, docker's columns" {
	pull_ctr_image
	run_idle st1
	run_skiff stats --no-stream
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == "CONTAINER ID"*NAME*"CPU %"*"MEM USAGE / LIMIT"*"MEM %"*"NET I/O"*"BLOCK I/O"*PIDS ]]
	read -r id name cpu _ <<<"${lines[1]}"
	[ "$name" = st1 ]
	[ "${#id}" -eq 12 ]
	[[ $cpu == *% ]]
	pids=$(awk '{ print $NF }' <<<"${lines[1]}")
	[ "$pids" -ge 1 ]
}

@test "stats --format: a template and json" {
	pull_ctr_image
	run_idle st2
	run_skiff stats --no-stream --format '{{.Name}} {{.PIDs}}' st2
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	read -r name pids <<<"${lines[0]}"
	[ "$name" = st2 ]
	[ "$pids" -ge 1 ]
	run_skiff stats --no-stream --format json st2
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].Name' <<<"$output")" = st2 ]
	[[ $(jq -r '.[0].MemUsage' <<<"$output") == *" / "* ]]
	[[ $(jq -r '.[0].NetIO' <<<"$output") == *" / "* ]]
}

@test "stats: a stopped container is an error when named, listed with -a" {
	pull_ctr_image
	run_skiff create --name st3 "$CTR_IMAGE" true
	[ "$status" -eq 0 ]
	run_skiff 125 stats --no-stream st3
	[[ $output == *'container "st3" is not running'* ]]
	run_skiff stats --no-stream --format '{{.Name}}'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run_skiff stats --no-stream -a --format '{{.Name}} {{.PIDs}} {{.CPUPerc}}'
	[ "$status" -eq 0 ]
	[ "$output" = "st3 0 0.00%" ]
}

@test "stats: an unknown container is an error" {
	run_skiff 125 stats --no-stream nosuch
	[[ $output == *nosuch* ]]
}

@test "stats: streams a frame a second until interrupted, no ANSI codes off a terminal" {
	pull_ctr_image
	run_idle st4
	out=$BATS_TEST_TMPDIR/stream
	timeout -s INT 3.5 "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		stats --format '{{.Name}}' st4 >"$out" 2>&1 || [ $? -eq 124 ]
	[ "$(grep -c '^st4$' "$out")" -ge 2 ]
	! grep -q $'\033' "$out"
}
