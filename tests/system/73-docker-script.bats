#!/usr/bin/env bats
# `alias docker=skiff`: a script written for docker, with the commands and
# flags of CI scripts and Makefiles, run by bash with the alias, and every
# output checked; plus the docker output shapes it relies on (system df -v,
# ps's COMMAND cell).

load helpers

setup_file() {
	container_image_setup
}

setup() {
	skiff_setup
	# The script uses skiff's default store (the test's private XDG
	# directories); the helpers' teardown looks there too.
	SKIFF_ROOT=$XDG_DATA_HOME/skiff
	SKIFF_RUNROOT=$XDG_RUNTIME_DIR/skiff
	mkdir -p "$SKIFF_TEST_DIR/bin" "$XDG_CONFIG_HOME/containers"
	ln -s "$(command -v "$SKIFF")" "$SKIFF_TEST_DIR/bin/skiff"
	# docker treats 127.0.0.0/8 registries as insecure on its own; skiff,
	# like podman, is told in registries.conf.
	printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REGISTRY_ADDR" \
		>"$XDG_CONFIG_HOME/containers/registries.conf"
}

teardown() {
	container_teardown
}

# Run the script on stdin with `alias docker=skiff`: each check prints
# "ok N DESCRIPTION"; the first mismatch prints what was expected and ends
# it with status 1.
run_docker_script() {
	local script=$SKIFF_TEST_DIR/script.sh
	{
		cat <<'EOF'
set -u
shopt -s expand_aliases
alias docker=skiff
n=0
fail() { echo "FAILED check $((n + 1)): $*"; exit 1; }
is() { [[ $2 == "$3" ]] || fail "$1: got [$2], expected [$3]"; echo "ok $((n += 1)) $1"; }
like() { [[ $2 =~ $3 ]] || fail "$1: [$2] does not match /$3/"; echo "ok $((n += 1)) $1"; }
has() { [[ $2 == *"$3"* ]] || fail "$1: [$2] does not contain [$3]"; echo "ok $((n += 1)) $1"; }
EOF
		cat
	} >"$script"
	echo "\$ bash $script"
	run env PATH="$SKIFF_TEST_DIR/bin:$PATH" IMG="$CTR_IMAGE" REG="$REGISTRY_ADDR" \
		WORK="$SKIFF_TEST_DIR" bash "$script"
	echo "$output"
	[[ $status -eq 0 ]] || die "the docker script failed (status $status)"
}

@test "a docker CI script runs unchanged through alias docker=skiff" {
	run_docker_script <<'EOF'
like "version --format" "$(docker version --format '{{.Client.Version}}')" '^[0-9]+\.[0-9]+'
is "version: client and server agree" "$(docker version --format '{{.Server.Version}}')" \
	"$(docker version --format '{{.Client.Version}}')"
like "info --format" "$(docker info --format '{{.Host.Arch}}')" '^(amd64|arm64|[a-z0-9_]+)$'

docker pull "$IMG" >/dev/null || fail "pull"
is "images --format repo:tag" "$(docker images --format '{{.Repository}}:{{.Tag}}')" "$IMG"
docker tag "$IMG" localhost/myapp:1.0 || fail "tag"
is "tag adds a name" "$(docker images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" \
	"$IMG localhost/myapp:1.0 "
is "image ls -q: one image, two names" "$(docker image ls -q | sort -u | wc -l)" "1"

mkdir -p "$WORK/ctx"
printf 'FROM %s\nRUN echo built > /built.txt\nENV STAGE=ci\nCMD ["cat", "/built.txt"]\n' \
	"$IMG" >"$WORK/ctx/Dockerfile"
docker build -q -t localhost/myapp:build "$WORK/ctx" >/dev/null || fail "build -t"
is "build -t: the image runs" "$(docker run --rm localhost/myapp:build)" "built"
is "build: ENV is in the config" \
	"$(docker inspect -f '{{json .Config.Env}}' localhost/myapp:build | grep -o 'STAGE=ci')" \
	"STAGE=ci"

is "run --rm" "$(docker run --rm "$IMG" echo hello)" "hello"
is "run -e" "$(docker run --rm -e FOO=bar "$IMG" sh -c 'echo $FOO')" "bar"
is "volume create" "$(docker volume create data)" "data"
is "volume ls --format" "$(docker volume ls --format '{{.Name}}')" "data"
docker run --rm -v data:/data "$IMG" sh -c 'echo persisted > /data/f' || fail "run -v"
is "a volume keeps data" "$(docker run --rm -v data:/data "$IMG" cat /data/f)" "persisted"

id=$(docker run -d --name web -p 8080 -e GREETING=hi -v data:/data "$IMG" \
	httpd -f -p 8080 -h /data)
like "run -d prints the ID" "$id" '^[0-9a-f]{64}$'
is "ps -q" "$(docker ps -q)" "${id:0:12}"
like "ps --filter --format" "$(docker ps --filter name=web --format '{{.Names}} {{.Status}}')" \
	'^web Up '
is "ps COMMAND as docker cuts and quotes it" \
	"$(docker ps --filter name=web --format '{{.Command}}')" '"httpd -f -p 8080 -h…"'
is "ps --no-trunc COMMAND" "$(docker ps --no-trunc --filter name=web --format '{{.Command}}')" \
	'"httpd -f -p 8080 -h /data"'
is "ps -a --filter status=running -q" "$(docker ps -a --filter status=running -q)" "${id:0:12}"
is "inspect -f .State.Running" "$(docker inspect -f '{{.State.Running}}' web)" "true"
like "inspect -f .NetworkSettings.IPAddress" \
	"$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)" '^([0-9]+\.){3}[0-9]+$'
has "inspect -f json .Config.Env" "$(docker inspect -f '{{json .Config.Env}}' web)" \
	'"GREETING=hi"'
like "port" "$(docker port web 8080)" '^0\.0\.0\.0:[0-9]+$'
hostport=$(docker port web 8080)
hostport=${hostport##*:}
is "the published port serves the volume" \
	"$(curl -sf --retry 20 --retry-connrefused --retry-delay 0 "http://127.0.0.1:$hostport/f")" \
	"persisted"
is "exec" "$(docker exec web cat /data/f)" "persisted"
is "exec sees -e" "$(docker exec web sh -c 'echo $GREETING')" "hi"
has "top" "$(docker top web)" "httpd"
echo copied-in >"$WORK/in.txt"
docker cp "$WORK/in.txt" web:/tmp/in.txt || fail "cp into"
is "cp into the container" "$(docker exec web cat /tmp/in.txt)" "copied-in"
docker cp web:/data/f "$WORK/out.txt" || fail "cp out"
is "cp out of the container" "$(cat "$WORK/out.txt")" "persisted"
docker rename web web2 || fail "rename"
is "rename" "$(docker ps --format '{{.Names}}')" "web2"
is "restart -t" "$(docker restart -t 1 web2)" "web2"
is "restarted and running" "$(docker inspect -f '{{.State.Running}}' web2)" "true"
is "stop" "$(docker stop --time 1 web2)" "web2"
is "stopped" "$(docker inspect -f '{{.State.Running}}' web2)" "false"
docker start web2 >/dev/null || fail "start"
is "kill" "$(docker kill web2)" "web2"
is "wait after kill: 128+9" "$(docker wait web2)" "137"
is "rm" "$(docker rm web2)" "web2"
is "container ls -a after rm" "$(docker container ls -a -q)" ""

docker run -d --name logger "$IMG" sh -c 'echo one; echo two; echo three' >/dev/null ||
	fail "run -d logger"
is "wait prints the exit code" "$(docker wait logger)" "0"
is "logs --tail 1" "$(docker logs --tail 1 logger)" "three"
is "logs" "$(docker logs logger | tr '\n' ' ')" "one two three "
docker run -d --rm --name tmp "$IMG" sleep 100 >/dev/null || fail "run -d --rm"
is "stop -t" "$(docker stop -t 1 tmp)" "tmp"
is "--rm removed it" "$(docker ps -a -q --filter name=tmp)" ""

docker tag "$IMG" "$REG/skiff/copy:v1" || fail "tag for push"
docker push "$REG/skiff/copy:v1" >/dev/null 2>&1 || fail "push"
docker rmi "$REG/skiff/copy:v1" >/dev/null || fail "rmi"
is "rmi untags" "$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -c copy)" "0"
docker pull "$REG/skiff/copy:v1" >/dev/null 2>&1 || fail "pull back what was pushed"
has "pulled back" "$(docker images --format '{{.Repository}}:{{.Tag}}')" "$REG/skiff/copy:v1"

docker commit logger >/dev/null || fail "commit"
is "one dangling image" "$(docker images -q -f dangling=true | wc -l)" "1"
docker rmi $(docker images -q -f dangling=true) >/dev/null || fail "rmi dangling"
is "no dangling image left" "$(docker images -q -f dangling=true)" ""

docker rm logger >/dev/null || fail "rm logger"
is "volume rm" "$(docker volume rm data)" "data"
is "volume ls after rm" "$(docker volume ls -q)" ""
events=$(docker events --stream=false --filter event=create --format '{{.Type}} {{.Name}}')
has "events: container create" "$events" "container web"
has "events: volume create" "$events" "volume data"
like "system df" "$(docker system df | head -1)" '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$'
docker run --name leftover "$IMG" true || fail "run leftover"
has "system prune -f" "$(docker system prune -f)" "Total reclaimed space:"
is "prune removed the stopped container" "$(docker ps -a -q)" ""
has "rmi by name" "$(docker rmi localhost/myapp:1.0)" "Untagged: localhost/myapp:1.0"
echo "checks: $n"
EOF
	assert_contains "$output" "checks: "
	# Every check ran (the script stops at the first failure).
	assert_equal "${output##*checks: }" 55 "checks"
}

@test "system df -v: SHARED SIZE and UNIQUE SIZE of images built on one another" {
	pull_ctr_image
	run_skiff run --name writer "$CTR_IMAGE" sh -c 'head -c 100000 /dev/zero > /blob'
	run_skiff commit -q writer localhost/child:1
	run_skiff system df -v
	local header row_base row_child
	header=$(grep -m1 '^REPOSITORY' <<<"$output" | sed -E 's/  +/|/g')
	assert_equal "$header" "REPOSITORY|TAG|IMAGE ID|CREATED|SIZE|SHARED SIZE|UNIQUE SIZE|CONTAINERS"
	row_base=$(grep "^${CTR_IMAGE%:*} " <<<"$output" | sed -E 's/  +/|/g')
	row_child=$(grep '^localhost/child ' <<<"$output" | sed -E 's/  +/|/g')
	# The base image's layer is all shared; the child's own layer is its
	# unique part.
	local size shared unique
	IFS='|' read -r _ _ _ _ size shared unique _ <<<"$row_base"
	assert_equal "$shared" "$size" "base: shared is everything"
	assert_equal "$unique" "0B" "base: nothing unique"
	IFS='|' read -r _ _ _ _ size shared unique _ <<<"$row_child"
	assert_equal "$shared" "$(IFS='|' read -r _ _ _ _ s _ <<<"$row_base"; echo "$s")" \
		"child: shares the base"
	assert_match "$unique" '^[0-9.]+kB$' "child: the 100 kB layer is unique"
	assert_contains "$output" "Containers space usage:"
	assert_match "$output" $'\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n'
	assert_contains "$output" "Local Volumes space usage:"
	assert_match "$output" $'\nVOLUME NAME +LINKS +SIZE'
}
