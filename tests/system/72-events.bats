#!/usr/bin/env bats
# skiff events: the events log that every invocation appends to, read back
# with filters, formats, time bounds, and followed as it grows.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	if [[ -n ${EVENTS_PID-} ]]; then
		kill "$EVENTS_PID" 2>/dev/null || true
		wait "$EVENTS_PID" 2>/dev/null || true
	fi
	container_teardown
}

events_log() {
	echo "$SKIFF_RUNROOT/events/events.log"
}

@test "events: a container's life in podman's order and line shape" {
	pull_ctr_image
	run_skiff run --name life "$CTR_IMAGE" true
	run_skiff rm life
	run_skiff events --stream=false --filter container=life --format '{{.Status}}'
	assert_equal "$(echo $output)" "create init start died cleanup remove"
	run_skiff events --stream=false --filter container=life --filter event=start
	assert_equal "${#lines[@]}" 1
	assert_match "${lines[0]}" \
		"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)? \\+0000 UTC container start [0-9a-f]{64} \\(image=$CTR_IMAGE, name=life\\)$"
	run_skiff events --stream=false --filter container=life --filter event=start --no-trunc=false
	assert_match "${lines[0]}" " container start [0-9a-f]{12} \\(image="
}

@test "events: detached containers, exit codes, stop, kill, pause, rename, exec" {
	pull_ctr_image
	run_skiff run -d --name d1 --label tier=web "$CTR_IMAGE" sh -c \
		'trap "exit 3" TERM; while :; do sleep 0.1; done'
	local id=${lines[0]}
	run_skiff exec d1 true
	run_skiff pause d1
	run_skiff unpause d1
	run_skiff rename d1 d2
	run_skiff stop d2
	run_skiff events --stream=false --filter type=container --format '{{.Status}} {{.Name}}'
	assert_contains "$output" "exec d1"
	assert_contains "$output" "exec_died d1"
	assert_contains "$output" "pause d1"
	assert_contains "$output" "unpause d1"
	assert_contains "$output" "rename d2"
	assert_contains "$output" "stop d2"
	# The monitor names the exit with the name given since the start.
	assert_contains "$output" "died d2"
	assert_contains "$output" "cleanup d2"
	run_skiff events --stream=false --filter event=died --format json
	assert_equal "$(jq -r '.ContainerExitCode, .ID, .Attributes.tier, .Type' <<<"$output" | tr '\n' ' ')" \
		"3 $id web container "
	run_skiff events --stream=false --filter label=tier=web --filter event=died \
		--filter container="${id:0:12}" \
		--format '{{.Actor.Attributes.exitCode}} {{.Action}} {{.Actor.ID}}'
	assert_equal "$output" "3 died $id"
	run_skiff start d2
	run_skiff kill d2
	run_skiff events --stream=false --filter container=d2 --filter event=kill --format '{{.Status}}'
	assert_equal "$output" "kill"
}

@test "events: images and volumes" {
	pull_ctr_image
	run_skiff tag "$CTR_IMAGE" localhost/evt:1
	run_skiff untag "$CTR_IMAGE" localhost/evt:1
	run_skiff volume create v1
	run_skiff volume rm v1
	run_skiff events --stream=false --filter type=image --format '{{.Status}} {{.Name}}'
	assert_contains "$output" "pull $CTR_IMAGE"
	assert_contains "$output" "tag localhost/evt:1"
	assert_contains "$output" "untag localhost/evt:1"
	run_skiff events --stream=false --filter type=image --filter event=tag
	assert_match "${lines[0]}" " image tag [0-9a-f]{64} localhost/evt:1$"
	run_skiff events --stream=false --filter volume=v1
	assert_equal "${#lines[@]}" 2
	assert_match "${lines[0]}" " volume create v1$"
	assert_match "${lines[1]}" " volume remove v1$"
	run_skiff rmi "$CTR_IMAGE"
	run_skiff events --stream=false --filter image="${CTR_IMAGE_ID#sha256:}" --format '{{.Status}}'
	assert_equal "$(echo $output)" "pull tag untag untag remove"
}

@test "events: --since and --until take timestamps, Unix times and durations" {
	run_skiff volume create old
	local old_ns new_ns since
	old_ns=$(skiff_cmd events --stream=false --format '{{.TimeNano}}')
	run_skiff volume create new
	new_ns=$(skiff_cmd events --stream=false --filter volume=new --format '{{.TimeNano}}')
	# One nanosecond after "old", in RFC 3339 with a fraction.
	since=$(date -u -d "@$((old_ns / 1000000000))" +%Y-%m-%dT%H:%M:%S).$(printf %09d $((old_ns % 1000000000 + 1)))Z
	run_skiff events --stream=false --since "$since" --format '{{.Name}}'
	assert_equal "$output" "new"
	run_skiff events --stream=false --since 10m --format '{{.Name}}'
	assert_equal "$(echo $output)" "old new"
	run_skiff events --stream=false --until 10m --format '{{.Name}}'
	assert_equal "$output" ""
	run_skiff events --stream=false --since 2000-01-01T00:00:00Z --until 2000-01-02T00:00:00Z
	assert_equal "$output" ""
	# --until in the past also ends a stream, after the events before it.
	run_skiff events --since 10m --until "$((new_ns / 1000000000 + 1))" --format '{{.Name}}'
	assert_equal "$(echo $output)" "old new"
	run_skiff 125 events --since yesterday
	assert_contains "$output" 'unable to convert since time of yesterday'
}

@test "events: bad filters and templates are errors before any output" {
	run_skiff 125 events --stream=false --filter colour=red
	assert_contains "$output" "colour=red is an invalid filter"
	run_skiff 125 events --stream=false --filter container
	assert_contains "$output" "is an invalid filter"
	run_skiff 125 events --format '{{.Nope}}'
	assert_contains "$output" "can't evaluate field Nope"
	run_skiff 125 events --stream=maybe
	assert_contains "$output" "maybe"
	run_skiff 125 events extra
	assert_contains "$output" "takes no arguments"
}

@test "events: damaged lines are skipped, the rest still reads" {
	run_skiff volume create a1
	printf 'garbage\n{"Type":"spaceship","Status":"x","Time":"2024-01-01T00:00:00Z"}\n' \
		>>"$(events_log)"
	run_skiff volume create a2
	run_skiff events --stream=false --format '{{.Name}}'
	assert_equal "$(echo $output)" "a1 a2"
}

@test "events: streaming prints new events and ends on SIGTERM and SIGINT" {
	run_skiff volume create before
	local out=$SKIFF_TEST_DIR/stream.out
	skiff_bg "$out" events --format '{{.Type}} {{.Status}} {{.Name}}'
	EVENTS_PID=$SKIFF_BG_PID
	# The stream shows what comes after its start: wait until it watches
	# (its signalfd is made after the inotify watch).
	wait_until 100 bash -c "ls -l /proc/$EVENTS_PID/fd 2>/dev/null | grep -q signalfd"
	run_skiff volume create during
	wait_until 100 grep -q "volume create during" "$out"
	kill -TERM "$EVENTS_PID"
	wait "$EVENTS_PID" && rc=0 || rc=$?
	EVENTS_PID=
	assert_equal "$rc" 0 "exit status after SIGTERM"
	assert_not_contains "$(cat "$out")" "before"

	skiff_bg "$out" events --format '{{.Name}}'
	EVENTS_PID=$SKIFF_BG_PID
	wait_until 100 bash -c "ls -l /proc/$EVENTS_PID/fd 2>/dev/null | grep -q signalfd"
	kill -INT "$EVENTS_PID"
	wait "$EVENTS_PID" && rc=0 || rc=$?
	EVENTS_PID=
	assert_equal "$rc" 0 "exit status after SIGINT"
}

@test "events: a follower keeps going across a rotation" {
	export SKIFF_EVENTS_LOGFILE_MAX_SIZE=2048
	local out=$SKIFF_TEST_DIR/stream.out i
	skiff_bg "$out" events --format '{{.Status}} {{.Name}}'
	EVENTS_PID=$SKIFF_BG_PID
	wait_until 100 bash -c "ls -l /proc/$EVENTS_PID/fd 2>/dev/null | grep -q signalfd"
	for i in $(seq 1 40); do
		skiff_cmd volume create "vol$i" >/dev/null
	done
	wait_until 100 grep -q "create vol40" "$out"
	kill -TERM "$EVENTS_PID"
	wait "$EVENTS_PID" || true
	EVENTS_PID=
	assert_contains "$(cat "$(events_log)")" '"Status":"rotate"'
	# Every event once, in order.
	assert_equal "$(grep -c '^create vol' "$out")" 40
	assert_equal "$(grep '^create vol' "$out" | sed 's/create vol//' | tr '\n' ' ')" \
		"$(seq 1 40 | tr '\n' ' ')"
	[[ $(stat -c %s "$(events_log)") -le 2048 ]] || die "log not rotated"
	run_skiff events --stream=false --format '{{.Name}}' --filter event=create
	assert_contains "$output" "vol40"
	assert_not_contains "$output" "vol1"$'\n'
}

@test "events: system events is the same command" {
	run_skiff volume create sv
	run_skiff system events --stream=false --format '{{.Type}}:{{.Name}}'
	assert_equal "$output" "volume:sv"
}

@test "events: save, load, import, commit, push and the prunes" {
	pull_ctr_image
	local tar=$SKIFF_TEST_DIR/img.tar
	run_skiff save -o "$tar" "$CTR_IMAGE"
	run_skiff load -q -i "$tar"
	run_skiff run --name src "$CTR_IMAGE" true
	run_skiff commit -q src localhost/committed:1
	run_skiff export -o "$SKIFF_TEST_DIR/fs.tar" src
	run_skiff import -q "$SKIFF_TEST_DIR/fs.tar" localhost/imported:1
	run_skiff push -q --tls-verify=false localhost/committed:1 "$REGISTRY_ADDR/skiff/committed:1"
	run_skiff volume create lonely
	run_skiff volume prune -f
	run_skiff untag localhost/committed:1
	run_skiff image prune -f
	run_skiff events --stream=false --filter type=image --format '{{.Status}} {{.Name}}'
	assert_contains "$output" "save $CTR_IMAGE"
	assert_contains "$output" "load $CTR_IMAGE"
	assert_contains "$output" "import localhost/imported:1"
	assert_contains "$output" "push $REGISTRY_ADDR/skiff/committed:1"
	assert_match "$output" $'(^|\n)remove \n|(^|\n)remove $'
	run_skiff events --stream=false --filter container=src --filter event=commit --format '{{.Status}}'
	assert_equal "$output" "commit"
	run_skiff events --stream=false --filter type=volume --format '{{.Status}} {{.Name}}'
	assert_equal "$output" $'create lonely\nremove lonely\nprune '
}
