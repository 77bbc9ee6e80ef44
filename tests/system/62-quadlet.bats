#!/usr/bin/env bats
# Quadlet: skiff as a systemd generator (a link named skiff-user-generator,
# dispatching on argv[0]) and `skiff quadlet`, turning .container and
# .volume files into service units: the golden files of
# fixtures/quadlet/expected compared byte for byte, the search path and
# its precedence, [Install] links, errors and warnings naming the file,
# `systemd-analyze --user verify` on the output, and, under a real systemd
# user manager (systemd_user.bash), daemon-reload running the generator
# and the generated service starting and stopping its container.

# shellcheck disable=SC2154 # bats' run sets status, output, lines, stderr

load helpers
load container_cases
load systemd_user

FIXTURES=$BATS_TEST_DIRNAME/fixtures/quadlet

setup_file() {
	container_image_setup
	# Where systemd finds the generator: a link to the binary under test,
	# named as `make install` names it.
	GENERATOR_DIR=$BATS_FILE_TMPDIR/user-generators
	mkdir -p "$GENERATOR_DIR"
	ln -s "$(readlink -f "$SKIFF")" "$GENERATOR_DIR/skiff-user-generator"
	export GENERATOR_DIR
	# The manager runs the generator from its installed place when
	# run-tests.sh put it there (SKIFF_TEST_USER_GENERATOR), else from the
	# link above.
	if [[ -z $(systemd_user_unavailable) ]]; then
		if [[ -n ${SKIFF_TEST_USER_GENERATOR-} ]]; then
			systemd_user_start
		else
			systemd_user_start SYSTEMD_GENERATOR_PATH="$GENERATOR_DIR"
		fi
	fi
}

teardown_file() {
	systemd_user_stop
	stop_all_registries
}

setup() {
	skiff_setup
	OUT=$SKIFF_TEST_DIR/out
	QDIR=$XDG_CONFIG_HOME/containers/systemd
	mkdir -p "$QDIR"
}

teardown() {
	container_teardown
}

# generator ARGS...: run the generator link (user mode) with stderr apart.
generator() {
	echo "\$ skiff-user-generator $*"
	run --separate-stderr "$GENERATOR_DIR/skiff-user-generator" --no-kmsg-log "$@"
	echo "$output"
	echo "(stderr) $stderr"
}

# quadlet_file NAME: the text on stdin becomes NAME in the user's directory.
quadlet_file() {
	cat >"$QDIR/$1" || die "cannot write $1"
}

@test "the generator link writes the golden units from the user's directory" {
	cp "$FIXTURES"/*.container "$FIXTURES"/*.volume "$QDIR"/
	SKIFF=/usr/bin/skiff generator "$OUT" "$OUT.early" "$OUT.late"
	assert_equal "$status" 0 "exit code"
	assert_equal "$stderr" "" "messages"
	local expected name n=0
	for expected in "$FIXTURES"/expected/*.service; do
		name=${expected##*/}
		[[ -f $OUT/$name && ! -L $OUT/$name ]] || die "$name was not generated"
		# The fixtures were read from $QDIR; the golden files name them
		# from /etc/containers/systemd.
		diff -u "$expected" <(sed "s|$QDIR|/etc/containers/systemd|g" "$OUT/$name") ||
			die "$name differs from the golden file"
		n=$((n + 1))
	done
	assert_equal "$(find "$OUT" -maxdepth 1 -name '*.service' -type f | wc -l)" "$n" \
		"generated units"
	[[ ! -e $OUT.early && ! -e $OUT.late ]] || die "wrote into the early or late directory"
}

@test "[Install] becomes .wants, .requires and alias links, as systemctl enable makes them" {
	cp "$FIXTURES"/*.container "$FIXTURES"/*.volume "$QDIR"/
	generator "$OUT"
	assert_equal "$status" 0 "exit code"
	assert_equal "$(readlink "$OUT/default.target.wants/web.service")" ../web.service "WantedBy"
	assert_equal "$(readlink "$OUT/multi-user.target.wants/options.service")" \
		../options.service "WantedBy"
	assert_equal "$(readlink "$OUT/app.target.requires/options.service")" \
		../options.service "RequiredBy"
	assert_equal "$(readlink "$OUT/application.service")" options.service "Alias"
	# A generator runs again into the same directory on each reload.
	generator "$OUT"
	assert_equal "$status" 0 "exit code of the second run"
}

@test "quadlet --dryrun prints the units and writes nothing" {
	cp "$FIXTURES"/basic.container "$FIXTURES"/data.volume "$QDIR"/
	run --separate-stderr env SKIFF=/usr/bin/skiff "$SKIFF" quadlet --dryrun --user
	echo "$output"
	assert_equal "$status" 0 "exit code"
	assert_equal "$stderr" "" "messages"
	[[ ! -e $OUT ]] || die "wrote $OUT"
	# In file name order.
	assert_equal "${lines[0]}" "---basic.service---" "first unit"
	assert_contains "$output" "---data-volume.service---" "second unit"
	assert_contains "$output" "ExecStart=/usr/bin/skiff volume create --ignore" "volume unit"
	assert_contains "$output" "$(sed "s|/etc/containers/systemd|$QDIR|" \
		"$FIXTURES/expected/basic.service")" "basic.service"
}

@test "the same file name in an earlier directory hides the later one" {
	mkdir "$SKIFF_TEST_DIR/first" "$SKIFF_TEST_DIR/second"
	printf '[Container]\nImage=first-image\n' >"$SKIFF_TEST_DIR/first/a.container"
	printf '[Container]\nImage=second-image\n' >"$SKIFF_TEST_DIR/second/a.container"
	printf '[Container]\nImage=b-image\n' >"$SKIFF_TEST_DIR/second/b.container"
	QUADLET_UNIT_DIRS=$SKIFF_TEST_DIR/first:$SKIFF_TEST_DIR/second generator "$OUT"
	assert_equal "$status" 0 "exit code"
	assert_match "$(grep ^ExecStart= "$OUT/a.service")" " first-image$" "a.service"
	assert_match "$(grep ^ExecStart= "$OUT/b.service")" " b-image$" "b.service"
	assert_contains "$(cat "$OUT/a.service")" "SourcePath=$SKIFF_TEST_DIR/first/a.container"
}

@test "a file without Image= is an error naming it; the other files are still generated" {
	printf '[Container]\nExec=true\n' | quadlet_file noimage.container
	printf '[Container]\nImage=busybox\n' | quadlet_file ok.container
	generator "$OUT"
	assert_equal "$status" 1 "exit code"
	assert_match "$stderr" "^quadlet-generator\[[0-9]+\]: Error converting '$QDIR/noimage.container', ignoring: no Image key specified" "error"
	assert_contains "$stderr" "Error: 1 of 2 Quadlet files could not be converted" "summary"
	[[ -f $OUT/ok.service ]] || die "ok.service was not generated"
	[[ ! -e $OUT/noimage.service ]] || die "noimage.service was generated"
}

@test "unknown keys and keys skiff cannot honour warn, naming the file and the key" {
	printf '[Container]\nImage=busybox\nFrobnicate=yes\nTimezone=UTC\n' |
		quadlet_file w.container
	generator "$OUT"
	assert_equal "$status" 0 "exit code"
	assert_contains "$stderr" "Warning: unknown key 'Frobnicate' in group 'Container' in $QDIR/w.container, ignoring"
	assert_contains "$stderr" "Warning: key 'Timezone' in group 'Container' in $QDIR/w.container is not supported by skiff, ignoring"
	assert_not_contains "$(grep ^ExecStart= "$OUT/w.service")" "UTC" "the command"
}

@test "networks: .network files and Network=NAME.network are errors" {
	printf '[Network]\nSubnet=10.89.0.0/24\n' | quadlet_file mynet.network
	printf '[Container]\nImage=busybox\nNetwork=mynet.network\n' | quadlet_file n.container
	printf '[Container]\nImage=busybox\nNetwork=none\n' | quadlet_file none.container
	generator "$OUT"
	assert_equal "$status" 1 "exit code"
	assert_contains "$stderr" "Error converting '$QDIR/mynet.network', ignoring: skiff has no user-defined networks"
	assert_contains "$stderr" "Error converting '$QDIR/n.container', ignoring: Network=mynet.network: skiff has no user-defined networks"
	assert_contains "$(cat "$OUT/none.service")" " --network none " "Network=none"
	[[ ! -e $OUT/n.service && ! -e $OUT/mynet-network.service ]] || die "generated a network unit"
}

@test "a malformed file is reported with its line" {
	printf '[Container]\nImage=busybox\nno equals sign here\n' | quadlet_file bad.container
	printf 'Image=busybox\n' | quadlet_file nosection.container
	generator "$OUT"
	assert_equal "$status" 1 "exit code"
	assert_contains "$stderr" "Error loading '$QDIR/bad.container', ignoring: \"$QDIR/bad.container\" line 3: missing '='"
	assert_contains "$stderr" "line 1: assignment outside of a section"
}

@test "quadlet needs an output directory unless --dryrun" {
	run_skiff 125 quadlet
	assert_contains "$output" "Error: " "error"
	run_skiff 125 quadlet --bogus "$OUT"
	assert_contains "$output" "unknown flag: --bogus" "unknown flag"
}

@test "generated units pass systemd-analyze --user verify" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	cp "$FIXTURES"/*.container "$FIXTURES"/*.volume "$QDIR"/
	SKIFF=$(readlink -f "$SKIFF") generator "$OUT"
	assert_equal "$status" 0 "exit code"
	local unit
	for unit in "$OUT"/*.service; do
		[[ -L $unit ]] && continue
		run systemd-analyze --user verify "$unit"
		echo "$output"
		assert_equal "$status" 0 "verify ${unit##*/}"
		assert_equal "$output" "" "verify ${unit##*/} messages"
	done
}

@test "daemon-reload runs the generator; the service starts and stops its container" {
	require_systemd_user
	echo "generator: ${SKIFF_TEST_USER_GENERATOR:-$GENERATOR_DIR/skiff-user-generator (SYSTEMD_GENERATOR_PATH)}"
	pull_ctr_image
	local dir=$SYSTEMD_USER_CONFIG_HOME/containers/systemd log=$SYSTEMD_USER_DIR/q.log
	local global="--root $SKIFF_ROOT --runroot $SKIFF_RUNROOT"
	[[ -z ${SKIFF_TEST_DRIVER-} ]] || global+=" --storage-driver $SKIFF_TEST_DRIVER"
	mkdir -p "$dir"
	cat >"$dir/qweb.container" <<EOF
[Unit]
Description=Quadlet test container

[Container]
Image=$CTR_IMAGE
GlobalArgs=$global
Volume=qdata.volume:/data
Exec=sh -c 'trap "exit 0" TERM; echo up >/data/mark; sleep 1000 & wait'

[Service]
StandardOutput=append:$log
StandardError=append:$log
TimeoutStartSec=60
EOF
	cat >"$dir/qdata.volume" <<EOF
[Volume]
GlobalArgs=$global
EOF
	systemctl_user daemon-reload || die "daemon-reload failed"
	assert_equal "$(systemd_user_show qweb.service LoadState)" loaded \
		"qweb.service from the generator; manager log: $(cat "$SYSTEMD_USER_LOG")"
	assert_contains "$(systemd_user_show qweb.service SourcePath)" "$dir/qweb.container" "SourcePath"

	systemctl_user start qweb.service ||
		die "start failed: $(systemctl_user status --no-pager qweb.service 2>&1; cat "$log")"
	assert_equal "$(systemd_user_show qweb.service ActiveState)" active "ActiveState"
	assert_equal "$(systemd_user_show qdata-volume.service ActiveState)" active \
		"the volume unit it requires"
	assert_equal "$(ctr_status systemd-qweb)" running "the container"
	run_skiff ps --format '{{.Names}}'
	assert_contains "$output" systemd-qweb "skiff ps"
	run_skiff volume ls --format '{{.Name}}'
	assert_contains "$output" systemd-qdata "the volume"

	systemctl_user stop qweb.service
	assert_equal "$(systemd_user_show qweb.service ActiveState)" inactive "ActiveState after stop"
	run_skiff 1 container exists systemd-qweb
	[[ ! -e $SYSTEMD_USER_RUNTIME_DIR/qweb.cid ]] || die "the cid file is left"
	systemctl_user stop qdata-volume.service
	rm -f "$dir/qweb.container" "$dir/qdata.volume"
	systemctl_user daemon-reload
}
