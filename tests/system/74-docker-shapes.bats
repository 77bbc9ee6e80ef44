#!/usr/bin/env bats
# Golden-output tests against Docker: skiff, in the situation of
#   docker run -d --name web -p PORT:80 -e A=b -v vol:/data busybox sleep 1000
# prints `inspect` (container, image, volume) with every key path Docker's
# output has, each with Docker's JSON type, and the values that situation
# decides; and `ps`, `images`, `volume ls` tables laid out as Docker's
# tabwriter lays them out.  The reference outputs, and where they come from,
# are in fixtures/docker-shapes/ (README.md there).  skiff may print more
# keys than Docker (podman's, such as ImageName).
#
# Where skiff differs on purpose:
# - Name is "web", podman's form, not Docker's "/web": the rest of skiff
#   takes the name back as it is, and scripts written for Docker strip the
#   "/" (`${name#/}`, `sed 's|^/||'`), which leaves "web" unchanged.
# - Docker prints null for an unset list or map (a nil Go slice or map); a
#   skiff value of [] or {} is accepted there (`{{range}}`, `{{len}}`, `jq
#   '.[]?'` read both as empty).  Where Docker prints [] or {}, skiff must too.
# - Networks has one entry named after the network mode (slirp4netns), not
#   "bridge", and PORTS shows only the IPv4 binding (slirp has no IPv6 one).

load helpers

SHAPES=$BATS_TEST_DIRNAME/fixtures/docker-shapes

setup_file() {
	container_image_setup
}

setup() {
	skiff_setup
}

teardown() {
	container_teardown
}

# Maps whose keys are data, not schema: only the map itself is compared.
# Network names differ (bridge, slirp4netns): their entries are compared
# under "*".
# shellcheck disable=SC2016 # a jq program
SHAPE_JQ='
def opaque: ["Labels", "GraphDriver.Data", "LogConfig.Config", "Options",
             "DriverOpts", "Volumes"];
def wild: . as $p | reduce range(1; length) as $i ($p;
  if $p[$i - 1] == "Networks" then .[$i] = "*" else . end);
def shape: [paths as $p
    | {k: ($p | map(if type == "number" then "[]" else . end) | wild | join(".")),
       t: (getpath($p) | type)}
    | select(.k as $k | opaque | any(. as $o | $k | contains("." + $o + ".")
                                               or startswith($o + ".")) | not)
    | {(.k): .t}] | add;
($docker[0] | shape) as $d | ($skiff[0] | shape) as $s
| $d | to_entries[] | .key as $k | .value as $t | $s[$k] as $st
| if $st == null then "missing: \($k) (docker: \($t))"
  elif $st == $t or ($t == "null" and ($st == "array" or $st == "object")) then empty
  else "type of \($k): docker \($t), skiff \($st)" end'

# shape_diff DOCKER_FILE SKIFF_FILE: one line per docker key path that
# skiff lacks or types differently; nothing when the shapes agree.
shape_diff() {
	jq -nr --slurpfile docker "$1" --slurpfile skiff "$2" "$SHAPE_JQ"
}

# assert_shape DOCKER_FILE SKIFF_FILE MIN_PATHS
assert_shape() {
	local n diff
	n=$(jq '[paths] | length' "$1")
	[[ $n -ge $3 ]] || die "$1 has $n key paths, expected at least $3"
	diff=$(shape_diff "$1" "$2") || die "jq failed on $2"
	[[ -z $diff ]] || die "skiff's output lacks docker's shape ($1):"$'\n'"$diff"
}

# The situation: the image, the volume it creates, the container.
run_web() {
	pull_ctr_image
	WEB_PORT=$(free_port)
	run_skiff run -d --name web -p "$WEB_PORT:80" -e A=b -v vol:/data "$CTR_IMAGE" sleep 1000
	WEB_ID=$output
}

# docker's fixture with its host port 8080 replaced by ours.
docker_json() {
	jq --arg port "$WEB_PORT" '(.. | objects | select(has("HostPort")) | .HostPort) |= $port' \
		"$SHAPES/$1"
}

dq() { jq -cS "$1" <<<"$DOCKER"; }
sq() { jq -cS "$1" <<<"$SKIFF_JSON"; }

# ---------------------------------------------------------------------------
# The shape checker itself

@test "shape check: a missing key and a changed type are reported" {
	local f=$SKIFF_TEST_DIR/c.json
	jq '.[0].State.Running = "yes" | del(.[0].Mounts[0].Destination)
		| .[0].Config.Entrypoint = [] | .[0].HostConfig.Dns = null' \
		"$SHAPES/container-inspect.json" >"$f"
	run shape_diff "$SHAPES/container-inspect.json" "$f"
	assert_equal "$output" "type of [].State.Running: docker boolean, skiff string"$'\n'"type of [].HostConfig.Dns: docker array, skiff null"$'\n'"missing: [].Mounts.[].Destination (docker: string)" \
		"report (docker's null Entrypoint accepts [])"
	run shape_diff "$SHAPES/container-inspect.json" "$SHAPES/container-inspect.json"
	assert_equal "$output" "" "a fixture against itself"
}

# ---------------------------------------------------------------------------
# container inspect

@test "container inspect: docker's key paths and types" {
	run_web
	skiff_cmd inspect web >"$SKIFF_TEST_DIR/web.json"
	assert_shape "$SHAPES/container-inspect.json" "$SKIFF_TEST_DIR/web.json" 150
}

@test "container inspect: the values the situation decides" {
	run_web
	DOCKER=$(docker_json container-inspect.json)
	SKIFF_JSON=$(skiff_cmd inspect web)

	assert_equal "$(sq '.[0].Id')" "\"$WEB_ID\"" "Id"
	assert_equal "$(sq '.[0].Name')" "$(dq '.[0].Name | ltrimstr("/")')" "Name (podman's form)"
	for q in .Path .Args .State.Status .State.Running .State.Paused .State.ExitCode \
		.State.FinishedAt .RestartCount .Config.Cmd .Config.Entrypoint .Config.Tty \
		.Config.OpenStdin .Config.AttachStdin '.Config.ExposedPorts | keys' .Config.Volumes \
		.HostConfig.Binds .HostConfig.PortBindings .HostConfig.RestartPolicy \
		.HostConfig.AutoRemove .HostConfig.Privileged .HostConfig.PublishAllPorts \
		'.Mounts | length' '.Mounts[0] | {Type, Name, Destination, Driver, RW, Propagation}' \
		'.NetworkSettings.Ports | keys' '.NetworkSettings.Ports["80/tcp"][0]' \
		'.Config.Env | any(.[]; . == "A=b")'; do
		assert_equal "$(sq ".[0] | $q")" "$(dq ".[0] | $q")" "$q"
	done
	assert_equal "$(sq '.[0].Config.Hostname')" "\"${WEB_ID:0:12}\"" "Config.Hostname is the short ID"
	assert_equal "$(sq '.[0].Config.Image')" "\"$CTR_IMAGE\"" "Config.Image as given"
	assert_equal "$(sq '.[0].Image')" "\"$CTR_IMAGE_ID\"" "Image is the image's ID"
	assert_match "$(sq '.[0].State.Pid')" '^[1-9][0-9]*$' "State.Pid"
	assert_match "$(sq '.[0].State.StartedAt')" '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"$' "StartedAt"
	assert_equal "$(sq '.[0].Mounts[0].Source')" \
		"$(skiff_cmd volume inspect vol | jq -cS '.[0].Mountpoint')" "Mounts[0].Source"
	assert_match "$(sq '.[0].NetworkSettings.IPAddress')" '^"([0-9]+\.){3}[0-9]+"$' "IPAddress"
}

@test "container inspect: the templates docker scripts use" {
	run_web
	run_skiff inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web
	assert_equal "$output" "$(skiff_cmd inspect -f '{{.NetworkSettings.IPAddress}}' web)" \
		"range over Networks"
	assert_match "$output" '^([0-9]+\.){3}[0-9]+$' "the address"
	run_skiff inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' web
	assert_equal "$output" "$WEB_PORT" "published port"
	run_skiff inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}}{{end}}' web
	assert_equal "$output" "volume vol /data" "Mounts"
	run_skiff inspect -f '{{json .Config.Entrypoint}} {{.HostConfig.RestartPolicy.Name}}' web
	assert_equal "$output" "null no" "unset entrypoint, restart policy"
}

@test "container inspect: a stopped container keeps docker's shape" {
	local diff
	run_web
	run_skiff stop -t 0 web
	skiff_cmd inspect web >"$SKIFF_TEST_DIR/web.json"
	# Docker empties Ports and the addresses of a stopped container, but
	# keeps every key.
	diff=$(shape_diff "$SHAPES/container-inspect.json" "$SKIFF_TEST_DIR/web.json" |
		grep -v '^missing: \[\]\.NetworkSettings\.Ports\.80/tcp') || true
	[[ -z $diff ]] || die "a stopped container lacks docker's shape:"$'\n'"$diff"
	assert_equal "$(jq -c '.[0].State | [.Status, .Running]' "$SKIFF_TEST_DIR/web.json")" \
		'["exited",false]' "State"
	assert_equal "$(jq -c '.[0].NetworkSettings.Ports' "$SKIFF_TEST_DIR/web.json")" '{}' "Ports"
}

# ---------------------------------------------------------------------------
# image inspect

# busybox on Docker Hub was built by the classic builder, which records a
# container_config; the fixture image here, like one BuildKit builds, has
# none, and for that docker prints Go's zero Config as ContainerConfig.
docker_image_fixture() {
	jq '.[0].ContainerConfig |= map_values(if type == "boolean" then false
		elif type == "string" then "" else null end)' "$SHAPES/image-inspect.json"
}

@test "image inspect: docker's key paths and types" {
	local docker=$SKIFF_TEST_DIR/docker.json
	pull_ctr_image
	docker_image_fixture >"$docker"
	skiff_cmd image inspect "$CTR_IMAGE" >"$SKIFF_TEST_DIR/image.json"
	assert_shape "$docker" "$SKIFF_TEST_DIR/image.json" 40
	assert_equal "$(jq -c '.[0].ContainerConfig' "$SKIFF_TEST_DIR/image.json")" \
		"$(jq -c '.[0].ContainerConfig' "$docker")" "ContainerConfig (zero)"
}

@test "image inspect: the values the image decides" {
	local repo=${CTR_IMAGE%:*} layers
	pull_ctr_image
	DOCKER=$(cat "$SHAPES/image-inspect.json")
	SKIFF_JSON=$(skiff_cmd image inspect "$CTR_IMAGE")
	assert_equal "$(sq '.[0].Id')" "\"$CTR_IMAGE_ID\"" "Id"
	assert_equal "$(sq '.[0].RepoTags')" "[\"$CTR_IMAGE\"]" "RepoTags"
	assert_match "$(sq '.[0].RepoDigests | join(" ")')" "^\"$repo@sha256:[0-9a-f]{64}\"$" "RepoDigests"
	for q in .Config.Cmd .Config.Env .Config.Entrypoint .Config.Volumes .Config.Labels \
		.Config.User .Config.WorkingDir .Os .RootFS.Type '.RootFS.Layers | length' \
		.Parent .Metadata; do
		assert_equal "$(sq ".[0] | $q")" "$(dq ".[0] | $q")" "$q"
	done
	assert_equal "$(sq '.[0].Architecture')" "\"$(oci_arch)\"" "Architecture"
	layers=$(skiff_cmd image inspect --format '{{json .RootFS.Layers}}' "$CTR_IMAGE")
	assert_match "$layers" '^\["sha256:[0-9a-f]{64}"\]$' "RootFS.Layers"
	assert_match "$(sq '.[0].Size')" '^[1-9][0-9]*$' "Size"
	assert_equal "$(sq '.[0].VirtualSize')" "$(sq '.[0].Size')" "VirtualSize = Size, as in docker"
	assert_match "$(sq '.[0].Created')" '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"$' "Created"
}

# ---------------------------------------------------------------------------
# volume inspect

@test "volume inspect: docker's keys, types and values" {
	run_web
	skiff_cmd volume inspect vol >"$SKIFF_TEST_DIR/vol.json"
	assert_shape "$SHAPES/volume-inspect.json" "$SKIFF_TEST_DIR/vol.json" 7
	DOCKER=$(cat "$SHAPES/volume-inspect.json")
	SKIFF_JSON=$(cat "$SKIFF_TEST_DIR/vol.json")
	for q in .Name .Driver .Scope; do
		assert_equal "$(sq ".[0] | $q")" "$(dq ".[0] | $q")" "$q"
	done
	# docker's layout (/var/lib/docker/volumes/vol/_data) under skiff's root
	assert_equal "$(jq -r '.[0].Mountpoint' <<<"$SKIFF_JSON")" \
		"$SKIFF_ROOT$(jq -r '.[0].Mountpoint | sub("^/var/lib/docker"; "")' <<<"$DOCKER")" \
		"Mountpoint"
	assert_equal "$(sq '.[0].Labels | length')" 0 "no labels (docker: null)"
	assert_match "$(sq '.[0].CreatedAt')" \
		'^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"$' \
		"CreatedAt (RFC 3339)"
}

# ---------------------------------------------------------------------------
# Tables

# docker's header line N (1 ps, 2 images, 3 volume ls) for empty tables.
docker_header() {
	sed -n "${1}p" "$SHAPES/tables.txt"
}

# assert_docker_table WHAT TITLE...: $output is a table laid out as
# docker's tabwriter (minimum cell width 10, padding 3) lays out TITLEs
# and the rows' cells: each column starts where its title starts, and a
# column is as wide as its widest cell plus 3, at least 10.
assert_docker_table() {
	local what=$1 i r width cell header="" line
	shift
	local titles=("$@") starts=() pos=0
	for i in "${!titles[@]}"; do
		line=${lines[0]:pos}
		[[ $line == "${titles[i]}"* ]] ||
			die "$what: title ${titles[i]} not at column $pos of: ${lines[0]}"
		starts+=("$pos")
		[[ $i -eq $((${#titles[@]} - 1)) ]] && break
		line=${lines[0]:pos+${#titles[i]}}
		line=${line%%[! ]*}
		pos=$((pos + ${#titles[i]} + ${#line}))
	done
	for i in "${!titles[@]}"; do
		if [[ $i -eq $((${#titles[@]} - 1)) ]]; then
			header+=${titles[i]}
			break
		fi
		width=$((${#titles[i]} + 3))
		for ((r = 1; r < ${#lines[@]}; r++)); do
			cell=${lines[r]:starts[i]:starts[i + 1] - starts[i]}
			[[ $cell =~ ^\ +$ || $cell != " "* ]] || die "$what: row $r, column ${titles[i]} does not start at ${starts[i]}: ${lines[r]}"
			[[ $cell == *"   " ]] || die "$what: row $r, column ${titles[i]} overflows: ${lines[r]}"
			cell=${cell%"${cell##*[! ]}"}
			[[ $((${#cell} + 3)) -le $width ]] || width=$((${#cell} + 3))
		done
		[[ $width -ge 10 ]] || width=10
		printf -v cell "%-${width}s" "${titles[i]}"
		header+=$cell
	done
	assert_equal "${lines[0]}" "$header" "$what header (docker's widths)"
}

@test "tables: empty ps, images and volume ls print docker's header lines" {
	run_skiff ps
	assert_equal "$output" "$(docker_header 1)" "ps"
	run_skiff images
	assert_equal "$output" "$(docker_header 2)" "images"
	run_skiff volume ls
	assert_equal "$output" "$(docker_header 3)" "volume ls"
}

@test "tables: ps, images and volume ls rows align under docker's headers" {
	local id
	run_web
	run_skiff ps
	assert_equal "${#lines[@]}" 2 "ps: header and one row"
	assert_docker_table ps "CONTAINER ID" IMAGE COMMAND CREATED STATUS PORTS NAMES
	assert_match "${lines[1]}" "^${WEB_ID:0:12}   $CTR_IMAGE   \"sleep 1000\" +[^ ].* ago +Up .* +0\.0\.0\.0:$WEB_PORT->80/tcp +web$" \
		"ps row"
	run_skiff ps -a --no-trunc
	assert_docker_table "ps -a --no-trunc" "CONTAINER ID" IMAGE COMMAND CREATED STATUS PORTS NAMES
	assert_match "${lines[1]}" "^$WEB_ID   " "full ID"

	run_skiff images
	assert_equal "${#lines[@]}" 2 "images: header and one row"
	assert_docker_table images REPOSITORY TAG "IMAGE ID" CREATED SIZE
	id=${CTR_IMAGE_ID#sha256:}
	assert_match "${lines[1]}" "^${CTR_IMAGE%:*} +latest +${id:0:12} +[^ ].* ago +[0-9.]+[kMG]?B$" "images row"

	run_skiff volume ls
	assert_equal "${#lines[@]}" 2 "volume ls: header and one row"
	assert_docker_table "volume ls" DRIVER "VOLUME NAME"
	assert_equal "${lines[1]}" "local     vol" "volume ls row"
}
