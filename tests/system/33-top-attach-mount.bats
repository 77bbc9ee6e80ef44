#!/usr/bin/env bats
# top (podman's columns, descriptors, ps options; only the container's
# processes), attach (output and input of a detached container, its exit
# code, --no-stdin, detach keys under a terminal) and mount/unmount (only
# inside `skiff unshare` when rootless).

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

# A table row with its columns separated by one space (ps right-aligns
# numbers).
squeeze() {
	sed -E 's/^ +//; s/  +/ /g; s/ +$//'
}

run_sleeper() {
	run_skiff run -d --name "$1" "$CTR_IMAGE" sh -c 'sleep 1000 & sleep 1001; wait'
	wait_until 100 top_has "$1" "sleep 1001"
}

top_has() {
	[[ $(skiff_cmd top "$1" 2>/dev/null) == *"$2"* ]]
}

# ---------------------------------------------------------------------------
# top

@test "top: podman's columns and the container's command" {
	pull_ctr_image
	run_sleeper t1
	run_skiff top t1
	assert_equal "$(squeeze <<<"${lines[0]}")" "USER PID PPID %CPU ELAPSED TTY TIME COMMAND" "header"
	assert_contains "$output" "sleep 1000" "a process"
}

@test "top: only the container's processes" {
	local pid ns
	pull_ctr_image
	run_sleeper t1
	ns=$(readlink "/proc/$(skiff_cmd inspect --format '{{.State.Pid}}' t1)/ns/pid")
	run_skiff top t1 pid
	assert_equal "$(squeeze <<<"${lines[0]}")" "PID" "header"
	for pid in "${lines[@]:1}"; do
		pid=${pid// /}
		assert_equal "$(readlink "/proc/$pid/ns/pid")" "$ns" "pid namespace of $pid"
	done
	assert_equal "$((${#lines[@]} - 1))" 3 "sh and two sleeps"
}

@test "top: descriptors choose the columns" {
	pull_ctr_image
	run_sleeper t1
	run_skiff top t1 pid,args
	assert_equal "$(squeeze <<<"${lines[0]}")" "PID COMMAND" "header"
	assert_contains "$output" "sleep 1001" "row"
}

@test "top: other arguments are ps options" {
	pull_ctr_image
	run_sleeper t1
	run_skiff top t1 -ef
	assert_equal "$(squeeze <<<"${lines[0]}")" "UID PID PPID C STIME TTY TIME CMD" "header"
	assert_contains "$output" "sleep 1001" "row"
	assert_not_contains "$output" "bats" "the host's processes"
}

@test "top: a stopped container is an error" {
	pull_ctr_image
	run_skiff run --name t2 "$CTR_IMAGE" true
	run_skiff 125 top t2
	assert_contains "$output" "top can only be used on running containers" "error"
}

# ---------------------------------------------------------------------------
# attach

@test "attach: input reaches the container, output comes back, its exit code ends it" {
	pull_ctr_image
	run_skiff run -d -i --name a1 "$CTR_IMAGE" sh -c 'read x; echo "got:$x"; echo "err:$x" >&2; exit 3'
	run skiff_cmd attach a1 <<<"hi"
	[[ $status -eq 3 ]] || die "exit code $status: $output"
	assert_contains "$output" "got:hi" "stdout"
	assert_contains "$output" "err:hi" "stderr"
}

@test "attach --no-stdin: our input is not passed on" {
	local out=$SKIFF_TEST_DIR/out pid rc=0
	pull_ctr_image
	run_skiff run -d -i --name a2 "$CTR_IMAGE" sh -c \
		'while [ ! -e /tmp/go ]; do echo tick; sleep 0.1; done; read -t 1 x; echo "got:$x"; exit 4'
	echo hello >"$SKIFF_TEST_DIR/in"
	skiff_cmd attach --no-stdin a2 <"$SKIFF_TEST_DIR/in" >"$out" 2>&1 3>&- &
	pid=$!
	wait_until 100 grep -q tick "$out"
	skiff_cmd exec a2 touch /tmp/go
	wait "$pid" || rc=$?
	assert_equal "$rc" 4 "exit code"
	assert_equal "$(tail -1 "$out")" "got:" "what the container read"
}

@test "attach: ctrl-p ctrl-q under a terminal detaches and leaves it running" {
	local out=$SKIFF_TEST_DIR/out pid rc=0
	pull_ctr_image
	run_skiff run -d -it --name a3 "$CTR_IMAGE" sh -c 'while :; do echo tick; sleep 0.1; done'
	mkfifo "$SKIFF_TEST_DIR/keys"
	script -qfec "$SKIFF --root $SKIFF_ROOT --runroot $SKIFF_RUNROOT attach a3" /dev/null \
		<"$SKIFF_TEST_DIR/keys" >"$out" 2>&1 3>&- &
	pid=$!
	# Held open until the end: on EOF script would type ^D at the container.
	exec 4>"$SKIFF_TEST_DIR/keys"
	wait_until 100 grep -q tick "$out"
	printf '\x10\x11' >&4
	wait "$pid" || rc=$?
	exec 4>&-
	assert_equal "$rc" 0 "exit code"
	assert_equal "$(ctr_status a3)" "running" "status"
}

@test "attach --detach-keys: another sequence detaches" {
	local out=$SKIFF_TEST_DIR/out pid rc=0
	pull_ctr_image
	run_skiff run -d -it --name a4 "$CTR_IMAGE" sh -c 'while :; do echo tick; sleep 0.1; done'
	mkfifo "$SKIFF_TEST_DIR/keys"
	script -qfec "$SKIFF --root $SKIFF_ROOT --runroot $SKIFF_RUNROOT attach --detach-keys ctrl-x a4" \
		/dev/null <"$SKIFF_TEST_DIR/keys" >"$out" 2>&1 3>&- &
	pid=$!
	exec 4>"$SKIFF_TEST_DIR/keys"
	wait_until 100 grep -q tick "$out"
	printf '\x18' >&4
	wait "$pid" || rc=$?
	exec 4>&-
	assert_equal "$rc" 0 "exit code"
	assert_equal "$(ctr_status a4)" "running" "status"
}

@test "attach: malformed --detach-keys are an error" {
	pull_ctr_image
	run_skiff run -d --name a5 "$CTR_IMAGE" sleep 1000
	run_skiff 125 attach --detach-keys ctrl-1 a5
	assert_contains "$output" 'invalid detach keys "ctrl-1"' "error"
}

@test "attach: a stopped container is an error" {
	pull_ctr_image
	run_skiff run --name a6 "$CTR_IMAGE" true
	run_skiff 125 attach a6
	assert_contains "$output" "you cannot attach to a stopped container, start it first" "error"
}

# ---------------------------------------------------------------------------
# mount, unmount

@test "mount: refused outside skiff unshare when rootless" {
	require_rootless
	pull_ctr_image
	run_skiff create --name m1 "$CTR_IMAGE" true
	run_skiff 125 mount m1
	assert_contains "$output" \
		'cannot run command "skiff mount" in rootless mode, must execute `skiff unshare` first' \
		"error"
}

@test "mount: inside skiff unshare prints where the container's files are" {
	pull_ctr_image
	run_skiff run --name m1 "$CTR_IMAGE" sh -c 'echo marked >/etc/marker'
	run_skiff unshare sh -c 'cat "$("$0" mount m1)/etc/marker"' "$SKIFF"
	assert_equal "$output" "marked" "file in the mounted root"
}

@test "mount: without arguments lists the mounted containers" {
	local id
	pull_ctr_image
	run_skiff create --name m1 "$CTR_IMAGE" true
	id=$output
	run_skiff unshare sh -c 'p=$("$0" mount m1) && "$0" mount && echo "path:$p"' "$SKIFF"
	assert_match "${lines[0]}" "^${id:0:12}  /" "listing"
	assert_equal "${lines[0]#*  }" "${lines[1]#path:}" "listed path"
}

@test "unmount: the root file system is gone from the mount point" {
	local id
	pull_ctr_image
	run_skiff create --name m1 "$CTR_IMAGE" true
	id=$output
	run_skiff unshare sh -c \
		'p=$("$0" mount m1) && "$0" unmount m1 && { [ -e "$p/bin/busybox" ] && echo still || echo gone; }' \
		"$SKIFF"
	assert_equal "$output" "$id"$'\n'"gone" "unmount output and effect"
}
