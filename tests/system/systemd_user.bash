# A real systemd user manager for the system tests, on a machine that did not
# boot systemd.  A .bats file that needs one loads this after helpers:
#
#   load helpers
#   load systemd_user
#
#   setup_file() {
#       require_systemd_user
#       systemd_user_start
#   }
#   teardown_file() {
#       systemd_user_stop
#       stop_all_registries        # (what the default teardown_file does)
#   }
#
# What it needs from tests/run-tests.sh (as root, in prepare_systemd_user and
# run_bats): /run/systemd/system (the marker systemd looks for), a cgroup2
# directory owned by the test user, exported as SKIFF_TEST_CGROUP, and bats
# itself moved into that directory.  The kernel lets a process move another
# between two cgroups only with write access to the cgroup.procs of their
# common ancestor, so the user cannot leave the root cgroup by itself, but
# can move processes between subdirectories of a directory it owns.
# Without that preparation (or when not run through run-tests.sh as root)
# require_systemd_user skips the test.
#
# Functions
#   require_systemd_user   skip, saying why, unless the environment can run
#                          a manager (SKIFF_TEST_CGROUP set, writable, bats
#                          inside it; /run/systemd/system; systemd and
#                          systemctl installed)
#   systemd_user_start [VAR=VALUE...]
#                          start `/lib/systemd/systemd --user` in its own
#                          cgroup under SKIFF_TEST_CGROUP with a clean
#                          environment plus VAR=VALUE (units inherit the
#                          manager's environment), and wait (30 s at most)
#                          until `is-system-running` says running or
#                          degraded; fails with the manager's log otherwise.
#                          Exports:
#     SYSTEMD_USER_DIR          its private directory (/tmp/skiff-sdu.*)
#     SYSTEMD_USER_RUNTIME_DIR  its XDG_RUNTIME_DIR (units see it as %t)
#     SYSTEMD_USER_CONFIG_HOME  its XDG_CONFIG_HOME; XDG_DATA_HOME is
#                               $SYSTEMD_USER_DIR/data
#     SYSTEMD_USER_UNIT_DIR     $SYSTEMD_USER_CONFIG_HOME/systemd/user, where
#                               unit files go
#     SYSTEMD_USER_LOG          the manager's stdout and stderr: what
#                               generators print (the manager logs to the
#                               journal or the console, neither of which
#                               reaches it; use `systemctl_user status`)
#     SYSTEMD_USER_PID, SYSTEMD_USER_CGROUP
#   systemd_user_stop      stop the manager (SIGTERM stops its units; 30 s at
#                          most, then SIGKILL), kill what is left in its
#                          cgroup, remove the cgroup and SYSTEMD_USER_DIR
#                          (kept with SKIFF_TEST_KEEP=1).  Safe to call when
#                          nothing was started.
#   systemctl_user ARGS... `systemctl --user ARGS` against this manager
#   systemd_analyze_user ARGS...
#                          `systemd-analyze --user ARGS` with the manager's
#                          XDG directories (e.g. `verify FILE.service`)
#   systemd_user_install FILE...
#                          copy unit files into SYSTEMD_USER_UNIT_DIR and
#                          daemon-reload
#   systemd_user_uninstall UNIT...
#                          stop the units (ignoring failures), reset their
#                          failed state, delete their files, daemon-reload
#   systemd_user_show UNIT PROPERTY
#                          print one property's value (ActiveState, MainPID,
#                          ExecMainStatus, ...)
#
# Writing units: the manager only sees this file's environment through
# systemd_user_start's VAR=VALUE arguments, so a unit names skiff by absolute
# path ($(readlink -f "$SKIFF")) with the test's --root and --runroot, and
# any per-test XDG_* or config through Environment= lines.  There is no
# journal: a unit's output is lost unless it says
# StandardOutput=append:$SYSTEMD_USER_DIR/NAME.log (and StandardError=),
# which is worth doing for the failure message.  `systemctl_user start`
# returns once the start job is done: for Type=notify when READY=1 arrived,
# so tests need no polling for that.
#
# Generators (/usr/lib/systemd/user-generators/, which only root can fill)
# run at start and at each daemon-reload with the manager's environment:
# Quadlet files go in $SYSTEMD_USER_CONFIG_HOME/containers/systemd/, and
# what a generator prints lands in SYSTEMD_USER_LOG.

# The cgroup2 mount point, as run-tests.sh finds it.
systemd_user_cgroup_root() {
	if [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
		echo /sys/fs/cgroup
	else
		echo /sys/fs/cgroup/unified
	fi
}

# Why this environment cannot run a manager, or nothing when it can.
systemd_user_unavailable() {
	local own mine
	[[ -n ${SKIFF_TEST_CGROUP-} ]] ||
		{ echo "SKIFF_TEST_CGROUP is not set (run through tests/run-tests.sh as root)"; return; }
	[[ -d $SKIFF_TEST_CGROUP && -w $SKIFF_TEST_CGROUP ]] ||
		{ echo "$SKIFF_TEST_CGROUP is not a directory this user may write"; return; }
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	mine=$(systemd_user_cgroup_root)$own
	[[ $mine == "$SKIFF_TEST_CGROUP" || $mine == "$SKIFF_TEST_CGROUP"/* ]] ||
		{ echo "bats runs in cgroup $own, outside $SKIFF_TEST_CGROUP"; return; }
	[[ -d /run/systemd/system ]] ||
		{ echo "/run/systemd/system does not exist"; return; }
	[[ -x /lib/systemd/systemd ]] || { echo "/lib/systemd/systemd is not installed"; return; }
	command -v systemctl >/dev/null || { echo "systemctl is not installed"; return; }
}

require_systemd_user() {
	local why
	why=$(systemd_user_unavailable)
	[[ -z $why ]] || skip "no systemd user manager: $why"
}

systemctl_user() {
	XDG_RUNTIME_DIR=$SYSTEMD_USER_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS='' \
		systemctl --user "$@"
}

systemd_analyze_user() {
	XDG_RUNTIME_DIR=$SYSTEMD_USER_RUNTIME_DIR \
		XDG_CONFIG_HOME=$SYSTEMD_USER_CONFIG_HOME \
		XDG_DATA_HOME=$SYSTEMD_USER_DIR/data \
		systemd-analyze --user "$@"
}

systemd_user_show() {
	systemctl_user show --property="$2" --value "$1"
}

systemd_user_install() {
	cp "$@" "$SYSTEMD_USER_UNIT_DIR"/ || die "cannot install $*"
	systemctl_user daemon-reload || die "daemon-reload failed"
}

systemd_user_uninstall() {
	local unit
	systemctl_user stop "$@" 2>/dev/null || true
	systemctl_user reset-failed "$@" 2>/dev/null || true
	for unit in "$@"; do
		rm -f "$SYSTEMD_USER_UNIT_DIR/$unit"
	done
	systemctl_user daemon-reload
}

systemd_user_start() {
	local state i
	[[ -z $(systemd_user_unavailable) ]] ||
		die "systemd_user_start: $(systemd_user_unavailable)"
	# Short: the manager's sockets live under it and sun_path is 108 bytes.
	SYSTEMD_USER_DIR=$(mktemp -d /tmp/skiff-sdu.XXXXXX) || die "mktemp failed"
	SYSTEMD_USER_RUNTIME_DIR=$SYSTEMD_USER_DIR/run
	SYSTEMD_USER_CONFIG_HOME=$SYSTEMD_USER_DIR/config
	SYSTEMD_USER_UNIT_DIR=$SYSTEMD_USER_CONFIG_HOME/systemd/user
	SYSTEMD_USER_LOG=$SYSTEMD_USER_DIR/manager.log
	SYSTEMD_USER_CGROUP=$SKIFF_TEST_CGROUP/${SYSTEMD_USER_DIR##*/}
	export SYSTEMD_USER_DIR SYSTEMD_USER_RUNTIME_DIR SYSTEMD_USER_CONFIG_HOME \
		SYSTEMD_USER_UNIT_DIR SYSTEMD_USER_LOG SYSTEMD_USER_CGROUP
	if ! mkdir -m 0700 "$SYSTEMD_USER_RUNTIME_DIR" "$SYSTEMD_USER_DIR/data" ||
		! mkdir -p "$SYSTEMD_USER_UNIT_DIR" || ! mkdir "$SYSTEMD_USER_CGROUP"; then
		die "cannot create the manager's directories"
		return 1
	fi

	# The subshell moves itself into the manager's cgroup, then becomes the
	# manager, in a clean environment (units inherit it) and without bats's
	# fd 3, which would keep bats waiting for the background process.
	(echo "$BASHPID" >"$SYSTEMD_USER_CGROUP/cgroup.procs" || exit 125
	exec env -i PATH="$PATH" HOME="$HOME" USER="$USER" LOGNAME="$LOGNAME" \
		SHELL=/bin/bash LANG=C.UTF-8 \
		XDG_RUNTIME_DIR="$SYSTEMD_USER_RUNTIME_DIR" \
		XDG_CONFIG_HOME="$SYSTEMD_USER_CONFIG_HOME" \
		XDG_DATA_HOME="$SYSTEMD_USER_DIR/data" \
		"$@" /lib/systemd/systemd --user) </dev/null >"$SYSTEMD_USER_LOG" 2>&1 3>&- &
	SYSTEMD_USER_PID=$!
	export SYSTEMD_USER_PID

	for ((i = 0; i < 300; i++)); do
		state=$(systemctl_user is-system-running 2>/dev/null) || true
		[[ $state == running || $state == degraded ]] && return 0
		if ! kill -0 "$SYSTEMD_USER_PID" 2>/dev/null ||
			[[ $(systemd_user_proc_state "$SYSTEMD_USER_PID") == Z ]]; then
			wait "$SYSTEMD_USER_PID"
			die "systemd --user exited ($?) before it was running; its log:" \
				"$(cat "$SYSTEMD_USER_LOG")"
			return 1
		fi
		sleep 0.1
	done
	die "systemd --user is '$state', not running, after 30 s; its log:" \
		"$(cat "$SYSTEMD_USER_LOG")"
	return 1
}

# The one-letter state of process PID (Z for a zombie), nothing when gone.
systemd_user_proc_state() {
	sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null
}

# Wait until PID is gone or a zombie, at most $2 tenths of a second.
systemd_user_wait_exit() {
	local pid=$1 i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		[[ $(systemd_user_proc_state "$pid") == Z ]] && return 0
		sleep 0.1
	done
	return 1
}

systemd_user_stop() {
	local dir i
	[[ -n ${SYSTEMD_USER_DIR-} ]] || return 0
	if [[ -n ${SYSTEMD_USER_PID-} ]]; then
		kill -TERM "$SYSTEMD_USER_PID" 2>/dev/null || true
		systemd_user_wait_exit "$SYSTEMD_USER_PID" 300 ||
			kill -KILL "$SYSTEMD_USER_PID" 2>/dev/null || true
		wait "$SYSTEMD_USER_PID" 2>/dev/null || true
	fi
	if [[ -d ${SYSTEMD_USER_CGROUP-} ]]; then
		# Whatever a unit left behind (KillMode=none, a stuck stop).
		echo 1 >"$SYSTEMD_USER_CGROUP/cgroup.kill" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			grep -qx 'populated 0' "$SYSTEMD_USER_CGROUP/cgroup.events" && break
			sleep 0.1
		done
		find "$SYSTEMD_USER_CGROUP" -depth -type d -print |
			while read -r dir; do rmdir "$dir" || true; done
	fi
	if [[ -n ${SKIFF_TEST_KEEP-} ]]; then
		echo "# kept $SYSTEMD_USER_DIR" >&3
	else
		remove_tree "$SYSTEMD_USER_DIR"
	fi
	unset SYSTEMD_USER_DIR SYSTEMD_USER_PID SYSTEMD_USER_CGROUP
}
