#!/usr/bin/env bats
# The core container tests of 20-run.bats and 21-detached.bats again, on
# the copying vfs driver (--storage-driver vfs, through SKIFF_TEST_DRIVER);
# the bodies are in container_cases.bash.

load helpers
load container_cases

setup_file() {
	export SKIFF_TEST_DRIVER=vfs
	container_image_setup
}

teardown() {
	container_teardown
}

@test "vfs: exit codes 0, 1 and 42" {
	case_run_exit_codes
}

@test "vfs: stdout and stderr apart" {
	case_run_output
}

@test "vfs: the container's writable layer, on the driver asked for" {
	case_run_rootfs_writable_layer
}

@test "vfs: --rm removes the container" {
	case_run_rm_foreground
}

@test "vfs: --read-only refuses writes, --tmpfs takes them" {
	case_run_read_only
}

@test "vfs: a bind mount keeps data across containers" {
	case_run_bind_mount
}

@test "vfs: a named volume keeps data across containers" {
	case_run_named_volume
}

@test "vfs: --userns=keep-id" {
	case_run_keep_id
}

@test "vfs: run -d, logs, exec, stop, rm" {
	case_detached_logs_exec_stop_rm
}

@test "vfs: logs -f follows until the exit" {
	case_detached_logs_follow
}

@test "vfs: --restart on-failure:2 counts two restarts" {
	case_detached_restart_on_failure
}

@test "vfs: run -d --rm removes the container" {
	case_detached_rm
}

@test "vfs: pause and unpause" {
	case_detached_pause_unpause
}
