#!/usr/bin/env bats
# The system family: system df, system prune, system reset, system info.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

# A running container NAME that exits 0 on SIGTERM.
run_idle() {
	run_skiff run -d --name "$1" "$CTR_IMAGE" sh -c \
		'trap "exit 0" TERM; while :; do sleep 0.1; done'
}

# The table's rows, columns separated by one space.
squeeze() {
	sed -E 's/  +/ /g; s/ +$//'
}

@test "system df: counts an image and a container" {
	pull_ctr_image
	run_skiff create --name c1 "$CTR_IMAGE" true
	run_skiff system df
	local table
	table=$(printf '%s\n' "${lines[@]}" | squeeze)
	assert_equal "${table%%$'\n'*}" "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" "header"
	assert_match "$table" $'\nImages 1 1 [^\n]+ 0B \\(0%\\)'
	assert_match "$table" $'\nContainers 1 0 '
	assert_match "$table" $'\nLocal Volumes 0 0 0B 0B \\(0%\\)'
	run_skiff system df --format json
	assert_equal "$(jq -r '.[0].Type, .[0].Total, .[1].Total' <<<"$output" | tr '\n' ' ')" \
		"Images 1 1 "
	run_skiff system df --format '{{.Type}}={{.Total}}'
	assert_equal "${lines[1]}" "Containers=1"
	run_skiff system df -v
	assert_contains "$output" "Images space usage:"
	assert_contains "$output" "Containers space usage:"
	assert_contains "$output" "Local Volumes space usage:"
	assert_contains "$output" "c1"
}

@test "system prune -f: stopped containers and dangling images go, a running container's image stays" {
	pull_ctr_image
	run_skiff create --name stopped "$CTR_IMAGE" true
	run_skiff commit -q stopped
	local dangling=$output
	run_idle running
	run_skiff system prune -f
	assert_contains "$output" "Deleted Containers"
	assert_contains "$output" "Deleted Images"
	assert_contains "$output" "Total reclaimed space:"
	run_skiff ps -a --format '{{.Names}}'
	assert_equal "$output" "running"
	run_skiff images -q --no-trunc
	assert_not_contains "$output" "${dangling#sha256:}"
	assert_contains "$output" "${CTR_IMAGE_ID#sha256:}"
}

@test "system prune --volumes: removes an unused volume" {
	run_skiff volume create unused
	run_skiff system prune -f
	run_skiff volume ls -q
	assert_equal "$output" "unused" "without --volumes"
	run_skiff system prune -f --volumes
	assert_contains "$output" $'Deleted Volumes\nunused'
	run_skiff volume ls -q
	assert_equal "$output" ""
}

@test "system reset -f: an empty store and no files left under --root" {
	pull_ctr_image
	run_idle running
	run_skiff volume create v1
	run_skiff system reset -f
	run_skiff images -q
	assert_equal "$output" ""
	run_skiff ps -a -q
	assert_equal "$output" ""
	run_skiff volume ls -q
	assert_equal "$output" ""
	# The commands above may recreate the store's skeleton; reset again
	# and look before anything else runs.
	run_skiff system reset -f
	assert_equal "$(find "$SKIFF_ROOT" -mindepth 1 2>/dev/null | head -5)" ""
}

@test "system prune and reset without -f and no input do nothing" {
	pull_ctr_image
	run_skiff create --name stopped "$CTR_IMAGE" true
	run_skiff system prune </dev/null
	assert_contains "$output" "WARNING! This command removes:"
	run_skiff system reset </dev/null
	assert_contains "$output" "WARNING! This will remove:"
	run_skiff ps -a --format '{{.Names}}'
	assert_equal "$output" "stopped"
	run_skiff images -q --no-trunc
	assert_contains "$output" "${CTR_IMAGE_ID#sha256:}"
}

@test "system info: the same as info" {
	run_skiff system info --format '{{.Store.GraphRoot}}'
	assert_equal "$output" "$SKIFF_ROOT"
}
