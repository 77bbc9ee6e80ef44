#!/usr/bin/env bats
# Help in docker's layout (`skiff --help`, `skiff COMMAND --help`, `skiff
# help COMMAND`) and the man pages the binary renders from the same command
# descriptors.

load helpers

# Every command path, one per line: "run", "image ls", ... (families and
# their subcommands, as `skiff help` reaches them).
command_paths() {
	local family sub
	for family in $(list_commands "$("$SKIFF" --help)"); do
		echo "$family"
		for sub in $(list_commands "$("$SKIFF" "$family" --help)"); do
			echo "$family $sub"
		done
	done
}

# The names under the command groups of a help text.
list_commands() {
	awk '/^(Common |Management )?Commands:$/ { on = 1; next }
		on && /^$/ { on = 0 }
		on { print $1 }' <<<"$1"
}

@test "--help: docker's layout" {
	run_skiff --help
	assert_equal "${lines[0]}" "Usage:  skiff [OPTIONS] COMMAND" "first line"
	for heading in "Common Commands:" "Management Commands:" "Commands:" "Global Options:"; do
		assert_match "$output" $'\n'"$heading"$'\n' "heading"
	done
	assert_match "$output" $'\nCommon Commands:\n  run +Run a command in a new container\n  exec ' "common commands"
	assert_match "$output" $'\nManagement Commands:\n(  [a-z-]+ +[^\n]+\n)*  container +Manage containers\n' "management"
	assert_equal "${lines[-1]}" "Run 'skiff COMMAND --help' for more information on a command." "last line"
	assert_contains "$output" "      --root string"
}

@test "--help starts with a blank line, as docker's does" {
	local text
	text=$("$SKIFF" --help; echo .)
	assert_equal "${text:0:8}" $'\nUsage: ' "start"
}

@test "help with no command is --help" {
	assert_equal "$("$SKIFF" help)" "$("$SKIFF" --help)" "skiff help"
}

@test "help COMMAND [SUB] equals COMMAND [SUB] --help for every command" {
	local path n=0 via_help via_flag
	while read -r path; do
		# shellcheck disable=SC2086
		via_help=$("$SKIFF" help $path) || die "skiff help $path: exit $?"
		# shellcheck disable=SC2086
		via_flag=$("$SKIFF" $path --help) || die "skiff $path --help: exit $?"
		assert_equal "$via_help" "$via_flag" "skiff help $path"
		assert_match "$via_flag" $'^\nUsage:  skiff '"$path"'( |$)' "usage of $path"
		n=$((n + 1))
	done < <(command_paths)
	[[ $n -gt 60 ]] || die "only $n command paths"
}

@test "run --help: usage, description, aliases, options" {
	run_skiff run --help
	assert_equal "${lines[0]}" "Usage:  skiff run [OPTIONS] IMAGE [COMMAND [ARG...]]" "usage"
	assert_equal "${lines[1]}" "Run a command in a new container" "description"
	assert_contains "$output" $'\nAliases:\n  skiff container run, skiff run\n'
	assert_match "$output" $'\nOptions:\n' "options heading"
	assert_match "$output" $'\n  -d, --detach +Run container in background' "options"
	assert_match "$output" '--pull string +.*\(default "missing"\)' "defaults"
}

@test "image ls --help: the images options under the path typed" {
	run_skiff image ls --help
	assert_equal "${lines[0]}" "Usage:  skiff image ls [OPTIONS] [IMAGE]" "usage"
	assert_contains "$output" $'\nAliases:\n  skiff image ls, skiff image list, skiff images\n'
	assert_contains "$output" "--no-trunc"
	# an alias shows the canonical path, as cobra's CommandPath does
	run_skiff image list --help
	assert_equal "${lines[0]}" "Usage:  skiff image ls [OPTIONS] [IMAGE]" "usage via alias"
}

@test "family --help: its commands and the hint" {
	run_skiff container --help
	assert_equal "${lines[0]}" "Usage:  skiff container COMMAND" "usage"
	assert_match "$output" $'\nCommands:\n  attach +Attach to a running container\n' "commands"
	assert_equal "${lines[-1]}" "Run 'skiff container COMMAND --help' for more information on a command." "last line"
}

@test "help of an unknown command: exit 125, podman's error" {
	run_skiff --separate-stderr 125 help nosuchcommand
	assert_equal "$output" "" "stdout"
	assert_equal "$stderr" $'Error: unrecognized command `skiff nosuchcommand`\nTry \'skiff --help\' for more information' "stderr"
	run_skiff --separate-stderr 125 help image nosuch
	assert_contains "$stderr" "Error: unrecognized command \`skiff image nosuch\`"
	run_skiff --separate-stderr 125 help run extra
	assert_contains "$stderr" "Error: unrecognized command \`skiff run extra\`"
}

@test "a flag error names the command as typed" {
	run_skiff --separate-stderr 125 image ls --bogus
	assert_equal "$stderr" $'Error: unknown flag: --bogus\nSee \'skiff image ls --help\'' "stderr"
	run_skiff --separate-stderr 125 container ps -Z
	assert_contains "$stderr" "See 'skiff container ls --help'"
}

@test "man pages: one per command, clean under groff -ww" {
	local dir=$SKIFF_TEST_DIR/man page warnings path n=0
	run_skiff help --man-dir "$dir"
	assert_equal "$(wc -l <<<"$output")" "$(ls "$dir" | wc -l)" "pages listed"
	[[ -f $dir/skiff.1 ]] || die "no skiff.1"
	while read -r path; do
		page=$dir/skiff-${path// /-}.1
		[[ -f $page ]] || die "no page for '$path'"
		n=$((n + 1))
	done < <(command_paths)
	assert_equal "$(ls "$dir" | wc -l)" "$((n + 1))" "pages"
	for page in "$dir"/*.1; do
		warnings=$(groff -man -ww -z "$page" 2>&1)
		assert_equal "$warnings" "" "groff on $page"
	done
}

@test "man pages: what man shows, from the same descriptors as --help" {
	local dir=$SKIFF_TEST_DIR/man text
	run_skiff help --man-dir "$dir"
	text=$(MANWIDTH=100 man -l "$dir/skiff-run.1" 2>&1)
	assert_match "$text" $'SYNOPSIS\n +skiff run \\[OPTIONS\\] IMAGE' "synopsis"
	assert_match "$text" $'\n +-d, --detach\n +Run container in background' "options"
	assert_match "$text" $'SEE ALSO\n +skiff\\(1\\)' "see also"
	text=$(MANWIDTH=100 man -l "$dir/skiff.1" 2>&1)
	assert_match "$text" $'\n +skiff-image\\(1\\)\n +Manage images' "commands"
	assert_equal "$("$SKIFF" help --man image ls)" "$(cat "$dir/skiff-image-ls.1")" "help --man"
}

@test "man pages: an unwritable directory is an error" {
	mkdir -m 0500 "$SKIFF_TEST_DIR/ro"
	[[ ! -w $SKIFF_TEST_DIR/ro ]] || skip "directory permissions are not enforced (root)"
	run_skiff --separate-stderr 125 help --man-dir "$SKIFF_TEST_DIR/ro"
	assert_contains "$stderr" "Error: write man page \"$SKIFF_TEST_DIR/ro/skiff.1\""
}
