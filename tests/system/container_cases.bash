# Container test bodies shared by 20-run.bats and 21-detached.bats (the
# driver skiff chooses, kernel overlay here) and by 25-driver-vfs.bats and
# 26-driver-fuse.bats (SKIFF_TEST_DRIVER forces the driver).  bats cannot
# import tests, so each body is a function and each file has thin @test
# wrappers.  A file that loads this also loads helpers and calls
# container_image_setup in setup_file and container_teardown in teardown.

# shellcheck disable=SC2154 # bats' run sets status, output, lines, stderr
# shellcheck disable=SC2016 # $ in single quotes is for the container's shell

# The file system type of "/" that the driver gives a container.
expected_root_fstype() {
	case ${SKIFF_TEST_DRIVER:-overlay} in
	overlay) echo overlay ;;
	fuse-overlayfs) echo fuse.fuse-overlayfs ;;
	# vfs: a copied directory on the host's file system.
	vfs) findmnt -n -o FSTYPE --target "$SKIFF_ROOT" ;;
	esac
}

# ---------------------------------------------------------------------------
# Foreground

case_run_exit_codes() {
	pull_ctr_image
	run_skiff 0 run --rm "$CTR_IMAGE" true
	run_skiff 1 run --rm "$CTR_IMAGE" false
	run_skiff 42 run --rm "$CTR_IMAGE" sh -c 'exit 42'
}

case_run_output() {
	pull_ctr_image
	run_skiff --separate-stderr run --rm "$CTR_IMAGE" sh -c 'echo to-out; echo to-err >&2'
	assert_equal "$output" "to-out" "stdout"
	assert_equal "$stderr" "to-err" "stderr"
}

# The driver is the one asked for, and the writable layer belongs to the
# container: it keeps the file across a restart, and a second container
# from the image does not see it.
case_run_rootfs_writable_layer() {
	local fstype script
	pull_ctr_image
	fstype=$(expected_root_fstype)
	script='test -e /etc/new-file && echo kept; echo data >/etc/new-file
		awk '"'"'$2 == "/" { t = $3 } END { print t }'"'"' /proc/mounts'
	run_skiff run --name first "$CTR_IMAGE" sh -c "$script"
	assert_equal "$output" "$fstype" "type of the root file system"
	run_skiff inspect --format '{{.Driver}}' first
	assert_equal "$output" "${SKIFF_TEST_DRIVER:-overlay}" "Driver"
	run_skiff run --rm "$CTR_IMAGE" sh -c 'test -e /etc/new-file && echo present || echo absent'
	assert_equal "$output" "absent" "a new container's /etc/new-file"
	run_skiff start -a first
	assert_equal "$output" $'kept\n'"$fstype" "the first container started again"
}

case_run_rm_foreground() {
	pull_ctr_image
	run_skiff 3 run --rm --name gone "$CTR_IMAGE" sh -c 'exit 3'
	run_skiff 1 container exists gone
	run_skiff ps -a -q
	assert_equal "$output" "" "ps -a -q"
	assert_equal "$(ls -A "$SKIFF_ROOT/containers")" "" "container directories left"
}

case_run_read_only() {
	pull_ctr_image
	run_skiff 1 run --rm --read-only "$CTR_IMAGE" touch /new-file
	assert_contains "$output" "Read-only file system" "error of the write"
	run_skiff run --rm --read-only --tmpfs /tmp "$CTR_IMAGE" sh -c 'echo ok >/tmp/f && cat /tmp/f'
	assert_equal "$output" "ok" "a write to the --tmpfs /tmp"
}

case_run_bind_mount() {
	local host=$SKIFF_TEST_DIR/shared
	pull_ctr_image
	mkdir "$host"
	echo from-host >"$host/in"
	run_skiff run --rm -v "$host:/data" "$CTR_IMAGE" sh -c 'cat /data/in; echo from-first >/data/out'
	assert_equal "$output" "from-host" "host file read in the container"
	assert_equal "$(cat "$host/out")" "from-first" "container's file on the host"
	run_skiff run --rm -v "$host:/data:ro" "$CTR_IMAGE" cat /data/out
	assert_equal "$output" "from-first" "second container reads the first one's file"
	run_skiff 1 run --rm -v "$host:/data:ro" "$CTR_IMAGE" sh -c 'echo x >/data/ro'
	assert_contains "$output" "Read-only file system" "write to a :ro bind"
	[[ ! -e $host/ro ]] || die "the :ro bind was written"
}

case_run_named_volume() {
	pull_ctr_image
	run_skiff run --rm -v data:/data "$CTR_IMAGE" sh -c 'echo kept >/data/f'
	run_skiff run --rm -v data:/srv "$CTR_IMAGE" cat /srv/f
	assert_equal "$output" "kept" "the volume's file in a second container"
}

case_run_keep_id() {
	pull_ctr_image
	run_skiff run --rm --userns=keep-id "$CTR_IMAGE" sh -c 'id -u; id -g'
	assert_equal "${lines[0]}" "$(id -u)" "id -u"
	assert_equal "${lines[1]}" "$(id -g)" "id -g"
}

# ---------------------------------------------------------------------------
# Detached

case_detached_logs_exec_stop_rm() {
	local id
	pull_ctr_image
	run_skiff run -d --name web "$CTR_IMAGE" sh -c \
		'trap "echo stopping; exit 5" TERM; echo started; while :; do sleep 0.1; done'
	assert_match "$output" '^[0-9a-f]{64}$' "run -d output"
	id=$output
	wait_until 100 ctr_logs_contain web started
	run_skiff exec web sh -c 'echo in-$((6 * 7)) >/tmp/x; cat /tmp/x'
	assert_equal "$output" "in-42" "exec output"
	run_skiff stop web
	assert_equal "$output" "web" "stop output"
	run_skiff logs web
	assert_equal "$output" $'started\nstopping' "logs after the stop"
	run_skiff inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$id"
	assert_equal "$output" "exited 5" "state after the stop"
	run_skiff rm web
	run_skiff 1 container exists "$id"
	assert_equal "$(ls -A "$SKIFF_ROOT/containers")" "" "container directories left"
}

# logs -f follows until the container exits (its own lifetime bounds it).
case_detached_logs_follow() {
	pull_ctr_image
	run_skiff run -d --name counter "$CTR_IMAGE" sh -c \
		'for i in 1 2 3 4 5; do echo line$i; sleep 0.1; done'
	run_skiff logs -f counter
	assert_equal "$output" $'line1\nline2\nline3\nline4\nline5' "logs -f"
	assert_equal "$(ctr_status counter)" "exited" "status after logs -f returned"
}

case_detached_restart_on_failure() {
	pull_ctr_image
	run_skiff run -d --name flaky --restart on-failure:2 "$CTR_IMAGE" sh -c 'echo run; exit 3'
	run_skiff wait flaky
	assert_equal "$output" "3" "wait"
	run_skiff inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{.State.Restarting}}' flaky
	assert_equal "$output" "exited 3 2 false" "status, exit code, restarts"
	run_skiff logs flaky
	assert_equal "$output" $'run\nrun\nrun' "one line per run"
}

# The monitor of a detached --rm container removes it; `wait` may find it
# already gone (125, no such container) or print its exit code.
case_detached_rm() {
	local id
	pull_ctr_image
	run_skiff run -d --rm "$CTR_IMAGE" sh -c 'sleep 0.2; exit 4'
	id=$output
	run_skiff '?' wait "$id"
	if [[ $status -eq 0 ]]; then
		assert_equal "$output" "4" "wait"
	else
		assert_equal "$status" 125 "wait's exit code"
		assert_contains "$output" "no such container" "wait"
	fi
	run_skiff ps -a -q --no-trunc
	assert_not_contains "$output" "$id" "ps -a"
	wait_until 50 test -z "$(ls -A "$SKIFF_ROOT/containers")"
}

case_detached_pause_unpause() {
	local pid before after
	pull_ctr_image
	run_skiff run -d --name ticker "$CTR_IMAGE" sh -c \
		'i=0; while :; do i=$((i + 1)); echo $i >/tmp/n; sleep 0.05; done'
	wait_until 100 skiff_cmd exec ticker test -s /tmp/n
	pid=$(skiff_cmd inspect --format '{{.State.Pid}}' ticker)
	run_skiff pause ticker
	assert_equal "$(ctr_status ticker)" "paused" "status"
	run_skiff inspect --format '{{.State.Paused}}' ticker
	assert_equal "$output" "true" "State.Paused"
	assert_stopped_tree "$pid"
	# exec starts a process of its own: it runs while the others stay put.
	before=$(skiff_cmd exec ticker cat /tmp/n)
	after=$(skiff_cmd exec ticker cat /tmp/n)
	assert_equal "$after" "$before" "counter while paused"
	run_skiff unpause ticker
	assert_equal "$(ctr_status ticker)" "running" "status after unpause"
	counter_passed() {
		[[ $(skiff_cmd exec ticker cat /tmp/n) -gt $before ]]
	}
	wait_until 100 counter_passed
}

# PID and each of its descendants in its mount namespace is stopped (State
# T in /proc).  A fuse-overlayfs daemon, in the pid namespace but not in
# the container's mount namespace, serves the root and must run on.
assert_stopped_tree() {
	local pid=$1 state child
	state=$(awk '/^State:/ { print $2 }' "/proc/$pid/status")
	assert_equal "$state" "T" "state of $pid"
	for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		[[ $(readlink "/proc/$child/ns/mnt") == "$(readlink "/proc/$pid/ns/mnt")" ]] ||
			continue
		assert_stopped_tree "$child"
	done
}
