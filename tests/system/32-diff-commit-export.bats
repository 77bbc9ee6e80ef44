#!/usr/bin/env bats
# diff (A/C/D as docker prints them, JSON), commit (the writable layer as a
# new image: files, deletions and opaque directories survive; -c, -m,
# --author, -p; names) and export (the root file system as a tar), with the
# kernel overlay driver skiff chooses, and vfs and fuse-overlayfs where
# their code differs.

load helpers

setup_file() {
	container_image_setup
	build_multilayer_image "$BATS_FILE_TMPDIR/ctr-layout" multilayer
	export MULTI_IMAGE=$REGISTRY_ADDR/skiff/multilayer:v1
	push_image "$BATS_FILE_TMPDIR/ctr-layout" multilayer "$MULTI_IMAGE"
}

teardown() {
	container_teardown
}

pull_multi_image() {
	skiff_cmd pull -q --tls-verify=false "$MULTI_IMAGE" >/dev/null ||
		die "pull $MULTI_IMAGE failed"
}

require_fuse() {
	command -v fuse-overlayfs >/dev/null ||
		skip "fuse-overlayfs is not installed (Debian package fuse-overlayfs)"
	[[ -r /dev/fuse && -w /dev/fuse ]] ||
		skip "/dev/fuse is not usable by $(id -un) (tests/run-tests.sh as root opens it up)"
}

# A container NAME that adds /etc/new.txt, changes /etc/passwd, removes
# /bin/vi and exits.
make_changes() {
	run_skiff run --name "$1" "$CTR_IMAGE" sh -c \
		'echo new >/etc/new.txt; echo me:x:1:1::/:/bin/sh >>/etc/passwd; rm /bin/vi'
}

expected_changes=$'C /bin\nD /bin/vi\nC /etc\nA /etc/new.txt\nC /etc/passwd'

# ---------------------------------------------------------------------------
# diff

@test "diff: added, changed and deleted files as A, C and D lines" {
	pull_ctr_image
	make_changes d1
	run_skiff diff d1
	assert_equal "$output" "$expected_changes" "diff"
}

@test "diff: a container that changed nothing has no changes" {
	pull_ctr_image
	run_skiff run --name quiet "$CTR_IMAGE" true
	run_skiff diff quiet
	assert_equal "$output" "" "diff"
}

@test "diff: a running container's changes" {
	pull_ctr_image
	run_skiff run -d --name live "$CTR_IMAGE" sh -c 'mkdir /work && echo x >/work/f; sleep 1000'
	wait_until 100 skiff_cmd exec live test -e /work/f
	run_skiff diff live
	assert_equal "$output" $'A /work\nA /work/f' "diff"
}

@test "diff --format json: podman's changed, added and deleted lists" {
	pull_ctr_image
	make_changes d1
	run_skiff diff --format json d1
	assert_equal "$(jq -c .added <<<"$output")" '["/etc/new.txt"]' "added"
	assert_equal "$(jq -c .deleted <<<"$output")" '["/bin/vi"]' "deleted"
	assert_equal "$(jq -c .changed <<<"$output")" '["/bin","/etc","/etc/passwd"]' "changed"
}

@test "diff: against an image's whiteouts and opaque directory" {
	pull_multi_image
	run_skiff run --name m1 "$MULTI_IMAGE" sh -c \
		'echo back >/etc/skiff-fixture/old.txt; rm /opq/c'
	run_skiff diff m1
	assert_equal "$output" \
		$'C /etc\nC /etc/skiff-fixture\nA /etc/skiff-fixture/old.txt\nC /opq\nD /opq/c' "diff"
}

@test "diff: the vfs driver reports the same changes" {
	pull_ctr_image
	SKIFF_TEST_DRIVER=vfs make_changes d1
	run_skiff diff d1
	assert_equal "$output" "$expected_changes" "diff"
}

@test "diff: the fuse-overlayfs driver reports the same changes" {
	require_fuse
	pull_ctr_image
	SKIFF_TEST_DRIVER=fuse-overlayfs make_changes d1
	run_skiff diff d1
	assert_equal "$output" "$expected_changes" "diff"
}

@test "diff: an unknown container is an error" {
	run_skiff 125 diff nosuch
	assert_contains "$output" "nosuch" "error"
}

# ---------------------------------------------------------------------------
# commit

@test "commit: the new image has the container's files and deletions" {
	local id
	pull_ctr_image
	make_changes d1
	run_skiff --separate-stderr commit d1 snap
	id=$output
	assert_match "$id" '^sha256:[0-9a-f]{64}$' "printed ID"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_contains "$output" "localhost/snap:latest" "name"
	run_skiff run --rm snap sh -c 'cat /etc/new.txt; tail -1 /etc/passwd; test -e /bin/vi || echo no-vi'
	assert_equal "$output" $'new\nme:x:1:1::/:/bin/sh\nno-vi' "content"
}

@test "commit: one layer on top of the image's, with the history entry" {
	pull_ctr_image
	make_changes d1
	run_skiff commit -q d1 example.com/snap:1
	run_skiff inspect --format '{{json .RootFS.Layers}}' example.com/snap:1
	assert_equal "$(jq length <<<"$output")" 2 "layers"
	run_skiff history --format '{{.CreatedBy}}' example.com/snap:1
	assert_contains "${lines[0]}" "rm /bin/vi" "newest history entry"
}

@test "commit: -c, -m and --author reach the config" {
	pull_ctr_image
	run_skiff run --name c1 "$CTR_IMAGE" true
	run_skiff commit -q -c 'CMD ["echo", "from-commit"]' -c 'ENV GREETING=hi' \
		-m 'my message' --author 'Ann <ann@example.com>' c1 changed
	run_skiff run --rm changed
	assert_equal "$output" "from-commit" "CMD"
	run_skiff run --rm changed sh -c 'echo $GREETING'
	assert_equal "$output" "hi" "ENV"
	run_skiff inspect --format '{{.Comment}}|{{.Author}}' changed
	assert_equal "$output" "my message|Ann <ann@example.com>" "comment and author"
}

@test "commit: the container's command and environment become the image's" {
	pull_ctr_image
	run_skiff create --name c1 -e FROM_RUN=1 -w /tmp "$CTR_IMAGE" sh -c 'echo $FROM_RUN $(pwd)'
	run_skiff commit -q c1 inherits
	run_skiff run --rm inherits
	assert_equal "$output" "1 /tmp" "Cmd, Env and WorkingDir"
}

@test "commit: a bad --change fails before anything is stored" {
	pull_ctr_image
	run_skiff run --name c1 "$CTR_IMAGE" true
	run_skiff 125 commit -c 'BOGUS x' c1 never
	assert_contains "$output" "--change" "error"
	run_skiff 1 image exists never
}

@test "commit: an opaque directory hides the image's files in the new image" {
	pull_multi_image
	run_skiff run --name o1 "$MULTI_IMAGE" sh -c 'rm -rf /opq && mkdir /opq && echo n >/opq/new'
	run_skiff commit -q o1 opaque
	run_skiff run --rm opaque ls /opq
	assert_equal "$output" "new" "only the new file"
}

@test "commit: a running container, paused with -p, keeps running" {
	pull_ctr_image
	run_skiff run -d --name r1 "$CTR_IMAGE" sh -c 'echo run >/tmp/mark; sleep 1000'
	wait_until 100 skiff_cmd exec r1 test -e /tmp/mark
	run_skiff commit -q -p r1 paused
	assert_equal "$(ctr_status r1)" "running" "status"
	run_skiff exec r1 true
	run_skiff run --rm paused cat /tmp/mark
	assert_equal "$output" "run" "content"
}

@test "commit: with the vfs driver" {
	pull_ctr_image
	SKIFF_TEST_DRIVER=vfs make_changes v1
	run_skiff commit -q v1 fromvfs
	run_skiff run --rm fromvfs sh -c 'cat /etc/new.txt; test -e /bin/vi || echo no-vi; stat -c %a /tmp'
	assert_equal "$output" $'new\nno-vi\n1777' "content and the untouched /tmp"
}

@test "commit: an unknown container is an error" {
	run_skiff 125 commit nosuch img
	assert_contains "$output" "nosuch" "error"
}

# ---------------------------------------------------------------------------
# export

@test "export -o: the root file system as a tar" {
	pull_ctr_image
	make_changes e1
	run_skiff export -o "$SKIFF_TEST_DIR/e1.tar" e1
	run tar -tf "$SKIFF_TEST_DIR/e1.tar"
	assert_contains "$output" "bin/busybox" "image file"
	assert_contains "$output" "etc/new.txt" "container file"
	assert_not_contains "$output" "bin/vi"$'\n' "deleted file"
}

@test "export: to stdout when it is not a terminal" {
	pull_ctr_image
	run_skiff run --name e1 "$CTR_IMAGE" true
	skiff_cmd export e1 >"$SKIFF_TEST_DIR/out.tar"
	run tar -xOf "$SKIFF_TEST_DIR/out.tar" etc/group
	assert_equal "${lines[0]}" "root:x:0:" "file in the archive"
}

@test "export: refuses a terminal" {
	pull_ctr_image
	run_skiff run --name e1 "$CTR_IMAGE" true
	run script -qec "$SKIFF --root $SKIFF_ROOT --runroot $SKIFF_RUNROOT export e1" /dev/null
	[[ $status -eq 125 ]] || die "exit code $status"
	assert_contains "$output" "refusing to export to terminal" "error"
}

@test "export: a running container without its volumes and /proc" {
	pull_ctr_image
	run_skiff run -d --name e2 -v vol:/data "$CTR_IMAGE" sh -c 'echo v >/data/in-volume; sleep 1000'
	wait_until 100 skiff_cmd exec e2 test -e /data/in-volume
	run_skiff export -o "$SKIFF_TEST_DIR/e2.tar" e2
	run tar -tf "$SKIFF_TEST_DIR/e2.tar"
	assert_contains "$output" "bin/busybox" "image file"
	assert_not_contains "$output" "in-volume" "volume content"
	assert_not_contains "$output" "proc/self" "proc content"
}

@test "export: the fallback without open_tree gives the same view" {
	pull_ctr_image
	run_skiff run -d --name e3 -v vol:/data "$CTR_IMAGE" sh -c 'echo v >/data/in-volume; sleep 1000'
	wait_until 100 skiff_cmd exec e3 test -e /data/in-volume
	SKIFF_RUNTIME_FALLBACK=open_tree skiff_cmd export -o "$SKIFF_TEST_DIR/e3.tar" e3
	run tar -tf "$SKIFF_TEST_DIR/e3.tar"
	assert_contains "$output" "bin/busybox" "image file"
	assert_not_contains "$output" "in-volume" "volume content"
}
