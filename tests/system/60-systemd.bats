#!/usr/bin/env bats
# skiff under systemd without a systemd: `generate systemd` units (their
# lines, --files, and a --new unit's commands run by hand with %t and %n
# expanded), the sd_notify messages a NOTIFY_SOCKET listener receives from
# `run --sdnotify`, and the flags those units use (stop/rm --cidfile and
# --ignore, run --cgroups).

load helpers
load container_cases

setup_file() {
	container_image_setup
}

setup() {
	skiff_setup
	pull_ctr_image
	# The unit's skiff: this binary with the store's global options.
	SELF="$(readlink -f "$SKIFF") --root $SKIFF_ROOT --runroot $SKIFF_RUNROOT"
	[[ -z ${SKIFF_TEST_DRIVER-} ]] || SELF+=" --storage-driver $SKIFF_TEST_DRIVER"
}

teardown() {
	container_teardown
}

# The unit text on stdin with podman's continuation lines joined.
join_lines() {
	sed -e ':a' -e '/\\$/N; s/ \\\n\t/ /; ta'
}

# unit_value KEY: the value of the first KEY= line of the joined unit in
# $output.
unit_value() {
	join_lines <<<"$output" | sed -n "s/^$1=//p" | head -n 1
}

# notify_listen SOCKET CMD...: bind a datagram socket at SOCKET (a path, or
# @NAME for the abstract namespace), run CMD with NOTIFY_SOCKET set to it,
# and print CMD's output, then the first message received within 5 s
# ("TIMEOUT" without one).
notify_listen() {
	python3 - "$@" <<'PY'
import os, socket, subprocess, sys
path, cmd = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
s.settimeout(5)
env = dict(os.environ, NOTIFY_SOCKET=path)
rc = subprocess.run(cmd, env=env).returncode
if rc != 0:
    print("EXIT", rc)
    sys.exit(0)
try:
    print(s.recv(4096).decode(), end="")
except socket.timeout:
    print("TIMEOUT")
PY
}

@test "generate systemd: a unit that starts and stops the existing container" {
	run_skiff create --name web "$CTR_IMAGE" sleep 100
	local id=$output
	run_skiff generate systemd web
	assert_contains "$output" "# container-$id.service" "header"
	assert_equal "$(unit_value ExecStart)" "$SELF start $id" "ExecStart"
	assert_equal "$(unit_value ExecStop)" "$SELF stop -t 10 $id" "ExecStop"
	assert_equal "$(unit_value TimeoutStopSec)" 70 "TimeoutStopSec"
	assert_equal "$(unit_value Restart)" on-failure "Restart"
	assert_equal "$(unit_value Type)" notify "Type"
	assert_equal "$(unit_value WantedBy)" default.target "WantedBy"
	assert_equal "$(unit_value RequiresMountsFor)" "$SKIFF_RUNROOT" "RequiresMountsFor"
	assert_contains "$output" "Environment=PODMAN_SYSTEMD_UNIT=%n" "unit variable"
}

@test "generate systemd --new: ExecStart replays the recorded command line" {
	run_skiff create --name web -e FOO=bar --rm --stop-timeout 7 "$CTR_IMAGE" sh -c 'sleep 100'
	run_skiff generate systemd --new --name web
	assert_contains "$output" "# container-web.service" "header"
	local expected="$SELF run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm --sdnotify=conmon -d"
	expected+=" --replace --name web -e FOO=bar --stop-timeout 7 $CTR_IMAGE sh -c \"sleep 100\""
	assert_equal "$(unit_value ExecStart)" "$expected" "ExecStart"
	assert_equal "$(unit_value ExecStartPre)" "/bin/rm -f %t/%n.ctr-id" "ExecStartPre"
	assert_equal "$(unit_value ExecStop)" "$SELF stop --ignore -t 7 --cidfile=%t/%n.ctr-id" \
		"ExecStop"
	assert_equal "$(unit_value ExecStopPost)" "$SELF rm -f --ignore --cidfile=%t/%n.ctr-id" \
		"ExecStopPost"
	assert_equal "$(unit_value TimeoutStopSec)" 67 "TimeoutStopSec"
	assert_equal "$(unit_value Type)" notify "Type"
	assert_equal "$(unit_value NotifyAccess)" all "NotifyAccess"
	assert_equal "$(unit_value WantedBy)" default.target "WantedBy"
	assert_equal "$(unit_value RequiresMountsFor)" "%t/containers" "RequiresMountsFor"
}

@test "generate systemd: restart policy, timeouts, dependencies, env and the unit name" {
	run_skiff create --name web "$CTR_IMAGE" true
	run_skiff generate systemd --name --restart-policy=always --restart-sec 5 -t 20 \
		--wants a.service --after b.service --requires c.service -e X=1 -e 'Y=a b' \
		--container-prefix ctr --separator _ --no-header web
	assert_equal "${lines[0]}" "[Unit]" "no header"
	assert_equal "$(unit_value Restart)" always "Restart"
	assert_equal "$(unit_value RestartSec)" 5 "RestartSec"
	assert_equal "$(unit_value TimeoutStopSec)" 80 "TimeoutStopSec"
	assert_equal "$(unit_value ExecStop)" "$SELF stop -t 20 web" "ExecStop"
	assert_contains "$output" $'# User-defined dependencies\nWants=a.service\nAfter=b.service\nRequires=c.service' \
		"dependencies"
	assert_contains "$output" $'Environment=X=1\nEnvironment="Y=a b"' "environment"
	assert_contains "$output" "Description=Skiff ctr_web.service" "unit name"
}

@test "generate systemd: bad flags, unknown containers and unrecorded command lines" {
	run_skiff create --name web "$CTR_IMAGE" true
	run_skiff 125 generate systemd --restart-policy=sometimes web
	assert_contains "$output" "sometimes is not a valid restart policy"
	run_skiff 125 generate systemd nosuch
	assert_contains "$output" "no such container"
	run_skiff 125 generate systemd
	# A container whose config lost its recorded command line (one made
	# before skiff recorded it) still gets a unit, but not a --new one.
	local id cfg
	id=$(skiff_cmd inspect --format '{{.Id}}' web)
	cfg=$SKIFF_ROOT/containers/$id/config.json
	jq 'del(.CreateCommand)' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
	run_skiff generate systemd web
	run_skiff 125 generate systemd --new web
	assert_contains "$output" "has no recorded command line"
}

@test "generate systemd --files writes container-NAME.service in the working directory" {
	run_skiff create --name web "$CTR_IMAGE" true
	cd "$SKIFF_TEST_DIR"
	run_skiff generate systemd --files --name web
	assert_equal "$output" "$SKIFF_TEST_DIR/container-web.service" "printed path"
	assert_contains "$(cat container-web.service)" "WantedBy=default.target" "file"
}

@test "generate systemd --new: the unit's commands run the container and remove it" {
	run_skiff create --name web "$CTR_IMAGE" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	run_skiff generate systemd --new --name web
	local unit=$output rundir=$SKIFF_TEST_DIR/unit-run key line
	mkdir "$rundir"
	# The container the unit replaces is gone once the unit has started.
	for key in ExecStartPre ExecStart; do
		output=$unit
		line=$(unit_value "$key" | sed -e "s|%t|$rundir|g; s|%n|container-web.service|g")
		eval "$line" </dev/null >/dev/null 3>&- || die "$key failed: $line"
	done
	local id
	id=$(cat "$rundir/container-web.service.ctr-id")
	assert_equal "$(ctr_status web)" running "status after ExecStart"
	assert_equal "$(skiff_cmd inspect --format '{{.Id}}' web)" "$id" "the unit's container"
	for key in ExecStop ExecStopPost; do
		output=$unit
		line=$(unit_value "$key" | sed -e "s|%t|$rundir|g; s|%n|container-web.service|g")
		eval "$line" >/dev/null || die "$key failed: $line"
	done
	run_skiff 1 container exists web
	# Stopping a unit whose container is gone already is not an error.
	for key in ExecStop ExecStopPost; do
		output=$unit
		line=$(unit_value "$key" | sed -e "s|%t|$rundir|g; s|%n|container-web.service|g")
		eval "$line" >/dev/null || die "$key failed the second time: $line"
	done
}

@test "stop and rm --cidfile; --ignore for missing files and containers" {
	run_skiff run -d --cidfile "$SKIFF_TEST_DIR/cid" --name web "$CTR_IMAGE" \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	run_skiff stop -t 5 --cidfile "$SKIFF_TEST_DIR/cid"
	assert_equal "$(ctr_status web)" exited "status after stop --cidfile"
	run_skiff rm --cidfile "$SKIFF_TEST_DIR/cid"
	run_skiff 1 container exists web
	run_skiff stop --ignore --cidfile "$SKIFF_TEST_DIR/cid"
	run_skiff rm -f --ignore --cidfile "$SKIFF_TEST_DIR/nofile"
	run_skiff stop -i nosuch
	run_skiff 125 stop --cidfile "$SKIFF_TEST_DIR/nofile"
	: >"$SKIFF_TEST_DIR/empty"
	run_skiff 125 rm --cidfile "$SKIFF_TEST_DIR/empty"
	assert_contains "$output" "is empty"
}

@test "run --sdnotify and --cgroups: accepted values only" {
	run_skiff 125 run --sdnotify=bogus "$CTR_IMAGE" true
	assert_contains "$output" 'invalid --sdnotify "bogus"'
	run_skiff 125 run --cgroups=bogus "$CTR_IMAGE" true
	assert_contains "$output" 'invalid --cgroups "bogus"'
	run_skiff run --rm --cgroups=no-conmon --sdnotify=ignore "$CTR_IMAGE" true
}

@test "run -d --sdnotify=conmon: READY=1 and the monitor's MAINPID reach NOTIFY_SOCKET" {
	local sock=$SKIFF_TEST_DIR/notify.sock
	run notify_listen "$sock" "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run -d --name web "$CTR_IMAGE" sleep 100
	assert_contains "$output" "READY=1" "message"
	local pid
	pid=$(sed -n 's/^MAINPID=//p' <<<"$output")
	[[ $pid =~ ^[0-9]+$ ]] || die "no MAINPID in: $output"
	kill -0 "$pid" || die "MAINPID $pid is not alive"
	assert_equal "$(ctr_status web)" running "status"
	# The main PID is the process that waits for the container: its
	# monitor, which outlives the CLI and exits with the container.
	assert_contains "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "run -d --name web" "MAINPID's command"
}

@test "run --sdnotify=conmon in the foreground and to an abstract socket" {
	run notify_listen "@skiff-test-$$-$BATS_TEST_NUMBER" "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" ${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run --rm "$CTR_IMAGE" true
	assert_contains "$output" "READY=1" "message"
	assert_match "$output" "MAINPID=[0-9]+" "MAINPID"
}

@test "run -d --sdnotify=ignore sends nothing" {
	run notify_listen "$SKIFF_TEST_DIR/notify.sock" "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" ${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run -d --sdnotify=ignore "$CTR_IMAGE" sleep 100
	assert_contains "$output" TIMEOUT "listener"
	assert_not_contains "$output" "READY=1" "listener"
}

@test "run --sdnotify=container: the socket and NOTIFY_SOCKET inside, MAINPID from skiff" {
	run notify_listen "$SKIFF_TEST_DIR/notify.sock" "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" ${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run --rm --sdnotify=container "$CTR_IMAGE" \
		sh -c 'test -S "$NOTIFY_SOCKET" && echo "inside: $NOTIFY_SOCKET"'
	assert_contains "$output" "inside: /run/notify/notify.sock" "the container's socket"
	assert_match "$output" "MAINPID=[0-9]+" "MAINPID"
	# Readiness is the container's to tell.
	assert_not_contains "$output" "READY=1" "skiff's message"
}

@test "run --sdnotify=conmon: the container sees no NOTIFY_SOCKET" {
	run notify_listen "$SKIFF_TEST_DIR/notify.sock" "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" ${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run --rm "$CTR_IMAGE" sh -c 'echo "inside: [${NOTIFY_SOCKET-}]"'
	assert_contains "$output" "inside: []" "the container's environment"
	assert_contains "$output" "READY=1" "skiff's message"
}
