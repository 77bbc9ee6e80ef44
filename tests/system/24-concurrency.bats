#!/usr/bin/env bats
# Concurrent invocations against one store: file locks keep the container
# index whole and names unique, and --rm containers leave nothing behind.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

# Start N copies of skiff ARGS... at once; each one's exit code goes to
# $SKIFF_TEST_DIR/rc.I and its output to out.I.
run_concurrently() {
	local n=$1 i pids=()
	shift
	for i in $(seq 1 "$n"); do
		(
			rc=0
			"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" "$@" \
				>"$SKIFF_TEST_DIR/out.$i" 2>&1 </dev/null || rc=$?
			echo "$rc" >"$SKIFF_TEST_DIR/rc.$i"
		) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
}

@test "concurrency: 20 simultaneous run --rm all succeed and leave nothing" {
	local i
	pull_ctr_image
	run_concurrently 20 run --rm "$CTR_IMAGE" sh -c 'echo ran'
	for i in $(seq 1 20); do
		assert_equal "$(cat "$SKIFF_TEST_DIR/rc.$i")" 0 "exit code of run $i ($(cat "$SKIFF_TEST_DIR/out.$i"))"
		assert_equal "$(cat "$SKIFF_TEST_DIR/out.$i")" "ran" "output of run $i"
	done
	run_skiff ps -a -q
	assert_equal "$output" "" "ps -a -q"
	assert_equal "$(ls -A "$SKIFF_ROOT/containers")" "" "container directories"
	assert_equal "$(find "$SKIFF_RUNROOT/containers" -mindepth 1 -type d)" "" \
		"runtime directories"
}

@test "concurrency: of 6 simultaneous run -d --name same, exactly one wins" {
	local i ok=0 winner
	pull_ctr_image
	run_concurrently 6 run -d --name same "$CTR_IMAGE" sleep 1000
	for i in $(seq 1 6); do
		if [[ $(cat "$SKIFF_TEST_DIR/rc.$i") == 0 ]]; then
			ok=$((ok + 1))
			winner=$(cat "$SKIFF_TEST_DIR/out.$i")
		else
			assert_equal "$(cat "$SKIFF_TEST_DIR/rc.$i")" 125 "exit code of a loser"
			assert_contains "$(cat "$SKIFF_TEST_DIR/out.$i")" \
				'the container name "same" is already in use' "error of a loser"
		fi
	done
	assert_equal "$ok" 1 "runs that succeeded"
	run_skiff ps -a -q --no-trunc
	assert_equal "$output" "$winner" "the one container"
	assert_equal "$(ctr_status same)" "running" "its status"
}

@test "concurrency: simultaneous create of distinct names keeps every record" {
	local i pids=()
	pull_ctr_image
	for i in $(seq 1 10); do
		skiff_bg "$SKIFF_TEST_DIR/create.$i" create --name "c$i" "$CTR_IMAGE" true
		pids[i]=$SKIFF_BG_PID
	done
	for i in $(seq 1 10); do
		wait "${pids[i]}" || die "create c$i failed: $(cat "$SKIFF_TEST_DIR/create.$i")"
	done
	run_skiff ps -a --format '{{.Names}}'
	assert_equal "$(LC_ALL=C sort <<<"$output" | tr '\n' ' ')" \
		"c1 c10 c2 c3 c4 c5 c6 c7 c8 c9 " "names"
}
