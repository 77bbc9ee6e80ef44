#!/usr/bin/env bats
# The core container tests of 20-run.bats and 21-detached.bats again, with
# the fuse-overlayfs program mounting the root file system
# (--storage-driver fuse-overlayfs, through SKIFF_TEST_DRIVER); the bodies
# are in container_cases.bash.

load helpers
load container_cases

setup_file() {
	export SKIFF_TEST_DRIVER=fuse-overlayfs
	container_image_setup
}

setup() {
	skiff_setup
	require_driver
}

teardown() {
	container_teardown
}

require_driver() {
	command -v fuse-overlayfs >/dev/null ||
		skip "fuse-overlayfs is not installed (Debian package fuse-overlayfs)"
	[[ -r /dev/fuse && -w /dev/fuse ]] ||
		skip "/dev/fuse is not usable by $(id -un) (tests/run-tests.sh as root opens it up)"
}

@test "fuse-overlayfs: exit codes 0, 1 and 42" {
	case_run_exit_codes
}

@test "fuse-overlayfs: stdout and stderr apart" {
	case_run_output
}

@test "fuse-overlayfs: the container's writable layer, on the driver asked for" {
	case_run_rootfs_writable_layer
}

@test "fuse-overlayfs: --rm removes the container" {
	case_run_rm_foreground
}

@test "fuse-overlayfs: --read-only refuses writes, --tmpfs takes them" {
	case_run_read_only
}

@test "fuse-overlayfs: a bind mount keeps data across containers" {
	case_run_bind_mount
}

@test "fuse-overlayfs: a named volume keeps data across containers" {
	case_run_named_volume
}

@test "fuse-overlayfs: --userns=keep-id" {
	case_run_keep_id
}

@test "fuse-overlayfs: run -d, logs, exec, stop, rm" {
	case_detached_logs_exec_stop_rm
}

@test "fuse-overlayfs: logs -f follows until the exit" {
	case_detached_logs_follow
}

@test "fuse-overlayfs: --restart on-failure:2 counts two restarts" {
	case_detached_restart_on_failure
}

@test "fuse-overlayfs: run -d --rm removes the container" {
	case_detached_rm
}

@test "fuse-overlayfs: pause and unpause" {
	case_detached_pause_unpause
}
