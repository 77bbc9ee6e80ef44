#!/usr/bin/env bats
# A user without /etc/subuid and /etc/subgid entries still gets a user
# namespace: a single-ID map (the user as root), setgroups denied, and one
# warning that says how to add a range.  tests/run-tests.sh as root runs
# this file as a second test user that has no range; run by hand, it skips
# for a user who has one.

load helpers

@test "single-ID map: uid_map and gid_map are the user alone" {
	require_no_subids
	run_skiff --separate-stderr unshare cat /proc/self/uid_map /proc/self/gid_map
	assert_equal "$(normalize_id_map <<<"$output")" "0 $(id -u) 1"$'\n'"0 $(id -g) 1" "uid_map and gid_map"
}

@test "single-ID map: warning names usermod --add-subuids" {
	require_no_subids
	run_skiff --separate-stderr unshare true
	assert_contains "$stderr" "usermod --add-subuids" "warning"
	assert_contains "$stderr" "$(id -un)" "warning"
	assert_equal "$output" "" "stdout"
}

@test "single-ID map: id -u prints 0 and exit codes pass through" {
	require_no_subids
	run_skiff --separate-stderr unshare id -u
	assert_equal "$output" 0 "id -u"
	run_skiff --separate-stderr 3 unshare sh -c 'exit 3'
}

@test "single-ID map: setgroups is denied" {
	require_no_subids
	run_skiff --separate-stderr unshare cat /proc/self/setgroups
	assert_equal "$output" deny "setgroups"
}

@test "single-ID map: info reports one mapping" {
	require_no_subids
	run_skiff --separate-stderr info --format json
	assert_equal "$(jq -c '.host.idMappings.uidmap' <<<"$output")" \
		"[{\"container_id\":0,\"host_id\":$(id -u),\"size\":1}]" host.idMappings.uidmap
	assert_equal "$(jq -c '.host.idMappings.gidmap' <<<"$output")" \
		"[{\"container_id\":0,\"host_id\":$(id -g),\"size\":1}]" host.idMappings.gidmap
}
