#!/usr/bin/env bats
# Shell completion: the bash script reads commands and flags from the
# binary's --help, so whatever `skiff --help` lists completes.

load helpers

COMPLETIONS=$BATS_TEST_DIRNAME/../../completions

# complete WORD...: run the bash completion for the command line WORDS
# (the last one being completed) and print the candidates, one per line.
complete_words() {
	(
		# shellcheck source=/dev/null
		source "$COMPLETIONS/bash/skiff"
		COMP_WORDS=("$SKIFF" "$@")
		COMP_CWORD=$#
		COMPREPLY=()
		_skiff
		printf '%s\n' "${COMPREPLY[@]}"
	)
}

@test "bash completion: commands are those of --help" {
	local listed
	listed=$("$SKIFF" --help | awk '/^Available Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
	assert_equal "$(complete_words "" | sort)" "$(sort <<<"$listed")" "candidates"
}

@test "bash completion: a command from its prefix" {
	assert_equal "$(complete_words ver)" version "candidates"
	assert_equal "$(complete_words uns)" unshare "candidates"
}

@test "bash completion: global flags" {
	local out
	out=$(complete_words --r)
	assert_equal "$out" $'--root\n--runroot' "candidates"
	out=$(complete_words --log-level "")
	assert_equal "$out" $'debug\ninfo\nwarn\nerror' "--log-level values"
}

@test "bash completion: a flag's value is skipped before the command" {
	assert_equal "$(complete_words --root /tmp inf)" info "candidates"
	assert_equal "$(complete_words --log-level debug ver)" version "candidates"
}

@test "bash completion: a command's own flags" {
	assert_contains "$(complete_words version --f)" "--format" "candidates"
}

@test "bash completion: after unshare, host commands" {
	assert_contains "$(complete_words unshare bas)" bash "candidates"
}
