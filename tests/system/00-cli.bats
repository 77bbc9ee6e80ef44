#!/usr/bin/env bats
# The command line itself: version, help, errors and exit codes for bad
# input, and `info`, whose JSON follows `podman info --format json`.

load helpers

# The commands `skiff --help` lists, one per line.
listed_commands() {
	"$SKIFF" --help | awk '/^(Common |Management )?Commands:$/ { on = 1; next }
		on && /^$/ { on = 0 }
		on { print $1 }'
}

@test "version prints the version" {
	run_skiff version
	assert_match "$output" $'(^|\n)Version: +[0-9]+\\.[0-9]+\\.[0-9]+' "version output"
	assert_match "$output" $'(^|\n)OS/Arch: +linux/' "version output"
}

@test "version --format json is JSON with the same version" {
	local text
	run_skiff version
	text=$(awk '/^Version:/ { print $2 }' <<<"$output")
	run_skiff version --format json
	jq -e . <<<"$output" >/dev/null || die "not JSON: $output"
	assert_equal "$(jq -r .Client.Version <<<"$output")" "$text" ".Client.Version"
	assert_equal "$(jq -r .Client.Os <<<"$output")" linux ".Client.Os"
}

@test "--version prints one line" {
	run_skiff --version
	assert_match "$output" '^skiff version [0-9]+\.[0-9]+\.[0-9]+$' "--version"
}

@test "--help lists the commands and global options" {
	run_skiff --help
	assert_contains "$output" "Usage:"
	for cmd in info unshare version; do
		assert_match "$output" $'\n  '"$cmd"' ' "command list"
	done
	assert_contains "$output" "--root"
	assert_contains "$output" "--runroot"
}

@test "every listed command has --help" {
	local cmd n=0
	for cmd in $(listed_commands); do
		run_skiff "$cmd" --help
		assert_contains "$output" "Usage:" "$cmd --help"
		n=$((n + 1))
	done
	[[ $n -ge 3 ]] || die "only $n commands listed"
}

@test "no command: exit 125 with the help" {
	run_skiff 125
	assert_contains "$output" "Error: missing command 'skiff COMMAND'"
}

@test "unknown command: exit 125, Error: unrecognized command" {
	run_skiff --separate-stderr 125 nosuchcommand
	assert_equal "$output" "" "stdout"
	assert_contains "$stderr" "Error: unrecognized command \`skiff nosuchcommand\`"
}

@test "unknown global flag: exit 125, Error: unknown flag" {
	run_skiff --separate-stderr 125 --nosuchflag version
	assert_contains "$stderr" "Error: unknown flag: --nosuchflag"
}

@test "unknown command flag: exit 125, Error: unknown flag" {
	run_skiff --separate-stderr 125 version --nosuchflag
	assert_contains "$stderr" "Error: unknown flag: --nosuchflag"
}

@test "global flag without its argument: exit 125" {
	run_skiff_bare --separate-stderr 125 --root
	assert_contains "$stderr" "Error: flag needs an argument: --root"
}

@test "unexpected argument: exit 125" {
	run_skiff --separate-stderr 125 version extra
	assert_match "$stderr" '^Error: .*version' "stderr"
}

@test "invalid --log-level: exit 125 naming the level" {
	run_skiff --separate-stderr 125 --log-level loud version
	assert_contains "$stderr" 'Error: invalid log level "loud"'
}

@test "info --format json: rootless and the store follow --root/--runroot" {
	local expected=false
	[[ $(id -u) -eq 0 ]] || expected=true
	run_skiff --separate-stderr info --format json
	jq -e . <<<"$output" >/dev/null || die "not JSON: $output"
	assert_equal "$(jq -r .host.security.rootless <<<"$output")" "$expected" host.security.rootless
	assert_equal "$(jq -r .store.graphRoot <<<"$output")" "$SKIFF_ROOT" store.graphRoot
	assert_equal "$(jq -r .store.runRoot <<<"$output")" "$SKIFF_RUNROOT" store.runRoot
}

@test "info --format json: default store under XDG_DATA_HOME and XDG_RUNTIME_DIR" {
	require_rootless
	run_skiff_bare --separate-stderr info --format json
	assert_equal "$(jq -r .store.graphRoot <<<"$output")" "$XDG_DATA_HOME/skiff" store.graphRoot
	assert_equal "$(jq -r .store.runRoot <<<"$output")" "$XDG_RUNTIME_DIR/skiff" store.runRoot
}

@test "info --format json: default store without XDG variables" {
	require_rootless
	run env -u XDG_DATA_HOME -u XDG_RUNTIME_DIR HOME="$SKIFF_TEST_DIR/home" \
		"$SKIFF" info --format json
	echo "$output"
	[[ $status -eq 0 ]] || die "exit code $status"
	assert_equal "$(jq -r .store.graphRoot <<<"$output")" \
		"$SKIFF_TEST_DIR/home/.local/share/skiff" store.graphRoot
	assert_match "$(jq -r .store.runRoot <<<"$output")" '^/tmp/' store.runRoot
}

@test "info --format json: idMappings follow /etc/subuid and /etc/subgid" {
	require_subids
	run_skiff --separate-stderr info --format json
	assert_equal "$(jq -r '.host.idMappings.uidmap[] | "\(.container_id) \(.host_id) \(.size)"' <<<"$output")" \
		"$(expected_id_map /etc/subuid "$(id -u)")" host.idMappings.uidmap
	assert_equal "$(jq -r '.host.idMappings.gidmap[] | "\(.container_id) \(.host_id) \(.size)"' <<<"$output")" \
		"$(expected_id_map /etc/subgid "$(id -g)")" host.idMappings.gidmap
}

@test "info prints text by default" {
	run_skiff --separate-stderr info
	assert_contains "$output" "graphRoot: $SKIFF_ROOT"
	assert_contains "$output" "rootless: $([[ $(id -u) -eq 0 ]] && echo false || echo true)"
}
