#!/usr/bin/env bats
# skiff auto-update under a real systemd user manager: containers labelled
# io.containers.autoupdate that a unit runs (from `generate systemd --new`
# or a Quadlet file) get the image that a newer push to the registry (or a
# new local tag) gives their name, the unit is restarted on it, and an
# image that cannot start is rolled back.  Also the PODMAN_SYSTEMD_UNIT
# label that run and create record, and the failures that stop a run
# before anything changes.

load helpers
load systemd_user

# Three versions of one image: v1 and v2 run a loop that stops on SIGTERM
# (they differ in a label, so in their IDs); v3's entrypoint does not
# exist, so a unit running it fails to start.
setup_file() {
	local layout=$BATS_FILE_TMPDIR/au-layout loop
	loop='trap "exit 0" TERM; while :; do sleep 0.1; done'
	OCI_IMAGE_CONFIG=$(jq -nc --arg c "$loop" '{Cmd: ["sh", "-c", $c], Labels: {v: "1"}}') \
		build_busybox_image "$layout" v1
	OCI_IMAGE_CONFIG=$(jq -nc --arg c "$loop" '{Cmd: ["sh", "-c", $c], Labels: {v: "2"}}') \
		build_busybox_image "$layout" v2
	OCI_IMAGE_CONFIG='{"Entrypoint": ["/no/such/program"], "Labels": {"v": "3"}}' \
		build_busybox_image "$layout" v3
	export AU_LAYOUT=$layout
	AU_ID_v1=$(oci_manifest "$layout" v1 | jq -r .config.digest)
	AU_ID_v2=$(oci_manifest "$layout" v2 | jq -r .config.digest)
	AU_ID_v3=$(oci_manifest "$layout" v3 | jq -r .config.digest)
	export AU_ID_v1 AU_ID_v2 AU_ID_v3
	start_registry
	# Tests that need no manager still run where none can start.
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
	# Each test has its own repository, so no test sees another's pushes.
	IMAGE=$REGISTRY_ADDR/skiff/au$BATS_TEST_NUMBER:latest
	UNITS=()
	# The registry speaks plain HTTP: registries.conf says so, as a user of
	# an insecure registry would.
	mkdir -p "$XDG_CONFIG_HOME/containers"
	cat >"$XDG_CONFIG_HOME/containers/registries.conf" <<-EOF
		[[registry]]
		location = "$REGISTRY_ADDR"
		insecure = true
	EOF
}

teardown() {
	if ((${#UNITS[@]})); then
		systemd_user_uninstall "${UNITS[@]}"
	fi
	container_teardown
}

# push VERSION: make VERSION the registry's $IMAGE.
push() {
	push_image "$AU_LAYOUT" "$1" "$IMAGE" || die "push $1 failed"
}

# auto_update [RC] ARGS...: skiff auto-update talking to this file's
# manager (systemctl --user finds it through XDG_RUNTIME_DIR).
auto_update() {
	XDG_RUNTIME_DIR=$SYSTEMD_USER_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS='' \
		run_skiff "$@"
}

# start_unit NAME POLICY IMAGE_ID: a `generate systemd --new` unit for a
# container NAME of $IMAGE labelled with POLICY, installed and started; its
# container must run IMAGE_ID.  The unit's output goes to
# $SYSTEMD_USER_DIR/NAME.log (there is no journal).
start_unit() {
	local name=$1 policy=$2 unit=container-$1.service log=$SYSTEMD_USER_DIR/$1.log
	run_skiff create --name "$name" --label "io.containers.autoupdate=$policy" "$IMAGE"
	run_skiff generate systemd --new --name "$name"
	sed -e "/^\[Service\]/a StandardOutput=append:$log\nStandardError=append:$log" \
		<<<"$output" >"$SKIFF_TEST_DIR/$unit"
	run_skiff rm "$name"
	UNITS+=("$unit")
	systemd_user_install "$SKIFF_TEST_DIR/$unit"
	systemctl_user start "$unit" || die "start $unit failed: $(cat "$log" 2>/dev/null)"
	assert_unit_runs "$name" "$3"
}

# assert_unit_runs NAME IMAGE_ID: the unit is active and its container
# runs IMAGE_ID.
assert_unit_runs() {
	assert_equal "$(systemd_user_show "container-$1.service" ActiveState)" active "unit state"
	assert_equal "$(ctr_status "$1")" running "container status"
	assert_equal "$(skiff_cmd inspect --format '{{.Image}}' "$1")" "$2" "container image"
}

FMT='--format={{.Unit}},{{.Image}},{{.Updated}},{{.Policy}}'

@test "auto-update: registry policy, pending with --dry-run, then pull and restart" {
	require_systemd_user
	push v1
	run_skiff pull -q "$IMAGE"
	start_unit web registry "$AU_ID_v1"
	local first
	first=$(skiff_cmd inspect --format '{{.Id}}' web)
	assert_equal "$(skiff_cmd inspect --format '{{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}' web)" \
		container-web.service "label recorded by the unit's run"

	auto_update auto-update --dry-run "$FMT"
	assert_equal "$output" "container-web.service,$IMAGE,false,registry" "nothing new"

	push v2
	auto_update auto-update --dry-run "$FMT"
	assert_equal "$output" "container-web.service,$IMAGE,pending,registry" "v2 pushed"
	# A dry run changes nothing.
	assert_equal "$(skiff_cmd inspect --format '{{.Id}}' web)" "$first" "same container"
	assert_equal "$(skiff_cmd image inspect --format '{{.Id}}' "$IMAGE")" "$AU_ID_v1" "local image"

	auto_update --separate-stderr auto-update
	assert_match "${lines[0]}" "^UNIT +CONTAINER +IMAGE +POLICY +UPDATED$" "header"
	assert_match "${lines[1]}" "^container-web.service +${first:0:12} \(web\) +$IMAGE +registry +true$" \
		"row"
	assert_equal "${#lines[@]}" 2 "lines"
	assert_unit_runs web "$AU_ID_v2"
	[[ $(skiff_cmd inspect --format '{{.Id}}' web) != "$first" ]] || die "the unit was not restarted"

	auto_update auto-update "$FMT"
	assert_equal "$output" "container-web.service,$IMAGE,false,registry" "up to date again"
}

@test "auto-update: a new image that cannot start is rolled back" {
	require_systemd_user
	push v2
	run_skiff pull -q "$IMAGE"
	start_unit web registry "$AU_ID_v2"

	push v3
	auto_update --separate-stderr auto-update "$FMT"
	assert_equal "$output" "container-web.service,$IMAGE,rolled back,registry" "report"
	assert_contains "$stderr" "Trying to pull $IMAGE..." "the pull's progress"
	assert_unit_runs web "$AU_ID_v2"
	assert_equal "$(skiff_cmd image inspect --format '{{.Id}}' "$IMAGE")" "$AU_ID_v2" \
		"the name is v2's again"
	assert_contains "$(cat "$SYSTEMD_USER_DIR/web.log")" "/no/such/program" "v3 was tried"
	# The registry still has v3: the next run tries again.
	auto_update auto-update --dry-run "$FMT"
	assert_equal "$output" "container-web.service,$IMAGE,pending,registry" "still pending"
}

@test "auto-update --rollback=false leaves the failed unit and reports it" {
	require_systemd_user
	push v1
	run_skiff pull -q "$IMAGE"
	start_unit web registry "$AU_ID_v1"

	push v3
	auto_update --separate-stderr 125 auto-update --rollback=false "$FMT"
	assert_equal "$output" "container-web.service,$IMAGE,failed,registry" "report"
	assert_contains "$stderr" "Error: restarting unit container-web.service for container" "error"
	[[ $(systemd_user_show container-web.service ActiveState) != active ]] ||
		die "the unit runs although its image cannot start"
	assert_equal "$(skiff_cmd image inspect --format '{{.Id}}' "$IMAGE")" "$AU_ID_v3" "new image kept"
}

@test "auto-update: local policy restarts on a new local image of the name" {
	require_systemd_user
	push v1
	run_skiff pull -q "$IMAGE"
	start_unit app local "$AU_ID_v1"

	auto_update auto-update --dry-run "$FMT"
	assert_equal "$output" "container-app.service,$IMAGE,false,local" "nothing new"

	# v2 arrives by another way than the name, then gets the name.
	push_image "$AU_LAYOUT" v2 "$REGISTRY_ADDR/skiff/other$BATS_TEST_NUMBER:v2" ||
		die "push failed"
	run_skiff pull -q "$REGISTRY_ADDR/skiff/other$BATS_TEST_NUMBER:v2"
	run_skiff tag "$AU_ID_v2" "$IMAGE"
	auto_update auto-update --dry-run "$FMT"
	assert_equal "$output" "container-app.service,$IMAGE,pending,local" "pending"
	auto_update auto-update --format json
	assert_equal "$(jq -r '.[0] | [.Unit, .ContainerName, .Image, .Policy, .Updated] | join(",")' \
		<<<"$output")" "container-app.service,app,$IMAGE,local,true" "json report"
	assert_unit_runs app "$AU_ID_v2"
}

# manager_skiff ARGS...: run_skiff_bare with the store a Quadlet unit's
# skiff uses: the default one of the manager's environment.
manager_skiff() {
	XDG_DATA_HOME=$SYSTEMD_USER_DIR/data XDG_RUNTIME_DIR=$SYSTEMD_USER_RUNTIME_DIR \
		DBUS_SESSION_BUS_ADDRESS='' run_skiff_bare "$@"
}

@test "auto-update: a container from a Quadlet file with AutoUpdate=registry" {
	require_systemd_user
	push v1
	local config=$SKIFF_TEST_DIR/quadlet-config out=$SKIFF_TEST_DIR/quadlet-out
	mkdir -p "$config/containers/systemd" "$out"
	printf '[Container]\nImage=%s\nAutoUpdate=registry\n' "$IMAGE" \
		>"$config/containers/systemd/au-web.container"
	XDG_CONFIG_HOME=$config run_skiff_bare quadlet --user "$out"
	manager_skiff pull -q "$IMAGE"
	UNITS+=(au-web.service)
	systemd_user_install "$out/au-web.service"
	systemctl_user start au-web.service || die "start au-web.service failed"
	assert_equal "$(systemd_user_show au-web.service ActiveState)" active "unit state"

	push v2
	manager_skiff auto-update --dry-run "$FMT"
	assert_equal "$output" "au-web.service,$IMAGE,pending,registry" "dry run"
	manager_skiff --separate-stderr auto-update "$FMT"
	assert_equal "$output" "au-web.service,$IMAGE,true,registry" "update"
	assert_equal "$(systemd_user_show au-web.service ActiveState)" active "unit state after"
	manager_skiff inspect --format '{{.Image}}' systemd-au-web
	assert_equal "$output" "$AU_ID_v2" "the unit's container runs v2"
}

@test "run and create record the PODMAN_SYSTEMD_UNIT of their environment as a label" {
	push v1
	run_skiff pull -q "$IMAGE"
	PODMAN_SYSTEMD_UNIT=my.service run_skiff create --name a "$IMAGE"
	assert_equal "$(skiff_cmd inspect --format '{{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}' a)" \
		my.service "create"
	PODMAN_SYSTEMD_UNIT=run.service run_skiff run --rm --name b "$IMAGE" true
	run_skiff create --name c "$IMAGE"
	run_skiff inspect --format '{{json .Config.Labels}}' c
	assert_not_contains "$output" PODMAN_SYSTEMD_UNIT "without the variable"
}

@test "auto-update --dry-run asks about the name the container was made from" {
	# One image, two names; the container uses the second.
	local second=$REGISTRY_ADDR/skiff/second$BATS_TEST_NUMBER:latest
	push v1
	push_image "$AU_LAYOUT" v1 "$second" || die "push failed"
	run_skiff pull -q "$IMAGE"
	run_skiff pull -q "$second"
	PODMAN_SYSTEMD_UNIT=web.service run_skiff run -d --name web \
		--label io.containers.autoupdate=registry "$second"
	assert_equal "$(skiff_cmd inspect --format '{{.ImageName}}' web)" "$second" "recorded name"
	push_image "$AU_LAYOUT" v2 "$second" || die "push failed"
	run_skiff auto-update --dry-run "$FMT"
	assert_equal "$output" "web.service,$second,pending,registry" "report"
}

@test "auto-update: nothing labelled, nothing printed" {
	push v1
	run_skiff pull -q "$IMAGE"
	run_skiff run -d --name plain "$IMAGE"
	run_skiff run -d --name off --label io.containers.autoupdate=disabled "$IMAGE"
	# Not running: never updated, even without a unit.
	run_skiff create --name idle --label io.containers.autoupdate=registry "$IMAGE"
	run_skiff auto-update
	assert_equal "$output" "" "output"
	run_skiff auto-update --dry-run
	assert_equal "$output" "" "output with --dry-run"
}

@test "auto-update: a misconfigured container stops the run before anything changes" {
	push v1
	run_skiff pull -q "$IMAGE"
	run_skiff run -d --name nounit --label io.containers.autoupdate=registry "$IMAGE"
	local id=$output
	run_skiff run -d --name bad --label io.containers.autoupdate=hourly \
		--label PODMAN_SYSTEMD_UNIT=bad.service "$IMAGE"
	run_skiff --separate-stderr 125 auto-update
	assert_equal "$output" "" "no report"
	assert_contains "$stderr" "Error: auto-updating container \"$id\": no PODMAN_SYSTEMD_UNIT label found" \
		"first failure"
	assert_contains "$stderr" 'Error: invalid auto-update policy "hourly": valid policies are ["disabled" "image" "local" "registry"]' \
		"second failure"
	run_skiff rm -f bad nounit
	# An image without a name has nothing to ask a registry about.
	run_skiff untag "$AU_ID_v1"
	PODMAN_SYSTEMD_UNIT=s.service run_skiff run -d --name byid \
		--label io.containers.autoupdate=registry "$AU_ID_v1"
	run_skiff 125 auto-update
	assert_contains "$output" "is not a fully-qualified reference" "image given by ID"
}

@test "auto-update: bad flags and arguments" {
	run_skiff 125 auto-update now
	assert_contains "$output" "Error: \`skiff auto-update\` takes no arguments"
	run_skiff 125 auto-update --rollback=maybe
	assert_contains "$output" "rollback"
	run_skiff 125 auto-update --bogus
	assert_contains "$output" "unknown flag: --bogus"
	run_skiff auto-update --help
	assert_contains "$output" "--dry-run"
}

@test "auto-update: a registry that cannot be reached fails the container's check" {
	push v1
	run_skiff pull -q "$IMAGE"
	# The image's only name is on a port where nothing listens.
	local gone=127.0.0.1:1/skiff/gone:latest
	run_skiff tag "$IMAGE" "$gone"
	run_skiff untag "$AU_ID_v1" "$IMAGE"
	PODMAN_SYSTEMD_UNIT=web.service run_skiff run -d --name web \
		--label io.containers.autoupdate=registry "$gone"
	local id=$output
	run_skiff --separate-stderr 125 auto-update "$FMT"
	assert_equal "$output" "web.service,$gone,failed,registry" "report"
	assert_contains "$stderr" "Error: checking image updates for container $id: " "error"
	assert_equal "$(ctr_status web)" running "the container was left alone"
}
