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
	listed=$("$SKIFF" --help | awk '/^(Common |Management )?Commands:$/ { on = 1; next }
		on && /^$/ { on = 0 } on { print $1 }')
	[[ $(wc -l <<<"$listed") -gt 40 ]] || die "only $(wc -l <<<"$listed") commands listed"
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

# ---------------------------------------------------------------------------
# Names from the store, the other shells, `skiff completion`

teardown() {
	container_teardown
}

# complete_zsh WORD...: run the zsh completion for the command line WORDS
# (the binary first, the last word being completed) with compsys's
# builtins replaced by functions that print the candidates, one per line.
complete_zsh() {
	COMPLETIONS=$COMPLETIONS zsh -f -c '
		compadd() {
			while [[ $1 == -* && $1 != -- ]]; do shift; done
			[[ $1 == -- ]] && shift
			print -rl -- "$@"
		}
		_describe() { print -rl -- ${(P)4%%:*} }
		_call_program() { shift; eval "$@" }
		_files() { print -r -- "<files>" }
		_command_names() { print -r -- "<commands>" }
		words=("$@"); CURRENT=$#; PREFIX=${words[-1]}
		source "$COMPLETIONS/zsh/_skiff"
	' zsh "$@"
}

# complete_fish WORD...: fish's candidates (without descriptions) for the
# command line WORDS, the last one being completed.
complete_fish() {
	fish -c 'source $argv[1]; complete -C(string join " " -- $argv[2..-1])' \
		"$COMPLETIONS/fish/skiff.fish" "$@" | cut -f1
}

# Two containers, an image and a volume in the test's store, made without
# a registry: the image is imported from a busybox tarball.
make_named_objects() {
	fixture_busybox_rootfs "$SKIFF_TEST_DIR/rootfs"
	layer_tar "$SKIFF_TEST_DIR/rootfs.tar" "$SKIFF_TEST_DIR/rootfs"
	skiff_cmd import -q "$SKIFF_TEST_DIR/rootfs.tar" localhost/compl/busybox:1 >/dev/null ||
		die "import failed"
	skiff_cmd create --name alpha localhost/compl/busybox:1 true >/dev/null || die "create alpha"
	skiff_cmd create --name beta localhost/compl/busybox:1 true >/dev/null || die "create beta"
	skiff_cmd volume create vol1 >/dev/null || die "volume create"
}

@test "skiff completion SHELL prints the installed script" {
	run_skiff completion bash
	assert_equal "$output" "$(cat "$COMPLETIONS/bash/skiff")" "bash"
	run_skiff completion zsh
	assert_equal "$output" "$(cat "$COMPLETIONS/zsh/_skiff")" "zsh"
	run_skiff completion fish
	assert_equal "$output" "$(cat "$COMPLETIONS/fish/skiff.fish")" "fish"
	run_skiff completion --file "$SKIFF_TEST_DIR/out" bash
	cmp "$SKIFF_TEST_DIR/out" "$COMPLETIONS/bash/skiff" || die "--file differs"
}

@test "skiff completion: an unknown shell is an error" {
	run_skiff --separate-stderr 125 completion powershell
	assert_equal "$stderr" 'Error: invalid argument "powershell" for "skiff completion": use bash, zsh or fish' "stderr"
	run_skiff --separate-stderr 125 completion
	assert_contains "$stderr" "Error: \`skiff completion\` accepts 1 arg, received 0"
}

@test "bash: complete -p skiff after sourcing, also from skiff completion" {
	run bash -c 'source "$1"; complete -p skiff' bash "$COMPLETIONS/bash/skiff"
	assert_equal "$output" "complete -o filenames -F _skiff skiff" "complete -p"
	run bash -c 'source <("$1" completion bash); complete -p skiff' bash "$SKIFF"
	assert_equal "$output" "complete -o filenames -F _skiff skiff" "complete -p"
}

@test "bash: container, image and volume names from the store" {
	make_named_objects
	local g=(--root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT")
	assert_equal "$(complete_words "${g[@]}" rm "" | sort)" $'alpha\nbeta' "rm"
	assert_equal "$(complete_words "${g[@]}" rm alpha "" | sort)" $'alpha\nbeta' "rm, second operand"
	assert_equal "$(complete_words "${g[@]}" rm -f a)" alpha "rm -f a"
	assert_equal "$(complete_words "${g[@]}" container start b)" beta "container start"
	assert_equal "$(complete_words "${g[@]}" rmi "")" "localhost/compl/busybox:1" "rmi"
	assert_equal "$(complete_words "${g[@]}" run --rm "")" "localhost/compl/busybox:1" "run IMAGE"
	assert_equal "$(complete_words "${g[@]}" volume rm "")" vol1 "volume rm"
	assert_equal "$(complete_words "${g[@]}" completion "")" $'bash\nzsh\nfish' "completion"
}

@test "bash: help completes commands" {
	assert_equal "$(complete_words help ver)" version "help"
}

@test "zsh: the script loads and completes commands, flags and names" {
	local listed
	run zsh -f -c 'autoload -U compinit && compinit -u -D && fpath=("$1" $fpath) &&
		compinit -u -D && print -r -- $_comps[skiff]' zsh "$COMPLETIONS/zsh"
	assert_equal "$output" "_skiff" "compdef"
	listed=$("$SKIFF" --help | awk '/^(Common |Management )?Commands:$/ { on = 1; next }
		on && /^$/ { on = 0 } on { print $1 }')
	assert_equal "$(complete_zsh "$SKIFF" "" | sort)" "$(sort <<<"$listed")" "commands"
	assert_contains "$(complete_zsh "$SKIFF" version --)" "--format" "flags"
	assert_equal "$(complete_zsh "$SKIFF" --log-level "")" $'debug\ninfo\nwarn\nerror' "values"
	make_named_objects
	assert_equal "$(complete_zsh "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" rm "" | sort)" \
		$'alpha\nbeta' "rm"
	assert_equal "$(complete_zsh "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" volume rm "")" \
		vol1 "volume rm"
}

@test "fish: the script loads and completes commands, flags and names" {
	local listed
	run fish -c 'source $argv[1]' "$COMPLETIONS/fish/skiff.fish"
	assert_equal "$status $output" "0 " "source"
	listed=$("$SKIFF" --help | awk '/^(Common |Management )?Commands:$/ { on = 1; next }
		on && /^$/ { on = 0 } on { print $1 }')
	assert_equal "$(complete_fish "$SKIFF" "" | sort)" "$(sort <<<"$listed")" "commands"
	assert_equal "$(complete_fish "$SKIFF" ver)" version "prefix"
	assert_equal "$(complete_fish "$SKIFF" image l | sort)" $'load\nls' "subcommands"
	assert_contains "$(complete_fish "$SKIFF" run --pu)" "--pull" "flags"
	make_named_objects
	assert_equal "$(complete_fish "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" rm "" | sort)" \
		$'alpha\nbeta' "rm"
	assert_equal "$(complete_fish "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" rmi "")" \
		"localhost/compl/busybox:1" "rmi"
}
