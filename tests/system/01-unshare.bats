#!/usr/bin/env bats
# skiff unshare: the user namespace every rootless operation runs in.  The
# user becomes root inside, and the subordinate ranges of /etc/subuid and
# /etc/subgid map to IDs 1 and up (written by newuidmap/newgidmap).  The
# single-ID case (no subordinate range) is in 03-single-idmap.bats, which
# tests/run-tests.sh runs as a user without a range.

load helpers

@test "unshare: uid_map is the user as root plus the subuid ranges" {
	require_subids
	run_skiff unshare cat /proc/self/uid_map
	assert_equal "$(normalize_id_map <<<"$output")" \
		"$(expected_id_map /etc/subuid "$(id -u)")" "uid_map"
}

@test "unshare: gid_map is the user's group as root plus the subgid ranges" {
	require_subids
	run_skiff unshare cat /proc/self/gid_map
	assert_equal "$(normalize_id_map <<<"$output")" \
		"$(expected_id_map /etc/subgid "$(id -g)")" "gid_map"
}

@test "unshare: id -u prints 0" {
	require_subids
	run_skiff unshare id -u
	assert_equal "$output" 0 "id -u"
	run_skiff unshare id -g
	assert_equal "$output" 0 "id -g"
}

@test "unshare: exit code of the command is skiff's" {
	require_subids
	run_skiff 3 unshare sh -c 'exit 3'
	run_skiff 0 unshare true
	run_skiff 1 unshare false
}

@test "unshare: arguments after the command are the command's" {
	require_subids
	run_skiff unshare sh -c 'echo "$1|$2"' sh --root x
	assert_equal "$output" "--root|x" "argv"
}

@test "unshare: working directory is kept" {
	require_subids
	cd "$SKIFF_TEST_DIR"
	run_skiff unshare pwd
	assert_equal "$output" "$SKIFF_TEST_DIR" "pwd"
}

@test "unshare: files chowned inside belong to the subordinate range outside" {
	require_subids
	local start dir=$SKIFF_TEST_DIR/files
	start=$(subid_ranges /etc/subuid | awk 'NR == 1 { print $1 }')
	mkdir "$dir"
	run_skiff unshare sh -c "touch $dir/mine && mkdir $dir/sub && touch $dir/sub/f &&
		chown -R 1:1 $dir/sub"
	assert_equal "$(stat -c %u "$dir/mine")" "$(id -u)" "owner of mine"
	assert_equal "$(stat -c %u:%g "$dir/sub/f")" "$start:$(subid_ranges /etc/subgid | awk 'NR == 1 { print $1 }')" "owner of sub/f"
	# Outside the namespace the user cannot remove sub/f; remove_tree, which
	# every teardown uses, must.
	! rm -rf "$dir" 2>/dev/null || die "rm -rf removed a subordinate-owned tree"
	remove_tree "$dir"
	[[ ! -e $dir ]] || die "remove_tree left $dir"
}

@test "unshare: works with XDG_RUNTIME_DIR unset" {
	require_subids
	run env -u XDG_RUNTIME_DIR "$SKIFF" --root "$SKIFF_ROOT" unshare id -u
	echo "$output"
	[[ $status -eq 0 ]] || die "exit code $status"
	assert_equal "${lines[-1]}" 0 "id -u"
}

@test "unshare: a missing command exits 127 naming it" {
	require_subids
	run_skiff --separate-stderr 127 unshare /nonexistent/command
	assert_contains "$stderr" "/nonexistent/command"
}

@test "unshare: a file that is not executable exits 126" {
	require_subids
	echo 'echo hi' >"$SKIFF_TEST_DIR/script"
	chmod 0644 "$SKIFF_TEST_DIR/script"
	run_skiff --separate-stderr 126 unshare "$SKIFF_TEST_DIR/script"
	assert_contains "$stderr" "$SKIFF_TEST_DIR/script"
}

@test "unshare: a command killed by a signal exits 128 + the signal" {
	require_subids
	run_skiff 143 unshare sh -c 'kill -TERM $$'
}

@test "unshare: SKIFF_USERNS_SINGLE=1 forces the single-ID map" {
	require_subids
	SKIFF_USERNS_SINGLE=1 run_skiff --separate-stderr unshare cat /proc/self/uid_map /proc/self/gid_map
	assert_equal "$(normalize_id_map <<<"$output")" "0 $(id -u) 1"$'\n'"0 $(id -g) 1" "uid_map and gid_map"
}

@test "unshare: no subuid warning for a user with a range" {
	require_subids
	run_skiff --separate-stderr unshare true
	assert_not_contains "$stderr" "usermod" "stderr"
}
