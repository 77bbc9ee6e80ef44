#!/usr/bin/env bats
# skiff under a real systemd user manager (systemd_user.bash): Type=notify
# units running `skiff run` (--sdnotify=conmon in the foreground, a
# `generate systemd --new` unit with run -d), --sdnotify=container with a
# container that tells READY=1 itself, socket activation (LISTEN_FDS and a
# listening socket at fd 3 inside the container), and
# `systemd-analyze --user verify` on generated units.  Without the manager
# (not run through run-tests.sh as root) those tests skip; the NOTIFY_SOCKET
# listener and LISTEN_FDS tests without systemd run everywhere.
#
# Containers that must tell systemd something use fixtures/sd-helper.c,
# built statically here and bind-mounted at /sd-helper: busybox has no
# systemd-notify and nothing that accepts on an inherited descriptor.

# shellcheck disable=SC2154 # bats' run sets status, output, lines
# shellcheck disable=SC2016 # $ in single quotes is for the container's shell

load helpers
load container_cases
load systemd_user

setup_file() {
	container_image_setup
	SD_HELPER=$BATS_FILE_TMPDIR/sd-helper
	if ! gcc -static -O2 -o "$SD_HELPER" "$BATS_TEST_DIRNAME/fixtures/sd-helper.c" 2>"$BATS_FILE_TMPDIR/gcc.log"; then
		SD_HELPER=
	fi
	export SD_HELPER
	# Tests that need the manager skip (require_systemd_user) without it.
	if [[ -z $(systemd_user_unavailable) ]]; then
		systemd_user_start
	fi
}

teardown_file() {
	systemd_user_stop
	stop_all_registries
}

setup() {
	skiff_setup
	pull_ctr_image
	# The units' skiff: this binary by absolute path, with the test's store.
	SELF="$(readlink -f "$SKIFF") --root $SKIFF_ROOT --runroot $SKIFF_RUNROOT"
	[[ -z ${SKIFF_TEST_DRIVER-} ]] || SELF+=" --storage-driver $SKIFF_TEST_DRIVER"
	UNITS=()
}

teardown() {
	if [[ ${#UNITS[@]} -gt 0 && -n ${SYSTEMD_USER_DIR-} ]]; then
		systemd_user_uninstall "${UNITS[@]}" >/dev/null 2>&1 || true
	fi
	container_teardown
}

require_sd_helper() {
	[[ -n $SD_HELPER ]] || skip "cannot build a static fixtures/sd-helper.c: $(cat "$BATS_FILE_TMPDIR/gcc.log")"
}

# install_unit NAME: the unit text on stdin becomes NAME in the manager's
# unit directory; teardown stops and removes it.
install_unit() {
	cat >"$SKIFF_TEST_DIR/$1" || die "cannot write $1"
	systemd_user_install "$SKIFF_TEST_DIR/$1"
	UNITS+=("$1")
}

# What the manager says about a unit that failed, for die messages.
unit_report() {
	systemctl_user status --no-pager "$1" 2>&1
	echo "--- the unit's output:"
	cat "$SYSTEMD_USER_DIR/$1.log" 2>/dev/null
}

# A [Service] whose output goes to a file, since there is no journal.
service_head() {
	cat <<EOF
[Service]
StandardOutput=append:$SYSTEMD_USER_DIR/$1.log
StandardError=append:$SYSTEMD_USER_DIR/$1.log
TimeoutStartSec=60
TimeoutStopSec=30
EOF
}

ctr_is_running() {
	[[ $(ctr_status "$1") == running ]]
}

# The container command that ends on SIGTERM, which a pid 1 without a
# handler would ignore.
TERM_SLEEP='trap "exit 0" TERM; sleep 1000 & wait'

# ---------------------------------------------------------------------------
# Type=notify units under the manager

@test "Type=notify unit with run --sdnotify=conmon: active once the container runs, stop ends it" {
	require_systemd_user
	local unit=sdu-$BATS_TEST_NUMBER-conmon.service
	{
		service_head "$unit"
		cat <<EOF
Type=notify
NotifyAccess=all
ExecStart=$SELF run --rm --name sdu --sdnotify=conmon $CTR_IMAGE sh -c '$TERM_SLEEP'
EOF
	} | install_unit "$unit"
	systemctl_user start "$unit" || die "start failed: $(unit_report "$unit")"
	# start returned: READY=1 came, which skiff sends once the container runs.
	assert_equal "$(systemd_user_show "$unit" ActiveState)" active "ActiveState"
	assert_equal "$(ctr_status sdu)" running "the container"
	local main ctr_pid
	main=$(systemd_user_show "$unit" MainPID)
	assert_contains "$(tr '\0' ' ' </proc/"$main"/cmdline)" "run --rm --name sdu" "MainPID's command"
	ctr_pid=$(skiff_cmd inspect --format '{{.State.Pid}}' sdu)
	pid_alive "$ctr_pid" || die "container pid $ctr_pid is not alive"

	systemctl_user stop "$unit"
	assert_equal "$(systemd_user_show "$unit" ActiveState)" inactive "ActiveState after stop"
	run_skiff 1 container exists sdu
	pid_alive "$ctr_pid" && die "container pid $ctr_pid survived the stop"
	pid_alive "$main" && die "skiff ($main) survived the stop"
	return 0
}

@test "Type=notify unit whose container cannot start fails instead of becoming active" {
	require_systemd_user
	local unit=sdu-$BATS_TEST_NUMBER-broken.service
	{
		service_head "$unit"
		cat <<EOF
Type=notify
NotifyAccess=all
ExecStart=$SELF run --rm --sdnotify=conmon $CTR_IMAGE /no/such/command
EOF
	} | install_unit "$unit"
	run systemctl_user start "$unit"
	[[ $status -ne 0 ]] || die "start succeeded: $(unit_report "$unit")"
	assert_equal "$(systemd_user_show "$unit" ActiveState)" failed "ActiveState"
	assert_equal "$(systemd_user_show "$unit" ExecMainStatus)" 127 "ExecMainStatus"
}

@test "generate systemd --new: the unit starts the container under systemd, stop removes it" {
	require_systemd_user
	run_skiff create --name web "$CTR_IMAGE" sh -c "$TERM_SLEEP"
	run_skiff generate systemd --new --name web
	install_unit container-web.service <<<"$output"
	systemd_analyze_user verify "$SYSTEMD_USER_UNIT_DIR/container-web.service"

	systemctl_user start container-web.service ||
		die "start failed: $(unit_report container-web.service)"
	assert_equal "$(systemd_user_show container-web.service ActiveState)" active "ActiveState"
	assert_equal "$(ctr_status web)" running "the container"
	# run -d: the main process is the container's monitor, not the CLI.
	local main id
	main=$(systemd_user_show container-web.service MainPID)
	pid_alive "$main" || die "MainPID $main is not alive"
	assert_equal "$main" "$(ctr_monitor_pid web)" "MainPID"
	id=$(skiff_cmd inspect --format '{{.Id}}' web)
	assert_equal "$(cat "$SYSTEMD_USER_RUNTIME_DIR/container-web.service.ctr-id")" "$id" \
		"the cidfile under %t"

	systemctl_user stop container-web.service
	assert_equal "$(systemd_user_show container-web.service ActiveState)" inactive \
		"ActiveState after stop"
	run_skiff 1 container exists web
	pid_alive "$main" && die "the monitor ($main) survived the stop"
	return 0
}

@test "generate systemd: units for an existing container pass systemd-analyze --user verify" {
	require_systemd_user
	run_skiff create --name db "$CTR_IMAGE" sleep 100
	run_skiff generate systemd --name --restart-policy=always --restart-sec=3 --time 7 \
		--wants network-online.target --after network-online.target db
	cat >"$SKIFF_TEST_DIR/container-db.service" <<<"$output"
	run systemd_analyze_user verify "$SKIFF_TEST_DIR/container-db.service"
	[[ $status -eq 0 ]] || die "verify failed: $output"
	run_skiff generate systemd --new --name db
	cat >"$SKIFF_TEST_DIR/container-db-new.service" <<<"$output"
	run systemd_analyze_user verify "$SKIFF_TEST_DIR/container-db-new.service"
	[[ $status -eq 0 ]] || die "verify of the --new unit failed: $output"
	# And verify does fail on a broken unit: the check can fail.
	printf '[Service]\nExecStart=relative/path\n' >"$SKIFF_TEST_DIR/broken.service"
	run systemd_analyze_user verify "$SKIFF_TEST_DIR/broken.service"
	[[ $status -ne 0 ]] || die "verify accepted a relative ExecStart"
}

@test "--sdnotify=container: the unit becomes active when the container says READY=1" {
	require_systemd_user
	require_sd_helper
	local unit=sdu-$BATS_TEST_NUMBER-container.service gate=$SKIFF_TEST_DIR/gate
	mkdir "$gate"
	{
		service_head "$unit"
		cat <<EOF
Type=notify
NotifyAccess=all
ExecStart=$SELF run --rm --name sdc --sdnotify=container -v $SD_HELPER:/sd-helper:ro -v $gate:/gate $CTR_IMAGE sh -c 'trap "exit 0" TERM; while [ ! -e /gate/go ]; do sleep 0.1; done; /sd-helper notify STATUS=serving READY=1; sleep 1000 & wait'
EOF
	} | install_unit "$unit"
	systemctl_user start --no-block "$unit"
	wait_until 300 ctr_is_running sdc
	# The container runs, but has not said it is ready: still starting.
	assert_equal "$(systemd_user_show "$unit" ActiveState)" activating "ActiveState before READY=1"
	touch "$gate/go"
	# A second start waits for the pending start job to finish.
	systemctl_user start "$unit" || die "start failed: $(unit_report "$unit")"
	assert_equal "$(systemd_user_show "$unit" ActiveState)" active "ActiveState after READY=1"
	assert_equal "$(systemd_user_show "$unit" StatusText)" serving "StatusText"
	local main
	main=$(systemd_user_show "$unit" MainPID)
	pid_alive "$main" || die "MainPID $main is not alive"
	assert_contains "$(tr '\0' ' ' </proc/"$main"/cmdline)" "run --rm --name sdc" "MainPID's command"
	systemctl_user stop "$unit"
	run_skiff 1 container exists sdc
}

# ---------------------------------------------------------------------------
# --sdnotify=container against a listener, without systemd

# notify_relay_listen fg|bg SOCKET CMD...: bind a datagram socket at
# SOCKET (a path, or @NAME for the abstract namespace) and run CMD with NOTIFY_SOCKET set to it.  fg: print each message
# received until one says READY=1 (20 s at most), "ALIVE PID" or "DEAD PID"
# for the MAINPID last announced, then SIGTERM CMD and print "EXIT RC".
# bg (CMD returns, as run -d does): print "EXIT RC" first, then the
# messages and ALIVE/DEAD.  Messages print as "MSG " and their lines
# joined with "|".
notify_relay_listen() {
	python3 - "$@" <<'PY' 3>&-
import os, signal, socket, subprocess, sys
mode, path, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
s.settimeout(20)
p = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=path),
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
if mode == "bg":
    print("EXIT", p.wait(timeout=60))
mainpid = None
try:
    while True:
        msg = s.recv(4096).decode()
        print("MSG " + msg.replace("\n", "|"))
        for line in msg.split("\n"):
            if line.startswith("MAINPID="):
                mainpid = int(line[8:])
        if "READY=1" in msg.split("\n"):
            break
except socket.timeout:
    print("TIMEOUT")

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False

print("ALIVE" if mainpid and alive(mainpid) else "DEAD", mainpid)
if mode == "fg":
    p.send_signal(signal.SIGTERM)
    print("EXIT", p.wait(timeout=60))
PY
}

@test "run --sdnotify=container in the foreground: the container's READY=1 and STATUS are relayed" {
	require_sd_helper
	run notify_relay_listen fg "$SKIFF_TEST_DIR/notify.sock" "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" ${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run --rm --sdnotify=container -v "$SD_HELPER:/sd-helper:ro" "$CTR_IMAGE" \
		sh -c 'trap "exit 0" TERM
			/sd-helper notify MAINPID=1 STATUS=up X_UNKNOWN=1 READY=1
			sleep 1000 & wait'
	# First skiff's MAINPID, then the container's message, translated: its
	# MAINPID=1 (a pid in its namespace) names skiff, the unknown key goes.
	local skiff_pid
	skiff_pid=$(sed -n 's/^MSG MAINPID=\([0-9]*\)|$/\1/p' <<<"${lines[0]}")
	[[ -n $skiff_pid ]] || die "first message is not skiff's MAINPID: $output"
	assert_equal "${lines[1]}" "MSG MAINPID=$skiff_pid|STATUS=up|READY=1|" "relayed message"
	assert_equal "${lines[2]}" "ALIVE $skiff_pid" "MAINPID after READY=1"
	assert_equal "${lines[3]}" "EXIT 0" "skiff's exit"
}

@test "run -d --sdnotify=container: READY=1 relayed by the monitor, which is MAINPID" {
	require_sd_helper
	run notify_relay_listen bg "$SKIFF_TEST_DIR/notify.sock" "$SKIFF" --root "$SKIFF_ROOT" \
		--runroot "$SKIFF_RUNROOT" ${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run -d --name relayed --sdnotify=container -v "$SD_HELPER:/sd-helper:ro" "$CTR_IMAGE" \
		sh -c '/sd-helper notify READY=1; sleep 1000'
	assert_equal "${lines[0]}" "EXIT 0" "run -d"
	local main
	main=$(sed -n 's/^MSG MAINPID=\([0-9]*\)|$/\1/p' <<<"${lines[1]}")
	[[ -n $main ]] || die "first message is not MAINPID: $output"
	assert_equal "${lines[2]}" "MSG READY=1|" "relayed message"
	assert_equal "${lines[3]}" "ALIVE $main" "MAINPID after READY=1"
	assert_equal "$main" "$(ctr_monitor_pid relayed)" "MAINPID is the monitor"
	# The socket goes with the monitor.
	local run_dir
	run_dir=$SKIFF_RUNROOT/containers/$(skiff_cmd inspect --format '{{.Id}}' relayed)
	[[ -S $run_dir/notify.sock ]] || die "no relay socket in $run_dir"
	run_skiff rm -f relayed
	[[ ! -e $run_dir/notify.sock ]] || die "relay socket left in $run_dir"
}

@test "--sdnotify=container: the relay lasts across restarts, to an abstract NOTIFY_SOCKET" {
	require_sd_helper
	local state=$SKIFF_TEST_DIR/state
	mkdir "$state"
	# Runs 1 and 2 fail; run 3, started by the restart policy, is ready.
	run notify_relay_listen bg "@skiff-relay-$$-$BATS_TEST_NUMBER" "$SKIFF" \
		--root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run -d --name again --restart on-failure:2 --sdnotify=container \
		-v "$SD_HELPER:/sd-helper:ro" -v "$state:/state" "$CTR_IMAGE" sh -c '
			echo run >>/state/runs
			n=$(wc -l </state/runs)
			if [ "$n" -lt 3 ]; then /sd-helper notify STATUS=run$n; exit 1; fi
			/sd-helper notify STATUS=run$n READY=1
			sleep 1000'
	assert_equal "${lines[0]}" "EXIT 0" "run -d"
	local main
	main=$(ctr_monitor_pid again)
	assert_equal "${lines[1]}" "MSG MAINPID=$main|" "the monitor's MAINPID"
	assert_equal "${lines[2]}" "MSG STATUS=run1|" "first run"
	assert_equal "${lines[3]}" "MSG STATUS=run2|" "second run"
	assert_equal "${lines[4]}" "MSG STATUS=run3|READY=1|" "third run"
	assert_equal "${lines[5]}" "ALIVE $main" "MAINPID after READY=1"
	assert_equal "$(skiff_cmd inspect --format '{{.RestartCount}}' again)" 2 "restarts"
}

# ---------------------------------------------------------------------------
# Socket activation

# The line a container's sd-helper serve-fd3 answers on 127.0.0.1:PORT
# (the socket systemd or the test holds), 60 s at most.
fd3_request() {
	python3 - "$1" <<'PY' 3>&-
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
print(c.makefile().readline(), end="")
PY
}

@test "socket activation: a .socket unit's listener reaches the container as fd 3" {
	require_systemd_user
	require_sd_helper
	local port n mode
	for mode in fg detached; do
		port=$(free_port)
		n=sdu-$BATS_TEST_NUMBER-$mode
		install_unit "$n.socket" <<EOF
[Socket]
ListenStream=127.0.0.1:$port
FileDescriptorName=web
EOF
		if [[ $mode == fg ]]; then
			{
				service_head "$n.service"
				cat <<EOF
Type=notify
ExecStart=$SELF run --rm --name $n --network none -v $SD_HELPER:/sd-helper:ro $CTR_IMAGE /sd-helper serve-fd3
EOF
			} | install_unit "$n.service"
		else
			{
				service_head "$n.service"
				cat <<EOF
Type=notify
NotifyAccess=all
ExecStart=$SELF run -d --replace --rm --name $n --network none -v $SD_HELPER:/sd-helper:ro $CTR_IMAGE /sd-helper serve-fd3
ExecStop=$SELF stop --ignore -t 10 $n
ExecStopPost=$SELF rm -f --ignore $n
EOF
			} | install_unit "$n.service"
		fi
		systemctl_user start "$n.socket"
		assert_equal "$(systemd_user_show "$n.service" ActiveState)" inactive \
			"$mode: service before the first connection"
		# --network none: only the descriptor can bring the connection in.
		run fd3_request "$port"
		[[ $status -eq 0 ]] || die "$mode: no answer on $port: $output $(unit_report "$n.service")"
		assert_equal "$output" "fd3 pid=1 LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=web" \
			"$mode: the container's answer"
		assert_equal "$(systemd_user_show "$n.service" ActiveState)" active "$mode: service"
		# The same listener serves a second connection.
		run fd3_request "$port"
		assert_equal "$output" "fd3 pid=1 LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=web" \
			"$mode: second answer"
		systemctl_user stop "$n.service" "$n.socket"
		# inactive, not failed: the stop commands worked too.
		assert_equal "$(systemd_user_show "$n.service" ActiveState)" inactive \
			"$mode: service after stop"
		run_skiff 1 container exists "$n"
	done
}

# run_with_listener PORT CMD...: CMD with a listening socket on
# 127.0.0.1:PORT as fd 3 and LISTEN_FDS=1, LISTEN_PID=its pid, as systemd
# starts a socket-activated service; CMD's output goes to stdout.
run_with_listener() {
	python3 - "$@" <<'PY' 3>&-
import os, socket, sys
port, cmd = int(sys.argv[1]), sys.argv[2:]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
pid = os.fork()
if pid == 0:
    # s may be fd 3 already: dup2 then does nothing, so say it explicitly.
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    os.execvpe(cmd[0], cmd, env)
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
PY
}

@test "LISTEN_FDS without systemd: run -d passes fd 3 on, close-on-exec in the monitor" {
	require_sd_helper
	local port
	port=$(free_port)
	run run_with_listener "$port" "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} \
		run -d --name act --network none -v "$SD_HELPER:/sd-helper:ro" "$CTR_IMAGE" \
		/sd-helper serve-fd3
	[[ $status -eq 0 ]] || die "run -d failed: $output"
	# The CLI is gone; the monitor kept the socket for the container.
	run fd3_request "$port"
	assert_equal "$output" "fd3 pid=1 LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=" "answer"
	# In the monitor the socket is close-on-exec: the helpers it runs
	# (slirp4netns, fuse-overlayfs, newuidmap) do not hold it.
	local mon flags
	mon=$(ctr_monitor_pid act)
	flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$mon/fdinfo/3")
	[[ -n $flags ]] || die "the monitor has no fd 3"
	(((8#$flags & 8#2000000) != 0)) || die "fd 3 of the monitor is not close-on-exec ($flags)"
	# Without LISTEN_*, nothing is passed: the helper's check fails.
	run_skiff 1 run --rm --network none -v "$SD_HELPER:/sd-helper:ro" "$CTR_IMAGE" \
		/sd-helper serve-fd3
	assert_contains "$output" "LISTEN_FDS is not 1"
}

@test "LISTEN_PID of another process: the sockets are not ours to pass" {
	require_sd_helper
	run_skiff 1 run --rm --network none -e LISTEN_FDS=1 -e LISTEN_PID=1 \
		-v "$SD_HELPER:/sd-helper:ro" "$CTR_IMAGE" /sd-helper serve-fd3
	assert_contains "$output" "descriptor 3"
	LISTEN_FDS=1 LISTEN_PID=1 run_skiff 1 run --rm --network none \
		-v "$SD_HELPER:/sd-helper:ro" "$CTR_IMAGE" sh -c 'echo "[${LISTEN_FDS-}]"; exit 1'
	assert_contains "$output" "[]"
}
