#!/usr/bin/env bats
# What a process inside a container sees: its own processes only, its own
# hostname and /etc files, a minimal /dev, podman's masked and read-only
# /proc and /sys paths, and no way to the host's files that were not
# mounted in.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

@test "inside: ps shows the container's processes only, PID 1 is the command" {
	pull_ctr_image
	run_skiff run --rm "$CTR_IMAGE" sh -c 'ps -o pid,comm; exit 0'
	assert_equal "$(squeeze_spaces <<<"$output")" $'PID COMMAND\n1 sh\n2 ps' "ps"
}

@test "inside: exec sees the container's processes, PID 1 the first command" {
	pull_ctr_image
	run_skiff run -d --name box "$CTR_IMAGE" sleep 1000
	run_skiff exec box ps -o pid,comm
	assert_equal "$(squeeze_spaces <<<"${lines[0]}")" "PID COMMAND" "header"
	assert_equal "$(squeeze_spaces <<<"${lines[1]}")" "1 sleep" "PID 1"
	assert_equal "${#lines[@]}" 3 "header, sleep and ps"
}

@test "inside: the hostname is the short ID, also in /etc/hostname and /etc/hosts" {
	local id
	pull_ctr_image
	run_skiff run -d --name named "$CTR_IMAGE" sleep 1000
	id=$output
	run_skiff exec named sh -c 'hostname; cat /etc/hostname; echo "$HOSTNAME"'
	assert_equal "$output" "${id:0:12}"$'\n'"${id:0:12}"$'\n'"${id:0:12}" "hostname, /etc/hostname, HOSTNAME"
	run_skiff exec named cat /etc/hosts
	assert_match "$output" '(^|'$'\n'')127\.0\.0\.1[[:space:]]+localhost' "localhost line"
	assert_match "$output" "(^|"$'\n'")[0-9.]+[[:space:]].*${id:0:12}" "the container's own line"
}

@test "inside: /dev has the usual nodes, and no others from the host" {
	pull_ctr_image
	run_skiff run --rm "$CTR_IMAGE" sh -c '
		for n in null zero full random urandom tty; do test -c /dev/$n || echo "no /dev/$n"; done
		test -c /dev/pts/ptmx || test -c /dev/ptmx || echo "no ptmx"
		test -d /dev/shm || echo "no /dev/shm"
		test -d /dev/mqueue || echo "no /dev/mqueue"
		for n in stdin stdout stderr fd; do test -L /dev/$n || echo "no /dev/$n link"; done
		for n in sda vda mem kmsg; do test -e /dev/$n && echo "host /dev/$n"; done
		echo x >/dev/null && head -c 4 /dev/zero | wc -c
		exit 0'
	assert_equal "$output" "4" "missing or extra nodes"
}

@test "inside: /dev/full refuses writes" {
	pull_ctr_image
	run_skiff 1 run --rm "$CTR_IMAGE" sh -c 'echo x >/dev/full'
	assert_contains "$output" "No space left on device" "error"
}

@test "inside: masked /proc and /sys paths read empty" {
	pull_ctr_image
	# /proc/kcore is masked too; this test kernel may not have it at all.
	run_skiff run --rm "$CTR_IMAGE" sh -c '
		test -s /proc/kcore && echo "kcore readable"
		for f in /proc/keys /proc/timer_list; do
			test -e $f || continue
			n=$(wc -c <$f) || echo "$f unreadable"
			test "$n" = 0 || echo "$f has $n bytes"
		done
		test -z "$(ls -A /sys/firmware)" || echo "/sys/firmware not empty"
		test -z "$(ls -A /proc/acpi 2>/dev/null)" || echo "/proc/acpi not empty"
		echo checked'
	assert_equal "$output" "checked" "masked paths"
}

@test "inside: /proc/sys and /sys are read-only" {
	pull_ctr_image
	run_skiff 1 run --rm "$CTR_IMAGE" sh -c 'echo 1 >/proc/sys/kernel/domainname'
	assert_contains "$output" "Read-only file system" "write to /proc/sys"
	run_skiff 1 run --rm "$CTR_IMAGE" touch /sys/skiff-test
	assert_contains "$output" "Read-only file system" "write to /sys"
}

@test "inside: a host path that was not mounted in is out of reach" {
	local marker=$SKIFF_TEST_DIR/host-marker
	pull_ctr_image
	echo host >"$marker"
	run_skiff run --rm "$CTR_IMAGE" sh -c "
		test -e '$marker' && echo 'host file visible'
		test -e '$SKIFF_TEST_DIR' && echo 'host directory visible'
		test -e '$HOME' && echo 'host home visible'
		mkdir -p '$SKIFF_TEST_DIR' && echo inside >'$marker'
		echo checked"
	assert_equal "$output" "checked" "host paths"
	assert_equal "$(cat "$marker")" "host" "the host's file"
}

@test "inside: the container's root user is not root on the host" {
	pull_ctr_image
	run_skiff run -d --name owner "$CTR_IMAGE" sleep 1000
	local pid
	pid=$(skiff_cmd inspect --format '{{.State.Pid}}' owner)
	assert_equal "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$(id -u)" "host UID of PID 1"
	run_skiff exec owner id -u
	assert_equal "$output" "0" "UID inside"
}

# The busybox ps pads columns; one space apart, no trailing ones.
squeeze_spaces() {
	sed -E 's/^ +//; s/ +/ /g; s/ +$//'
}
