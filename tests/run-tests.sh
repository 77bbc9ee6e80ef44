#!/bin/bash
# skiff's test command (what .ci/run runs).  On a fresh Debian 12 machine, as
# root, from a clean clone it:
#   1. installs the packages it needs (tests/install-deps.sh; a no-op when
#      they are there),
#   2. builds (autoreconf when configure is missing or stale, configure once,
#      make -j2) in build/ (or in the source tree if that was configured),
#   3. runs the unit tests (make check) and prints cmocka's summaries,
#   4. runs the system tests (tests/system/*.bats) with bats as unprivileged
#      users: it creates the test user (with /etc/subuid and /etc/subgid
#      ranges) and a second user without ranges for the *single-idmap*
#      files, copies the binary and the tests where they can read them, and
#      runs bats with a clean environment; for the test user also in a
#      cgroup2 directory it owns (SKIFF_TEST_CGROUP), with
#      /run/systemd/system, so that tests/system/systemd_user.bash can start
#      a systemd user manager, and with the Quadlet generator linked where
#      `make install` puts it (/usr/local/lib/systemd/user-generators,
#      SKIFF_TEST_USER_GENERATOR; removed at the end).
# Not as root it skips the installation and the users and runs every system
# test as the current user.  The last line is "N passed, N failed, N skipped"
# over unit and system tests; the exit status is non-zero when anything
# failed, including the build.
#
#   bash tests/run-tests.sh [--unit-only | --system-only] [BATS_FILE...]
#
# Environment: SKIFF_BUILD_DIR (default SRCDIR/build), SKIFF_CONFIGURE_FLAGS
# (extra configure arguments, e.g. CFLAGS=...), SKIFF_TEST_USER (default
# skifftest), SKIFF_TEST_USER_NOSUB (default skifftest-nosub),
# SKIFF_TEST_KEEP=1 (keep the system tests' directories).
set -uo pipefail

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=${SKIFF_BUILD_DIR:-$srcdir/build}
test_user=${SKIFF_TEST_USER:-skifftest}
nosub_user=${SKIFF_TEST_USER_NOSUB:-skifftest-nosub}
run_unit=1
run_system=1
test_cgroup=
user_generator=
bats_files=()

passed=0
failed=0
skipped=0

usage() {
	echo "usage: $0 [--unit-only | --system-only] [BATS_FILE...]" >&2
	exit 2
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--unit-only) run_system=0 ;;
	--system-only) run_unit=0 ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) bats_files+=("$(basename "$1")") ;;
	esac
	shift
done

is_root() {
	[[ $(id -u) -eq 0 ]]
}

step() {
	printf '\n=== %s ===\n' "$*"
}

finish() {
	printf '\n%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	[[ $failed -eq 0 ]]
	exit
}

# A step that cannot go on (install, build) counts as one failure.
abort() {
	echo "run-tests: $*" >&2
	failed=$((failed + 1))
	finish
}

# ---------------------------------------------------------------------------
# 1. packages

install_deps() {
	if is_root; then
		step "packages"
		bash "$srcdir/tests/install-deps.sh" || abort "installing packages failed"
	fi
}

# ---------------------------------------------------------------------------
# 2. build

build() {
	step "build"
	if [[ ! -x $srcdir/configure || $srcdir/configure.ac -nt $srcdir/configure ||
		$srcdir/Makefile.am -nt $srcdir/Makefile.in ]]; then
		(cd "$srcdir" && autoreconf -fi) || abort "autoreconf failed"
	fi
	# automake refuses a VPATH build of a tree that was configured in place.
	[[ -f $srcdir/config.status ]] && builddir=$srcdir
	mkdir -p "$builddir" || abort "cannot create $builddir"
	cd "$builddir" || abort "cannot enter $builddir"
	if [[ ! -f config.status || $srcdir/configure -nt config.status ]]; then
		# shellcheck disable=SC2086 # flags are split on purpose
		"$srcdir/configure" -q ${SKIFF_CONFIGURE_FLAGS-} || abort "configure failed"
	fi
	make -j2 || abort "build failed"
}

# ---------------------------------------------------------------------------
# 3. unit tests

# Add one cmocka log's counts; a program that died before its summary (a
# crash, an abort) counts as one failure.
count_unit_log() {
	local log=$1 trs=${1%.log}.trs p f s
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
	if [[ $f -eq 0 ]] && ! grep -qx ':test-result: PASS' "$trs" 2>/dev/null; then
		echo "${log%.log}: exited without passing ($(sed -n 's/^:test-result: //p' "$trs" 2>/dev/null))"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [[ $f -gt 0 ]]; then
		echo "--- ${log%.log} (log follows) ---"
		cat "$log"
	fi
	# The summary and the names it lists (cmocka prints each name twice).
	grep -E '^\[  (PASSED|FAILED|SKIPPED) *\] ' "$log" | awk '!seen[$0]++' |
		sed -e 's/, listed below:$//' -e "s|^|${log%.log}: |"
}

unit_tests() {
	local rc log logs
	step "unit tests (make check)"
	rm -f tests/unit/*.log tests/unit/*.trs
	CMOCKA_MESSAGE_OUTPUT=stdout make -j2 check
	rc=$?
	step "unit test summary"
	shopt -s nullglob
	logs=(tests/unit/*.log)
	shopt -u nullglob
	for log in "${logs[@]}"; do
		count_unit_log "$log"
	done
	if [[ $rc -ne 0 && $failed -eq 0 ]]; then
		echo "make check failed (exit $rc) before any test reported a failure"
		failed=$((failed + 1))
	fi
}

# ---------------------------------------------------------------------------
# 4. system tests

ensure_user() {
	id -u "$1" >/dev/null 2>&1 && return 0
	useradd --create-home --shell /bin/bash "$1"
}

# The test user gets subordinate ranges (useradd usually allocates them);
# the second user must have none, whatever useradd did.
prepare_users() {
	local uid
	ensure_user "$test_user" || abort "cannot create user $test_user"
	uid=$(id -u "$test_user")
	grep -qE "^($test_user|$uid):" /etc/subuid 2>/dev/null ||
		usermod --add-subuids 300000-365535 "$test_user" || abort "usermod --add-subuids failed"
	grep -qE "^($test_user|$uid):" /etc/subgid 2>/dev/null ||
		usermod --add-subgids 300000-365535 "$test_user" || abort "usermod --add-subgids failed"

	ensure_user "$nosub_user" || abort "cannot create user $nosub_user"
	uid=$(id -u "$nosub_user")
	sed -i -E "/^($nosub_user|$uid):/d" /etc/subuid /etc/subgid
}

# Rootless containers open these; the Debian default is 0600 root.
prepare_devices() {
	local dev
	for dev in /dev/fuse /dev/net/tun; do
		[[ -e $dev ]] && chmod 0666 "$dev"
	done
	# Debian kernels can turn unprivileged user namespaces off.
	if [[ -w /proc/sys/kernel/unprivileged_userns_clone &&
		$(cat /proc/sys/kernel/unprivileged_userns_clone) == 0 ]]; then
		echo 1 >/proc/sys/kernel/unprivileged_userns_clone
	fi
}

# What a real systemd user manager needs on a machine that did not boot
# systemd (tests/system/systemd_user.bash starts one per bats file): the
# /run/systemd/system marker, and a cgroup2 directory owned by the test user
# that run_bats moves bats into, so that the user may move processes between
# its subdirectories (the kernel asks for write access to the common
# ancestor's cgroup.procs).  Without a writable cgroup2 hierarchy nothing is
# exported and those tests skip.
prepare_systemd_user() {
	local base=/sys/fs/cgroup
	[[ $(stat -f -c %T "$base" 2>/dev/null) == cgroup2fs ]] || base=/sys/fs/cgroup/unified
	[[ $(stat -f -c %T "$base" 2>/dev/null) == cgroup2fs ]] || return 0
	# A read-only hierarchy (inside a container) only costs those tests.
	if ! mkdir -p /run/systemd/system "$base/skiff-test-user" ||
		! chown -R "$test_user:" "$base/skiff-test-user"; then
		echo "run-tests: no cgroup for systemd --user; its tests will skip" >&2
		return 0
	fi
	test_cgroup=$base/skiff-test-user
}

# The Quadlet generator where `make install` (prefix /usr/local) puts it,
# as a link to the staged binary, so that a user manager's daemon-reload
# runs it from there; removed again on exit.  An existing file there (a
# real installation) is left alone and the test that needs it skips.
install_user_generator() {
	local dir=/usr/local/lib/systemd/user-generators
	[[ -e $dir/skiff-user-generator || -L $dir/skiff-user-generator ]] && return 0
	mkdir -p "$dir" && ln -s "$stage/bin/skiff" "$dir/skiff-user-generator" || return 0
	user_generator=$dir/skiff-user-generator
}

# Copy what the tests read to a place every user can read: the clone may
# sit under a directory the test users cannot enter.
stage_tests() {
	stage=$(mktemp -d /tmp/skiff-systest.XXXXXX) || abort "mktemp failed"
	trap 'rm -rf "$stage"; [[ -z $user_generator ]] || rm -f "$user_generator"' EXIT
	mkdir -p "$stage/bin" "$stage/tests"
	if ! cp "$builddir/skiff" "$stage/bin/skiff" ||
		! cp -r "$srcdir/tests/system" "$stage/tests/system" ||
		! cp -r "$srcdir/completions" "$stage/completions"; then
		abort "staging the tests failed"
	fi
	chmod -R a+rX "$stage"
}

# Count one bats TAP log.  bats may stop early (a broken file): tests the
# plan announced but that never reported count as failed.
count_tap() {
	local tap=$1 rc=$2 plan ok notok skip
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | awk '{ n += $1 } END { print n + 0 }')
	ok=$(grep -cE '^ok [0-9]+' "$tap")
	notok=$(grep -cE '^not ok [0-9]+' "$tap")
	skip=$(grep -cE '^ok [0-9]+ .*# skip' "$tap")
	passed=$((passed + ok - skip))
	skipped=$((skipped + skip))
	failed=$((failed + notok))
	if [[ $((ok + notok)) -lt $plan ]]; then
		echo "bats stopped after $((ok + notok)) of $plan tests"
		failed=$((failed + plan - ok - notok))
	elif [[ $rc -ne 0 && $notok -eq 0 ]]; then
		echo "bats exited $rc without a failing test"
		failed=$((failed + 1))
	fi
}

# run_bats USER FILE...: bats as USER (or as ourselves when USER is empty)
# with a clean environment.
run_bats() {
	local user=$1 tap rc home cgroup=
	shift
	tap=$(mktemp /tmp/skiff-tap.XXXXXX)
	if [[ -n $user ]]; then
		home=$(getent passwd "$user" | cut -d: -f6)
		# Only the test user owns the test cgroup; root moves the subshell,
		# and so bats, into it (or the systemd --user tests skip).
		[[ $user == "$test_user" ]] && cgroup=$test_cgroup
		(if [[ -n $cgroup ]] && ! echo "$BASHPID" >"$cgroup/cgroup.procs"; then
			cgroup=
		fi
		cd "$stage/tests/system" && runuser -u "$user" -- env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash \
			LANG=C.UTF-8 SKIFF="$stage/bin/skiff" \
			${SKIFF_TEST_KEEP:+SKIFF_TEST_KEEP=1} \
			${cgroup:+SKIFF_TEST_CGROUP="$cgroup"} \
			${user_generator:+SKIFF_TEST_USER_GENERATOR="$user_generator"} \
			bats --tap "$@") 2>&1 | tee "$tap"
	else
		(cd "$stage/tests/system" && SKIFF="$stage/bin/skiff" bats --tap "$@") 2>&1 | tee "$tap"
	fi
	rc=${PIPESTATUS[0]}
	count_tap "$tap" "$rc"
	rm -f "$tap"
}

system_tests() {
	local f main=() single=()
	[[ -x $builddir/skiff ]] || abort "no skiff binary in $builddir"
	stage_tests
	if [[ ${#bats_files[@]} -eq 0 ]]; then
		for f in "$stage"/tests/system/*.bats; do
			bats_files+=("$(basename "$f")")
		done
	fi
	if ! is_root; then
		step "system tests as $(id -un)"
		run_bats "" "${bats_files[@]}"
		return
	fi
	prepare_users
	prepare_devices
	prepare_systemd_user
	install_user_generator
	for f in "${bats_files[@]}"; do
		if [[ $f == *single-idmap* ]]; then single+=("$f"); else main+=("$f"); fi
	done
	if [[ ${#main[@]} -gt 0 ]]; then
		step "system tests as $test_user (with subordinate IDs)"
		run_bats "$test_user" "${main[@]}"
	fi
	if [[ ${#single[@]} -gt 0 ]]; then
		step "system tests as $nosub_user (without subordinate IDs)"
		run_bats "$nosub_user" "${single[@]}"
	fi
}

install_deps
build
[[ $run_unit -eq 1 ]] && unit_tests
[[ $run_system -eq 1 ]] && system_tests
finish
