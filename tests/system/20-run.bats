#!/usr/bin/env bats
# skiff run in the foreground: exit codes (the container's, and docker's
# 125/126/127 for skiff's own failures), streams, signals, terminals, and
# the options that shape the container (env, user, workdir, entrypoint,
# hostname, user namespace, mounts, capabilities, init, limits, names).
# The busybox fixture comes from a local registry; each test has its own
# store.  The bodies shared with the driver files are in container_cases.bash.

load helpers
load container_cases

setup_file() {
	container_image_setup
	# An image with its own configuration: env, entrypoint, cmd, workdir.
	local layout=$BATS_FILE_TMPDIR/configured
	OCI_IMAGE_CONFIG='{
		"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FROM_IMAGE=image", "OVERRIDE=image"],
		"Entrypoint": ["echo", "entrypoint"],
		"Cmd": ["default", "cmd"],
		"WorkingDir": "/srv/work"
	}' build_busybox_image "$layout" configured
	export CONFIGURED_IMAGE=$REGISTRY_ADDR/skiff/configured:latest
	push_image "$layout" configured "$CONFIGURED_IMAGE"
}

teardown() {
	container_teardown
}

pull_configured() {
	skiff_cmd pull -q --tls-verify=false "$CONFIGURED_IMAGE" >/dev/null ||
		die "pull $CONFIGURED_IMAGE failed"
}

# The capability mask of podman's default rootless set: CHOWN,
# DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
# NET_BIND_SERVICE, SYS_CHROOT, SETFCAP.
DEFAULT_CAPS=00000000800405fb

cap_eff() {
	run_skiff run --rm "$@" "$CTR_IMAGE" awk '/^CapEff:/ { print $2 }' /proc/self/status
}

# ---------------------------------------------------------------------------
# Exit codes and streams

@test "run: the container's exit code 0, 1 and 42 is skiff's" {
	case_run_exit_codes
}

@test "run: stdout and stderr of the container reach ours, apart" {
	case_run_output
}

@test "run: an unknown flag exits 125 with the flag named" {
	pull_ctr_image
	run_skiff --separate-stderr 125 run --no-such-flag "$CTR_IMAGE" true
	assert_equal "${stderr_lines[0]}" "Error: unknown flag: --no-such-flag" "stderr"
	run_skiff ps -a -q
	assert_equal "$output" "" "containers made"
}

@test "run: a file that is not executable exits 126" {
	pull_ctr_image
	run_skiff --separate-stderr 126 run --rm "$CTR_IMAGE" /etc/passwd
	assert_match "$stderr" '^Error: .*"/etc/passwd".*[Pp]ermission denied' "stderr"
	assert_equal "$output" "" "stdout"
}

@test "run: a command that does not exist exits 127" {
	pull_ctr_image
	run_skiff --separate-stderr 127 run --rm "$CTR_IMAGE" no-such-command
	assert_match "$stderr" '^Error: .*"no-such-command".*not found' "stderr"
}

@test "run --pull=never: a missing image exits 125" {
	run_skiff 125 run --pull=never "$CTR_IMAGE" true
	assert_contains "$output" "image not known" "error"
}

@test "run -i: our stdin reaches the container" {
	pull_ctr_image
	output=$(printf 'one\ntwo\n' | skiff_cmd run --rm -i "$CTR_IMAGE" sh -c 'wc -l; echo done')
	assert_equal "$output" $'2\ndone' "output"
}

@test "run: without -i the container's stdin is empty" {
	pull_ctr_image
	output=$(echo ignored | skiff_cmd run --rm "$CTR_IMAGE" wc -c)
	assert_equal "$output" "0" "bytes read"
}

@test "run -a: only the streams named are relayed, the others are logged" {
	pull_ctr_image
	run_skiff --separate-stderr run -a stdout --name out-only "$CTR_IMAGE" sh -c 'echo out; echo err >&2'
	assert_equal "$output|$stderr" "out|" "stdout|stderr with -a stdout"
	run_skiff --separate-stderr logs out-only
	assert_equal "$output|$stderr" "out|err" "logs"
	run_skiff --separate-stderr run --rm -a stderr "$CTR_IMAGE" sh -c 'echo out; echo err >&2'
	assert_equal "$output|$stderr" "|err" "stdout|stderr with -a stderr"
	output=$(echo typed | skiff_cmd run --rm -i -a stdout "$CTR_IMAGE" cat)
	assert_equal "$output" "" "stdin without -a stdin"
	output=$(echo typed | skiff_cmd run --rm -i -a stdin -a stdout "$CTR_IMAGE" cat)
	assert_equal "$output" "typed" "stdin with -a stdin"
}

@test "run -a: an unknown stream, or -a with -d, exits 125" {
	pull_ctr_image
	run_skiff 125 run -a stdall "$CTR_IMAGE" true
	assert_contains "$output" 'invalid stream "stdall"' "error"
	run_skiff 125 run -d -a stdout "$CTR_IMAGE" true
	assert_contains "$output" "conflicting options: -a and -d" "error"
}

@test "run: SIGTERM to the foreground skiff reaches the container" {
	local out=$SKIFF_TEST_DIR/out pid rc=0
	pull_ctr_image
	skiff_bg "$out" run --name sig "$CTR_IMAGE" sh -c \
		'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
	pid=$SKIFF_BG_PID
	wait_until 100 grep -q ready "$out"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 7 "skiff's exit code"
	assert_equal "$(cat "$out")" $'ready\ngot TERM' "output"
	assert_equal "$(skiff_cmd inspect --format '{{.State.ExitCode}}' sig)" 7 "recorded exit code"
}

# ---------------------------------------------------------------------------
# Terminals (script(1) gives skiff a real pseudo-terminal)

@test "run -t: a terminal of the window's size" {
	pull_ctr_image
	run script -qec "stty rows 30 cols 100; $(printf '%q ' "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" run --rm -t "$CTR_IMAGE" sh -c 'tty; stty size; exit 3')" /dev/null
	echo "$output"
	assert_equal "$status" 3 "exit code"
	output=${output//$'\r'/}
	assert_match "$output" '(^|'$'\n'')/dev/pts/[0-9]+'$'\n''30 100($|'$'\n'')' "tty and stty size"
}

@test "run -it: an interactive shell prompts and runs what we type" {
	pull_ctr_image
	run bash -c "printf 'echo hi-\$((6 * 7))\nexit 4\n' | script -qec $(printf '%q' \
		"$(printf '%q ' "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
			run --rm -it "$CTR_IMAGE" sh)") /dev/null"
	echo "$output"
	assert_equal "$status" 4 "exit code"
	output=${output//$'\r'/}
	assert_contains "$output" "/ # " "prompt"
	assert_match "$output" '(^|'$'\n'')hi-42('$'\n''|$)' "the typed command's output"
}

# ---------------------------------------------------------------------------
# Process configuration

@test "run: environment from the image, -e and --env-file, the last one wins" {
	pull_configured
	printf '# a comment\nFROM_FILE=file value\nOVERRIDE=file\n\n' >"$SKIFF_TEST_DIR/env"
	run_skiff run --rm --entrypoint '' --env-file "$SKIFF_TEST_DIR/env" -e OVERRIDE=flag \
		-e FROM_FLAG=flag "$CONFIGURED_IMAGE" sh -c \
		'echo "$FROM_IMAGE|$FROM_FILE|$FROM_FLAG|$OVERRIDE|$PATH"'
	assert_equal "$output" "image|file value|flag|flag|/usr/sbin:/usr/bin:/sbin:/bin" "env"
}

@test "run: a missing --env-file exits 125" {
	pull_ctr_image
	run_skiff 125 run --rm --env-file "$SKIFF_TEST_DIR/no-such-file" "$CTR_IMAGE" true
	assert_contains "$output" "no-such-file" "error"
}

@test "run: the image's entrypoint gets its cmd, or our arguments instead" {
	pull_configured
	run_skiff run --rm "$CONFIGURED_IMAGE"
	assert_equal "$output" "entrypoint default cmd" "default"
	run_skiff run --rm "$CONFIGURED_IMAGE" given args
	assert_equal "$output" "entrypoint given args" "with arguments"
}

@test "run --entrypoint: replaces the image's entrypoint and drops its cmd" {
	pull_configured
	run_skiff run --rm --entrypoint printf "$CONFIGURED_IMAGE" '%s-%s\n' a b
	assert_equal "$output" "a-b" "output"
	run_skiff run --rm --entrypoint pwd "$CONFIGURED_IMAGE"
	assert_equal "$output" "/srv/work" "the image's cmd is not passed"
}

@test "run --workdir: the image's working directory unless -w says otherwise" {
	pull_configured
	run_skiff run --rm --entrypoint pwd "$CONFIGURED_IMAGE"
	assert_equal "$output" "/srv/work" "image's WorkingDir (created)"
	run_skiff run --rm --entrypoint pwd -w /tmp "$CONFIGURED_IMAGE"
	assert_equal "$output" "/tmp" "-w /tmp"
	run_skiff run --rm --entrypoint pwd --workdir /new/dir "$CONFIGURED_IMAGE"
	assert_equal "$output" "/new/dir" "--workdir of a missing directory"
}

@test "run --user: a UID, UID:GID and a name from the image's /etc/passwd" {
	pull_ctr_image
	run_skiff run --rm "$CTR_IMAGE" sh -c 'echo $(id -u):$(id -g)'
	assert_equal "$output" "0:0" "default user"
	run_skiff run --rm --user 1000 "$CTR_IMAGE" sh -c 'echo $(id -u):$(id -g)'
	assert_equal "$output" "1000:0" "--user 1000"
	run_skiff run --rm -u 1000:2000 "$CTR_IMAGE" sh -c 'echo $(id -u):$(id -g)'
	assert_equal "$output" "1000:2000" "-u 1000:2000"
	run_skiff run --rm -u nobody "$CTR_IMAGE" sh -c 'echo $(id -un):$(id -u):$(id -g)'
	assert_equal "$output" "nobody:65534:65534" "-u nobody"
}

@test "run --user: a name the image does not know exits 125" {
	pull_ctr_image
	run_skiff --separate-stderr 125 run --rm -u no-such-user "$CTR_IMAGE" true
	assert_contains "$stderr" '"no-such-user"' "error"
}

@test "run --userns=keep-id: id -u is the user's own UID" {
	case_run_keep_id
}

@test "run --hostname: the container's hostname" {
	pull_ctr_image
	run_skiff run --rm --hostname box.example "$CTR_IMAGE" sh -c 'hostname; cat /etc/hostname'
	assert_equal "$output" $'box.example\nbox.example' "hostname and /etc/hostname"
}

@test "run: podman's default capabilities for root in the container" {
	pull_ctr_image
	cap_eff
	assert_equal "$output" "$DEFAULT_CAPS" "CapEff"
}

@test "run --cap-drop: the capability leaves CapEff" {
	pull_ctr_image
	cap_eff --cap-drop CHOWN
	assert_equal "$output" 00000000800405fa "CapEff without CAP_CHOWN"
	cap_eff --cap-drop all
	assert_equal "$output" 0000000000000000 "CapEff with --cap-drop all"
}

@test "run --cap-add: the capability joins CapEff" {
	pull_ctr_image
	cap_eff --cap-add NET_ADMIN
	assert_equal "$output" 00000000800415fb "CapEff with CAP_NET_ADMIN"
}

@test "run --privileged: every capability" {
	pull_ctr_image
	cap_eff --privileged
	[[ $((16#$output & 16#800415fb)) -eq $((16#800415fb)) && $((16#$output >> 32)) -gt 0 ]] ||
		die "CapEff $output lacks capabilities"
}

@test "run --security-opt no-new-privileges: NoNewPrivs is set" {
	pull_ctr_image
	run_skiff run --rm "$CTR_IMAGE" awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status
	assert_equal "$output" 0 "NoNewPrivs by default"
	run_skiff run --rm --security-opt no-new-privileges "$CTR_IMAGE" \
		awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status
	assert_equal "$output" 1 "NoNewPrivs"
}

@test "run --group-add: supplementary groups by number and by name" {
	pull_ctr_image
	run_skiff run --rm --group-add 10 --group-add nobody "$CTR_IMAGE" id -G
	assert_equal "$output" "0 10 65534" "id -G"
}

@test "run --env-host: our environment in the container" {
	pull_ctr_image
	output=$(SKIFF_TEST_HOST_VAR=from-host skiff_cmd run --rm --env-host "$CTR_IMAGE" \
		sh -c 'echo "$SKIFF_TEST_HOST_VAR"')
	assert_equal "$output" "from-host" "the host's variable"
}

@test "run --mount: type=bind (readonly) and type=tmpfs" {
	pull_ctr_image
	mkdir "$SKIFF_TEST_DIR/m"
	echo mounted >"$SKIFF_TEST_DIR/m/f"
	run_skiff 1 run --rm --mount "type=bind,source=$SKIFF_TEST_DIR/m,target=/m,readonly" \
		"$CTR_IMAGE" sh -c 'cat /m/f; touch /m/g'
	assert_equal "${lines[0]}" "mounted" "bind content"
	assert_contains "$output" "Read-only file system" "write to the readonly bind"
	run_skiff run --rm --mount type=tmpfs,target=/scratch "$CTR_IMAGE" \
		awk '$2 == "/scratch" { print $3 }' /proc/mounts
	assert_equal "$output" "tmpfs" "type of /scratch"
}

@test "run --log-driver none: nothing to read back with logs" {
	pull_ctr_image
	run_skiff run --log-driver none --name unlogged "$CTR_IMAGE" echo shown
	assert_equal "$output" "shown" "output"
	run_skiff 125 logs unlogged
	assert_contains "$output" '"none" log driver' "error"
}

@test "run --init: PID 1 is the init and the command its child" {
	pull_ctr_image
	run_skiff 5 run --rm --init "$CTR_IMAGE" sh -c 'echo $$ $PPID; cat /proc/1/comm; exit 5'
	assert_match "${lines[0]}" '^[0-9]+ 1$' "the command's PID and parent"
	[[ ${lines[0]} != "1 "* ]] || die "the command is PID 1"
	[[ ${lines[1]} != sh ]] || die "PID 1 is the shell"
	run_skiff run --rm "$CTR_IMAGE" sh -c 'echo $$; cat /proc/1/comm; exit 0'
	assert_equal "$output" $'1\nsh' "the command's PID without --init"
}

@test "run --ulimit: nofile soft and hard limits" {
	pull_ctr_image
	run_skiff run --rm --ulimit nofile=100:200 "$CTR_IMAGE" sh -c 'ulimit -n; ulimit -Hn'
	assert_equal "$output" $'100\n200' "soft and hard"
}

@test "run --read-only: writes fail, except to a --tmpfs" {
	case_run_read_only
}

@test "run -v HOST:CTR: a bind mount, read-write and :ro" {
	case_run_bind_mount
}

@test "run -v NAME:CTR: a named volume, made on first use, keeps data" {
	case_run_named_volume
	run_skiff volume ls -q
	assert_equal "$output" "data" "volume ls"
}

@test "run --rm: the container is gone after it exits" {
	case_run_rm_foreground
}

@test "run: without --rm the exited container stays, with its exit code" {
	pull_ctr_image
	run_skiff 6 run --name kept "$CTR_IMAGE" sh -c 'exit 6'
	run_skiff inspect --format '{{.State.Status}} {{.State.ExitCode}}' kept
	assert_equal "$output" "exited 6" "state"
}

# ---------------------------------------------------------------------------
# Names, IDs, labels

@test "run --name: a name in use exits 125 and names the holder" {
	local id
	pull_ctr_image
	run_skiff run --name taken "$CTR_IMAGE" true
	id=$(skiff_cmd inspect --format '{{.Id}}' taken)
	run_skiff --separate-stderr 125 run --name taken "$CTR_IMAGE" true
	assert_contains "$stderr" "the container name \"taken\" is already in use by $id" "error"
	run_skiff ps -a -q
	assert_equal "${#lines[@]}" 1 "containers"
}

@test "run --replace: the container holding the name is removed first" {
	local old
	pull_ctr_image
	run_skiff run --name twice "$CTR_IMAGE" true
	old=$(skiff_cmd inspect --format '{{.Id}}' twice)
	run_skiff run --replace --name twice "$CTR_IMAGE" echo second
	assert_equal "$output" "second" "output"
	run_skiff ps -a -q --no-trunc
	assert_equal "${#lines[@]}" 1 "containers"
	[[ $output != "$old" ]] || die "the old container is still there"
}

@test "run --cidfile: the file holds the full ID; an existing file exits 125" {
	pull_ctr_image
	run_skiff run --cidfile "$SKIFF_TEST_DIR/cid" --name withcid "$CTR_IMAGE" true
	assert_equal "$(cat "$SKIFF_TEST_DIR/cid")" \
		"$(skiff_cmd inspect --format '{{.Id}}' withcid)" "cidfile"
	run_skiff 125 run --cidfile "$SKIFF_TEST_DIR/cid" "$CTR_IMAGE" true
	assert_contains "$output" "cid" "error"
	run_skiff ps -a -q
	assert_equal "${#lines[@]}" 1 "containers"
}

@test "run --label: in inspect and matched by ps --filter label=" {
	pull_ctr_image
	run_skiff run --name labelled --label tier=web -l plain "$CTR_IMAGE" true
	run_skiff run --name other "$CTR_IMAGE" true
	run_skiff inspect labelled
	assert_equal "$(jq -c '.[0].Config.Labels' <<<"$output")" '{"tier":"web","plain":""}' \
		"Config.Labels"
	run_skiff ps -a --filter label=tier=web --format '{{.Names}}'
	assert_equal "$output" "labelled" "ps --filter label=tier=web"
	run_skiff ps -a --filter label=plain --format '{{.Names}}'
	assert_equal "$output" "labelled" "ps --filter label=plain"
}

@test "run: a container writes its own layer, not the image" {
	case_run_rootfs_writable_layer
}
