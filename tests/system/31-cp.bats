#!/usr/bin/env bats
# skiff cp: files and directories out of and into containers, running or
# not, docker's rules for where they land ("DIR/." for contents), owners
# (container root unless -a), tar archives on stdin and stdout with "-",
# and symlinks inside the container resolved within its root.

load helpers

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

# A running container NAME that idles until stopped.
run_idle() {
	run_skiff run -d --name "$1" "$CTR_IMAGE" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
}

in_ctr() {
	skiff_cmd exec "$@"
}

# ---------------------------------------------------------------------------
# Out of the container

@test "cp: a file out of a running container into a host directory" {
	pull_ctr_image
	run_idle c1
	mkdir "$SKIFF_TEST_DIR/out"
	run_skiff cp c1:/etc/passwd "$SKIFF_TEST_DIR/out"
	assert_equal "$(head -1 "$SKIFF_TEST_DIR/out/passwd")" "root:x:0:0:root:/root:/bin/sh" "content"
	assert_equal "$(stat -c %u "$SKIFF_TEST_DIR/out/passwd")" "$(id -u)" "owned by us"
}

@test "cp: a file out under a new name" {
	pull_ctr_image
	run_idle c1
	run_skiff cp c1:/etc/group "$SKIFF_TEST_DIR/renamed"
	assert_equal "$(head -1 "$SKIFF_TEST_DIR/renamed")" "root:x:0:" "content"
}

@test "cp: a directory out creates the destination with its contents" {
	pull_ctr_image
	run_idle c1
	in_ctr c1 sh -c 'mkdir -p /srv/d/sub && echo x >/srv/d/sub/f'
	run_skiff cp c1:/srv/d "$SKIFF_TEST_DIR/copy"
	assert_equal "$(cat "$SKIFF_TEST_DIR/copy/sub/f")" "x" "nested file"
}

@test "cp: DIR/. copies the contents into an existing directory" {
	pull_ctr_image
	run_idle c1
	in_ctr c1 sh -c 'mkdir -p /srv/d && echo y >/srv/d/f'
	mkdir "$SKIFF_TEST_DIR/into"
	run_skiff cp c1:/srv/d/. "$SKIFF_TEST_DIR/into"
	assert_equal "$(cat "$SKIFF_TEST_DIR/into/f")" "y" "file at the top"
	[[ ! -e $SKIFF_TEST_DIR/into/d ]] || die "the directory itself was copied"
}

@test "cp: a directory into an existing directory lands below it" {
	pull_ctr_image
	run_idle c1
	in_ctr c1 sh -c 'mkdir -p /srv/d && echo z >/srv/d/f'
	mkdir "$SKIFF_TEST_DIR/parent"
	run_skiff cp c1:/srv/d "$SKIFF_TEST_DIR/parent"
	assert_equal "$(cat "$SKIFF_TEST_DIR/parent/d/f")" "z" "file below"
}

@test "cp: out of a container to stdout as a tar archive" {
	pull_ctr_image
	run_idle c1
	skiff_cmd cp c1:/etc - >"$SKIFF_TEST_DIR/etc.tar"
	run tar -tf "$SKIFF_TEST_DIR/etc.tar"
	assert_contains "$output" "etc/passwd" "archive listing"
}

@test "cp: out of an exited container" {
	pull_ctr_image
	run_skiff run --name done "$CTR_IMAGE" sh -c 'echo left-behind >/root/note'
	run_skiff cp done:/root/note "$SKIFF_TEST_DIR/note"
	assert_equal "$(cat "$SKIFF_TEST_DIR/note")" "left-behind" "content"
}

@test "cp: a missing source is an error naming it" {
	pull_ctr_image
	run_idle c1
	run_skiff 125 cp c1:/nonexistent "$SKIFF_TEST_DIR/x"
	assert_contains "$output" '"/nonexistent" could not be found on container c1' "error"
}

# ---------------------------------------------------------------------------
# Into the container

@test "cp: a file into a running container belongs to its root" {
	pull_ctr_image
	run_idle c1
	echo hello >"$SKIFF_TEST_DIR/in.txt"
	run_skiff cp "$SKIFF_TEST_DIR/in.txt" c1:/tmp/
	run_skiff exec c1 stat -c '%u:%g %s' /tmp/in.txt
	assert_equal "$output" "0:0 6" "owner and size"
}

@test "cp -a: a file into a container keeps its uid and gid" {
	pull_ctr_image
	run_idle c1
	echo hello >"$SKIFF_TEST_DIR/in.txt"
	run_skiff cp -a "$SKIFF_TEST_DIR/in.txt" c1:/tmp/kept.txt
	run_skiff exec c1 stat -c '%u:%g' /tmp/kept.txt
	assert_equal "$output" "$(id -u):$(id -g)" "owner"
}

@test "cp: a directory into a stopped container, as a new directory" {
	pull_ctr_image
	run_skiff create --name later "$CTR_IMAGE" cat /opt/a/b
	mkdir -p "$SKIFF_TEST_DIR/tree/a"
	echo deep >"$SKIFF_TEST_DIR/tree/a/b"
	run_skiff cp "$SKIFF_TEST_DIR/tree" later:/opt
	run_skiff start -a later
	assert_equal "$output" "deep" "content seen by the container"
}

@test "cp: a file onto an existing file replaces it" {
	pull_ctr_image
	run_idle c1
	echo replaced >"$SKIFF_TEST_DIR/hostname"
	run_skiff cp "$SKIFF_TEST_DIR/hostname" c1:/etc/group
	run_skiff exec c1 cat /etc/group
	assert_equal "$output" "replaced" "content"
}

@test "cp: - extracts a tar archive from stdin into a directory" {
	pull_ctr_image
	run_idle c1
	mkdir -p "$SKIFF_TEST_DIR/src/pkg"
	echo one >"$SKIFF_TEST_DIR/src/pkg/one"
	tar -C "$SKIFF_TEST_DIR/src" -cf "$SKIFF_TEST_DIR/in.tar" pkg
	run skiff_cmd cp - c1:/tmp <"$SKIFF_TEST_DIR/in.tar"
	[[ $status -eq 0 ]] || die "cp - failed: $output"
	run_skiff exec c1 cat /tmp/pkg/one
	assert_equal "$output" "one" "extracted file"
}

@test "cp: - into a path that is not a directory fails" {
	pull_ctr_image
	run_idle c1
	tar -C "$SKIFF_TEST_DIR" -cf "$SKIFF_TEST_DIR/in.tar" --files-from /dev/null
	run skiff_cmd cp - c1:/etc/passwd <"$SKIFF_TEST_DIR/in.tar"
	[[ $status -eq 125 ]] || die "exit code $status"
	assert_contains "$output" "must be an existing directory" "error"
}

@test "cp: a directory onto a file is refused" {
	pull_ctr_image
	run_idle c1
	mkdir "$SKIFF_TEST_DIR/dir"
	run_skiff 125 cp "$SKIFF_TEST_DIR/dir" c1:/etc/passwd
	assert_contains "$output" "cannot overwrite non-directory" "error"
}

# ---------------------------------------------------------------------------
# Symlinks stay inside the container

@test "cp: a symlink into the host's tree is followed within the container's root" {
	local hostdir=$SKIFF_TEST_DIR/hostdir
	pull_ctr_image
	run_idle c1
	mkdir "$hostdir"
	in_ctr c1 sh -c "mkdir -p '$hostdir' && ln -s '$hostdir' /tmp/link"
	echo payload >"$SKIFF_TEST_DIR/p.txt"
	run_skiff cp "$SKIFF_TEST_DIR/p.txt" c1:/tmp/link/
	[[ -z $(ls -A "$hostdir") ]] || die "the copy reached the host's $hostdir"
	run_skiff exec c1 cat "$hostdir/p.txt"
	assert_equal "$output" "payload" "landed inside the container"
}

@test "cp: a relative symlink climbing out stops at the container's root" {
	pull_ctr_image
	run_idle c1
	in_ctr c1 sh -c 'echo inside >/etc/marker && ln -s ../../../../../../../etc /tmp/up'
	run_skiff cp c1:/tmp/up/marker "$SKIFF_TEST_DIR/marker"
	assert_equal "$(cat "$SKIFF_TEST_DIR/marker")" "inside" "the container's file"
}

@test "cp: a symlink is copied as a symlink" {
	pull_ctr_image
	run_idle c1
	in_ctr c1 ln -s /etc/passwd /tmp/pw
	run_skiff cp c1:/tmp/pw "$SKIFF_TEST_DIR/pw"
	assert_equal "$(readlink "$SKIFF_TEST_DIR/pw")" "/etc/passwd" "link target"
}

# ---------------------------------------------------------------------------
# Volumes and arguments

@test "cp: a running container's volume is part of what it sees" {
	pull_ctr_image
	run_skiff run -d --name v1 -v vol:/data "$CTR_IMAGE" sh -c 'echo in-volume >/data/f; sleep 1000'
	wait_until 100 in_ctr v1 test -e /data/f
	run_skiff cp v1:/data/f "$SKIFF_TEST_DIR/f"
	assert_equal "$(cat "$SKIFF_TEST_DIR/f")" "in-volume" "content"
}

@test "cp: two host paths are refused" {
	run_skiff 125 cp "$SKIFF_TEST_DIR/a" "$SKIFF_TEST_DIR/b"
	assert_contains "$output" "you must use just one container" "error"
}

@test "cp: an unknown container is an error" {
	run_skiff 125 cp nosuch:/etc/passwd "$SKIFF_TEST_DIR/x"
	assert_contains "$output" "nosuch" "error names it"
}
