#!/usr/bin/env bats
# Named volumes: volume create, ls (table, -q, --format, --filter),
# inspect, exists, rm (in use, -f), prune; data kept across containers; a
# new volume filled with the image's files at its mount point (copy-up)
# with their owners, once; nocopy; anonymous volumes kept across restarts.

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

# The table's rows, columns separated by one space.
squeeze() {
	sed -E 's/  +/ /g; s/ +$//'
}

# ---------------------------------------------------------------------------
# create, ls, inspect, exists

@test "volume create: prints the name; ls shows it under DRIVER and VOLUME NAME" {
	run_skiff volume create data1
	assert_equal "$output" "data1" "create output"
	run_skiff volume ls
	assert_equal "$(squeeze <<<"${lines[0]}")" "DRIVER VOLUME NAME" "header"
	assert_equal "$(squeeze <<<"${lines[1]}")" "local data1" "row"
	assert_equal "${#lines[@]}" 2 "rows"
}

@test "volume create: without a name the volume gets a random one" {
	run_skiff volume create
	assert_match "$output" '^[0-9a-f]{64}$' "generated name"
	run_skiff volume exists "$output"
}

@test "volume create: an existing name fails unless --ignore" {
	run_skiff volume create twice
	run_skiff 125 volume create twice
	assert_contains "$output" "volume with name twice already exists" "error"
	run_skiff volume create --ignore twice
	assert_equal "$output" "twice" "--ignore output"
}

@test "volume create: an invalid name fails" {
	run_skiff 125 volume create 'bad/name'
	assert_contains "$output" 'invalid volume name "bad/name"' "error"
}

@test "volume ls: -q, --format json and a Go template" {
	run_skiff volume create --label team=a qa
	run_skiff volume create qb
	run_skiff volume ls -q
	assert_equal "$output" $'qa\nqb' "-q"
	run_skiff volume ls --format json
	assert_equal "$(jq -r '.[].Name' <<<"$output" | tr '\n' ' ')" "qa qb " "json names"
	assert_equal "$(jq -r '.[0].Labels.team' <<<"$output")" "a" "json label"
	run_skiff volume ls --format '{{.Name}}:{{.Driver}}'
	assert_equal "$output" $'qa:local\nqb:local' "template"
}

@test "volume ls --filter: name, label and dangling" {
	pull_ctr_image
	run_skiff volume create --label env=prod alpha
	run_skiff volume create beta
	run_skiff create -v beta:/data "$CTR_IMAGE" true
	run_skiff volume ls -q --filter name=alp
	assert_equal "$output" "alpha" "name filter"
	run_skiff volume ls -q --filter label=env=prod
	assert_equal "$output" "alpha" "label filter"
	run_skiff volume ls -q --filter dangling=true
	assert_equal "$output" "alpha" "dangling=true"
	run_skiff volume ls -q --filter dangling=false
	assert_equal "$output" "beta" "dangling=false"
	run_skiff 125 volume ls --filter colour=blue
	assert_contains "$output" 'invalid volume filter "colour=blue"' "bad filter"
}

@test "volume inspect: docker's object with the mount point on disk" {
	run_skiff volume create --label a=b insp
	run_skiff volume inspect insp
	assert_equal "$(jq -r '.[0].Name' <<<"$output")" "insp" "Name"
	assert_equal "$(jq -r '.[0].Driver' <<<"$output")" "local" "Driver"
	assert_equal "$(jq -r '.[0].Scope' <<<"$output")" "local" "Scope"
	assert_equal "$(jq -r '.[0].Labels.a' <<<"$output")" "b" "Labels"
	assert_match "$(jq -r '.[0].CreatedAt' <<<"$output")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "CreatedAt"
	[[ -d $(jq -r '.[0].Mountpoint' <<<"$output") ]] || die "Mountpoint is not a directory"
	run_skiff volume inspect --format '{{.Name}} {{.Driver}}' insp
	assert_equal "$output" "insp local" "template"
}

@test "volume inspect: a missing volume is an error" {
	run_skiff 125 volume inspect nosuch
	assert_contains "$output" "no such volume nosuch" "error"
}

@test "volume exists: 0 when it exists, 1 when not" {
	run_skiff volume create here
	run_skiff 0 volume exists here
	run_skiff 1 volume exists gone
}

# ---------------------------------------------------------------------------
# rm, prune

@test "volume rm: removes the volume and prints its name" {
	run_skiff volume create doomed
	run_skiff volume rm doomed
	assert_equal "$output" "doomed" "output"
	run_skiff 1 volume exists doomed
}

@test "volume rm: a missing volume exits 1" {
	run_skiff 1 volume rm nosuch
	assert_contains "$output" 'no volume with name "nosuch" found' "error"
}

@test "volume rm: a volume a container uses is refused with exit code 2" {
	local id
	pull_ctr_image
	run_skiff volume create busy
	run_skiff create -v busy:/data "$CTR_IMAGE" true
	id=$output
	run_skiff 2 volume rm busy
	assert_contains "$output" "volume busy is being used by the following container(s): $id" \
		"error"
	run_skiff volume exists busy
}

@test "volume rm -f: removes the containers using the volume, then the volume" {
	local id
	pull_ctr_image
	run_skiff volume create forced
	run_skiff run -d -v forced:/data "$CTR_IMAGE" sleep 1000
	id=$output
	run_skiff volume rm -f forced
	run_skiff 1 volume exists forced
	run_skiff 1 container exists "$id"
}

@test "volume prune -f: removes the unused volumes, keeps the used ones" {
	pull_ctr_image
	run_skiff volume create unused1
	run_skiff volume create used1
	run_skiff create -v used1:/data "$CTR_IMAGE" true
	run_skiff volume prune -f
	assert_equal "$output" "unused1" "pruned"
	run_skiff volume ls -q
	assert_equal "$output" "used1" "left"
}

@test "volume prune: answering no keeps everything" {
	run_skiff volume create keepme
	run skiff_cmd volume prune <<<"n"
	[[ $status -eq 0 ]] || die "prune exited $status"
	assert_contains "$output" "keepme" "listed in the prompt"
	run_skiff volume exists keepme
}

# ---------------------------------------------------------------------------
# Volumes in containers

@test "volume: data written by one container is read by the next" {
	pull_ctr_image
	run_skiff run --rm -v kept:/data "$CTR_IMAGE" sh -c 'echo persisted >/data/f'
	run_skiff run --rm -v kept:/data "$CTR_IMAGE" cat /data/f
	assert_equal "$output" "persisted" "content"
}

@test "volume copy-up: a new volume gets the image's files at its mount point" {
	pull_ctr_image
	run_skiff run --rm -v cfg:/etc "$CTR_IMAGE" cat /etc/group
	assert_contains "$output" "root:x:0:" "image file in the volume"
	[[ -f $(skiff_cmd volume inspect --format '{{.Mountpoint}}' cfg)/passwd ]] ||
		die "passwd not copied into the volume on disk"
}

@test "volume copy-up: owners and modes of the image's files are kept" {
	pull_multi_image
	run_skiff run --rm -v fix:/etc/skiff-fixture "$MULTI_IMAGE" \
		stat -c '%n %u:%g %a' /etc/skiff-fixture/owned.txt
	assert_equal "$output" "/etc/skiff-fixture/owned.txt 1000:1000 640" "owned.txt"
	run_skiff run --rm -v fix:/etc/skiff-fixture "$MULTI_IMAGE" ls /etc/skiff-fixture
	assert_equal "$output" "owned.txt" "the whited-out file is not there"
}

@test "volume copy-up: the volume directory takes the image directory's mode" {
	pull_ctr_image
	run_skiff run --rm -v home:/root "$CTR_IMAGE" stat -c '%a %u' /root
	assert_equal "$output" "700 0" "mode and owner of the mount point"
}

@test "volume copy-up: only on first use" {
	pull_ctr_image
	run_skiff run --rm -v once:/etc "$CTR_IMAGE" rm /etc/group
	run_skiff 1 run --rm -v once:/etc "$CTR_IMAGE" test -e /etc/group
	run_skiff volume inspect --format '{{.NeedsCopyUp}}' once
	assert_equal "$output" "false" "NeedsCopyUp after use"
}

@test "volume copy-up: an explicitly created volume is filled on first use" {
	pull_ctr_image
	run_skiff volume create made
	run_skiff volume inspect --format '{{.NeedsCopyUp}}' made
	assert_equal "$output" "true" "NeedsCopyUp before use"
	run_skiff run --rm -v made:/etc "$CTR_IMAGE" test -e /etc/passwd
}

@test "volume nocopy: the volume stays empty" {
	pull_ctr_image
	run_skiff run --rm -v empty:/etc:nocopy "$CTR_IMAGE" ls -A /etc
	assert_equal "$output" "" "listing"
}

@test "volume: an anonymous volume keeps its data across a restart and is in use" {
	local id name
	pull_ctr_image
	run_skiff run -d -v /scratch "$CTR_IMAGE" sh -c \
		'[ -e /scratch/mark ] && echo again || echo first; touch /scratch/mark; sleep 1000'
	id=$output
	wait_until 100 ctr_logs_contain "$id" first
	run_skiff volume ls -q
	name=$output
	assert_match "$name" '^[0-9a-f]{64}$' "anonymous volume"
	run_skiff stop -t 0 "$id"
	run_skiff start "$id"
	wait_until 100 ctr_logs_contain "$id" again
	run_skiff volume ls -q
	assert_equal "$output" "$name" "still one volume"
	run_skiff 2 volume rm "$name"
}

# ---------------------------------------------------------------------------
# anonymous volumes and the container's removal

@test "run --rm removes the container's anonymous volumes" {
	pull_ctr_image
	run_skiff run --rm -v /data "$CTR_IMAGE" sh -c 'echo x > /data/f'
	run_skiff volume ls -q
	assert_equal "$output" "" "volumes left"
}

@test "rm keeps anonymous volumes; rm -v removes them but not named ones" {
	pull_ctr_image
	run_skiff run --name anon1 -v /data -v keepme:/n "$CTR_IMAGE" true
	run_skiff volume ls -q
	assert_equal "${#lines[@]}" 2 "volumes after the run"
	run_skiff rm -v anon1
	run_skiff volume ls -q
	assert_equal "$output" "keepme" "volumes after rm -v"
	run_skiff run --name anon2 -v /data "$CTR_IMAGE" true
	run_skiff rm anon2
	run_skiff volume ls -q
	assert_equal "${#lines[@]}" 2 "volumes after a plain rm"
}
