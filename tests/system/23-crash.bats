#!/usr/bin/env bats
# Crash safety: a monitor or a foreground skiff killed with SIGKILL leaves
# a state that ps -a shows truthfully (running while the container's
# process lives, exited once it is gone) and that rm -f cleans up: no
# record, no directory, no process.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

ctr_id() {
	skiff_cmd inspect --format '{{.Id}}' "$1"
}

ctr_pid() {
	skiff_cmd inspect --format '{{.State.Pid}}' "$1"
}

monitor_pid() {
	jq -r .monitor_pid "$(ctr_state_file "$(ctr_id "$1")")"
}

not_alive() {
	! pid_alive "$1"
}

# rm -f NAME leaves nothing: no record, no directory, no process.
assert_removed() {
	local name=$1 id=$2 pid=$3
	run_skiff rm -f "$name"
	run_skiff ps -a -q
	assert_equal "$output" "" "ps -a -q"
	[[ ! -e $SKIFF_ROOT/containers/$id ]] || die "the container's directory is left"
	[[ ! -e $SKIFF_RUNROOT/containers/$id ]] || die "the container's runtime directory is left"
	wait_until 50 not_alive "$pid"
}

@test "crash: a killed monitor, the container lives on: ps -a says Up, rm -f cleans" {
	local id pid monitor
	pull_ctr_image
	run_skiff run -d --name orphan "$CTR_IMAGE" sleep 1000
	id=$output
	pid=$(ctr_pid orphan)
	monitor=$(monitor_pid orphan)
	kill -KILL "$monitor"
	wait_until 50 not_alive "$monitor"
	pid_alive "$pid" || die "the container died with its monitor"
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	assert_match "$output" '^orphan Up ' "ps -a"
	assert_equal "$(ctr_status orphan)" "running" "inspect"
	assert_removed orphan "$id" "$pid"
}

@test "crash: a killed monitor, then the container's end: ps -a says Exited, rm cleans" {
	local id pid monitor
	pull_ctr_image
	run_skiff run -d --name lost "$CTR_IMAGE" sleep 1000
	id=$output
	pid=$(ctr_pid lost)
	monitor=$(monitor_pid lost)
	kill -KILL "$monitor"
	wait_until 50 not_alive "$monitor"
	kill -KILL "$pid"
	wait_until 50 not_alive "$pid"
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	assert_match "$output" '^lost Exited ' "ps -a"
	assert_equal "$(ctr_status lost)" "exited" "inspect"
	run_skiff ps -q
	assert_equal "$output" "" "ps (running only)"
	run_skiff rm lost
	[[ ! -e $SKIFF_ROOT/containers/$id ]] || die "the container's directory is left"
}

@test "crash: a killed foreground skiff: ps -a says Up, rm -f cleans" {
	local id pid cli
	pull_ctr_image
	skiff_bg "$SKIFF_TEST_DIR/out" run --name fg "$CTR_IMAGE" sleep 1000
	cli=$SKIFF_BG_PID
	is_running() {
		[[ $(ctr_status fg) == running ]]
	}
	wait_until 100 is_running
	id=$(ctr_id fg)
	pid=$(ctr_pid fg)
	kill -KILL "$cli"
	wait "$cli" || true
	pid_alive "$pid" || die "the container died with skiff"
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	assert_match "$output" '^fg Up ' "ps -a"
	assert_removed fg "$id" "$pid"
}

@test "crash: a killed foreground skiff of an --rm container: rm -f cleans" {
	local id pid cli
	pull_ctr_image
	skiff_bg "$SKIFF_TEST_DIR/out" run --rm --name fgrm "$CTR_IMAGE" sleep 1000
	cli=$SKIFF_BG_PID
	is_running() {
		[[ $(ctr_status fgrm) == running ]]
	}
	wait_until 100 is_running
	id=$(ctr_id fgrm)
	pid=$(ctr_pid fgrm)
	kill -KILL "$cli"
	wait "$cli" || true
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	assert_match "$output" '^fgrm Up ' "ps -a"
	assert_removed fgrm "$id" "$pid"
}

@test "crash: a monitor killed between restarts: no restart is claimed, rm -f cleans" {
	local id monitor
	pull_ctr_image
	run_skiff run -d --name looping --restart always "$CTR_IMAGE" sh -c 'exit 1'
	id=$output
	restarted() {
		[[ $(skiff_cmd inspect --format '{{.RestartCount}}' looping) -ge 1 ]]
	}
	wait_until 100 restarted
	monitor=$(monitor_pid looping)
	kill -KILL "$monitor"
	wait_until 50 not_alive "$monitor"
	run_skiff inspect --format '{{.State.Status}} {{.State.Restarting}}' looping
	assert_match "$output" '^(exited|running) false$' "state without a monitor"
	run_skiff rm -f looping
	[[ ! -e $SKIFF_ROOT/containers/$id ]] || die "the container's directory is left"
}
