#!/usr/bin/env bats
# Detached containers and the lifecycle commands: run -d and create/start,
# the monitor's logs (logs -f, --tail, --since, --until, -t), exec, stop,
# kill, restart, wait, restart policies, pause/unpause, ps (columns, flags,
# filters, formats), inspect, rename, rm, container prune and exists.
# Waiting is done with skiff wait, logs -f or bounded polls, never sleeps.

load helpers
load container_cases

setup_file() {
	container_image_setup
}

teardown() {
	container_teardown
}

# A container NAME that says "started", exits 0 on SIGTERM and idles.
run_idle() {
	local name=$1
	shift
	run_skiff run -d --name "$name" "$@" "$CTR_IMAGE" sh -c \
		'trap "exit 0" TERM; echo started; while :; do sleep 0.1; done'
	wait_until 100 ctr_logs_contain "$name" started
}

# The table's rows, columns separated by one space.
squeeze() {
	sed -E 's/  +/ /g; s/ +$//'
}

# ---------------------------------------------------------------------------
# run -d, create, start

@test "run -d: logs, exec, stop and rm of a detached container" {
	case_detached_logs_exec_stop_rm
}

@test "create: a created container; start runs it detached" {
	local id
	pull_ctr_image
	run_skiff create --name later "$CTR_IMAGE" sh -c 'echo ran; sleep 1000'
	assert_match "$output" '^[0-9a-f]{64}$' "create output"
	id=$output
	assert_equal "$(ctr_status later)" "created" "status after create"
	run_skiff start later
	assert_equal "$output" "later" "start output"
	assert_equal "$(ctr_status "$id")" "running" "status after start"
	wait_until 100 ctr_logs_contain later ran
}

@test "start -a: the output is ours and so is the exit code" {
	pull_ctr_image
	run_skiff create --name attached "$CTR_IMAGE" sh -c 'echo attached-out; exit 8'
	run_skiff 8 start -a attached
	assert_equal "$output" "attached-out" "output"
}

@test "run -d: a missing command exits 127 with the error, and no ID" {
	pull_ctr_image
	run_skiff --separate-stderr 127 run -d --name broken "$CTR_IMAGE" no-such-command
	assert_equal "$output" "" "stdout"
	assert_match "$stderr" '"no-such-command".*not found' "stderr"
}

# ---------------------------------------------------------------------------
# logs

@test "logs -f: follows the container until it exits" {
	case_detached_logs_follow
}

@test "logs: stdout and stderr apart, after the exit" {
	pull_ctr_image
	run_skiff run -d --name both "$CTR_IMAGE" sh -c 'echo out; echo err >&2'
	run_skiff wait both
	run_skiff --separate-stderr logs both
	assert_equal "$output" "out" "stdout"
	assert_equal "$stderr" "err" "stderr"
}

@test "logs --tail: the last N lines" {
	pull_ctr_image
	run_skiff run -d --name tail "$CTR_IMAGE" sh -c 'for i in 1 2 3 4 5; do echo l$i; done'
	run_skiff wait tail
	run_skiff logs --tail 2 tail
	assert_equal "$output" $'l4\nl5' "--tail 2"
	run_skiff logs --tail 0 tail
	assert_equal "$output" "" "--tail 0"
}

@test "logs -t: each line with its RFC 3339 time" {
	pull_ctr_image
	run_skiff run -d --name stamped "$CTR_IMAGE" sh -c 'echo a; echo b'
	run_skiff wait stamped
	run_skiff logs -t stamped
	assert_equal "${#lines[@]}" 2 "lines"
	assert_match "${lines[0]}" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) a$' "line 1"
	assert_match "${lines[1]}" ' b$' "line 2"
}

@test "logs --since/--until: only the lines of the time range" {
	pull_ctr_image
	run_skiff run -d --name timed "$CTR_IMAGE" sh -c 'echo a; echo b'
	run_skiff wait timed
	run_skiff logs --since 2000-01-01T00:00:00Z timed
	assert_equal "$output" $'a\nb' "since a past time"
	run_skiff logs --since 2100-01-01T00:00:00Z timed
	assert_equal "$output" "" "since a future time"
	run_skiff logs --until 2000-01-01T00:00:00Z timed
	assert_equal "$output" "" "until a past time"
	run_skiff logs --since 1h timed
	assert_equal "$output" $'a\nb' "since one hour ago"
}

# ---------------------------------------------------------------------------
# exec

@test "exec: the command's exit code is ours" {
	pull_ctr_image
	run_idle box
	run_skiff 3 exec box sh -c 'exit 3'
	run_skiff 127 exec box no-such-command
	assert_contains "$output" "no-such-command" "error"
}

@test "exec -e, -u, -w: environment, user and working directory" {
	pull_ctr_image
	run_idle box
	run_skiff exec -e GREETING=hello -u nobody -w /tmp box sh -c 'echo "$GREETING $(id -un) $(pwd)"'
	assert_equal "$output" "hello nobody /tmp" "output"
	run_skiff exec --user 1000:1000 box sh -c 'echo $(id -u):$(id -g)'
	assert_equal "$output" "1000:1000" "--user 1000:1000"
}

@test "exec -i: our stdin reaches the command" {
	pull_ctr_image
	run_idle box
	output=$(printf 'a\nb\nc\n' | skiff_cmd exec -i box wc -l)
	assert_equal "$output" "3" "lines counted in the container"
}

@test "exec -d: the command runs on in the background" {
	pull_ctr_image
	run_idle box
	run_skiff exec -d box sh -c 'echo background >/tmp/bg'
	wait_until 100 skiff_cmd exec box test -s /tmp/bg
	run_skiff exec box cat /tmp/bg
	assert_equal "$output" "background" "the file it wrote"
}

@test "exec -t: a terminal for the command" {
	pull_ctr_image
	run_idle box
	run script -qec "$(printf '%q ' "$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		exec -t box sh -c 'tty; exit 3')" /dev/null
	echo "$output"
	assert_equal "$status" 3 "exit code"
	assert_match "${output//$'\r'/}" '^/dev/pts/[0-9]+$' "tty"
}

@test "exec --env-file: variables from the file" {
	pull_ctr_image
	run_idle box
	printf 'FROM_FILE=yes\n' >"$SKIFF_TEST_DIR/env"
	run_skiff exec --env-file "$SKIFF_TEST_DIR/env" box sh -c 'echo "$FROM_FILE"'
	assert_equal "$output" "yes" "variable"
}

@test "exec: a container that does not run exits 125" {
	pull_ctr_image
	run_skiff create --name idle "$CTR_IMAGE" true
	run_skiff 125 exec idle true
	assert_contains "$output" "can only create exec sessions on running containers" "error"
}

# ---------------------------------------------------------------------------
# stop, kill, restart, wait

@test "stop -t: a PID 1 that ignores SIGTERM is killed: 137" {
	pull_ctr_image
	# PID 1 of a pid namespace gets no signal it has no handler for.
	run_skiff run -d --name stubborn "$CTR_IMAGE" sleep 1000
	run_skiff stop -t 1 stubborn
	assert_equal "$(skiff_cmd inspect --format '{{.State.Status}} {{.State.ExitCode}}' stubborn)" \
		"exited 137" "state"
	run_skiff wait stubborn
	assert_equal "$output" "137" "wait"
}

@test "stop: the stop signal's trap decides the exit code" {
	pull_ctr_image
	run_skiff run -d --name trapper "$CTR_IMAGE" sh -c \
		'trap "exit 9" TERM; echo started; while :; do sleep 0.1; done'
	wait_until 100 ctr_logs_contain trapper started
	run_skiff stop trapper
	run_skiff wait trapper
	assert_equal "$output" "9" "exit code"
}

@test "stop with --init: the command dies of SIGTERM: 143" {
	pull_ctr_image
	run_skiff run -d --init --name inited "$CTR_IMAGE" sleep 1000
	run_skiff stop inited
	run_skiff wait inited
	assert_equal "$output" "143" "exit code"
}

@test "stop --stop-signal: the container's own stop signal" {
	pull_ctr_image
	run_skiff run -d --name usr1 --stop-signal USR1 "$CTR_IMAGE" sh -c \
		'trap "exit 10" USR1; echo started; while :; do sleep 0.1; done'
	wait_until 100 ctr_logs_contain usr1 started
	run_skiff stop usr1
	run_skiff wait usr1
	assert_equal "$output" "10" "exit code"
}

@test "kill -s: the signal reaches the container; kill defaults to SIGKILL" {
	pull_ctr_image
	run_skiff run -d --name target "$CTR_IMAGE" sh -c \
		'trap "echo got USR1" USR1; echo started; while :; do sleep 0.1; done'
	wait_until 100 ctr_logs_contain target started
	run_skiff kill -s USR1 target
	assert_equal "$output" "target" "kill output"
	wait_until 100 ctr_logs_contain target "got USR1"
	assert_equal "$(ctr_status target)" "running" "status after USR1"
	run_skiff kill target
	run_skiff wait target
	assert_equal "$output" "137" "exit code after kill"
}

@test "kill: a container that does not run exits 125" {
	pull_ctr_image
	run_skiff run --name finished "$CTR_IMAGE" true
	run_skiff 125 kill finished
	assert_contains "$output" "container state improper" "error"
}

@test "restart: the container stops and runs again" {
	local started
	pull_ctr_image
	run_idle again
	started=$(skiff_cmd inspect --format '{{.State.StartedAt}}' again)
	run_skiff restart again
	assert_equal "$output" "again" "restart output"
	assert_equal "$(ctr_status again)" "running" "status"
	[[ $(skiff_cmd inspect --format '{{.State.StartedAt}}' again) != "$started" ]] ||
		die "StartedAt did not change"
	two_starts() {
		[[ $(skiff_cmd logs again | grep -c started) -eq 2 ]]
	}
	wait_until 100 two_starts
}

@test "wait: prints the exit code once the container exits" {
	pull_ctr_image
	run_skiff run -d --name waited "$CTR_IMAGE" sh -c 'sleep 0.3; exit 6'
	run_skiff wait waited
	assert_equal "$output" "6" "wait"
	assert_equal "$(ctr_status waited)" "exited" "status"
}

@test "wait: an unknown container exits 125" {
	run_skiff 125 wait no-such-container
	assert_contains "$output" "no such container" "error"
}

# ---------------------------------------------------------------------------
# restart policies and --rm

@test "run --restart on-failure:2: two restarts, then exited" {
	case_detached_restart_on_failure
}

@test "run --restart on-failure: a command that succeeds is not restarted" {
	pull_ctr_image
	run_skiff run -d --name fine --restart on-failure "$CTR_IMAGE" true
	run_skiff wait fine
	assert_equal "$output" "0" "wait"
	run_skiff inspect --format '{{.State.Status}} {{.RestartCount}}' fine
	assert_equal "$output" "exited 0" "status, restarts"
}

@test "run --restart always: stop ends it for good" {
	local monitor
	pull_ctr_image
	run_skiff run -d --name forever --restart always "$CTR_IMAGE" sleep 1000
	monitor=$(jq .monitor_pid "$(ctr_state_file "$(skiff_cmd inspect --format '{{.Id}}' forever)")")
	run_skiff stop -t 1 forever
	monitor_gone() {
		! pid_alive "$monitor"
	}
	wait_until 100 monitor_gone
	run_skiff inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' forever
	assert_equal "$output" "exited 137 0" "status, exit code, restarts"
}

@test "run -d --rm: the monitor removes the container after its exit" {
	case_detached_rm
}

# ---------------------------------------------------------------------------
# pause, unpause

@test "pause: the container's processes stop; unpause resumes them" {
	case_detached_pause_unpause
}

@test "pause: a container that does not run exits 125" {
	pull_ctr_image
	run_skiff run --name finished "$CTR_IMAGE" true
	run_skiff 125 pause finished
	assert_contains "$output" "is not running" "error"
	run_skiff 125 unpause finished
	assert_contains "$output" "is not paused" "error"
}

# ---------------------------------------------------------------------------
# ps

@test "ps: the columns; running containers only without -a" {
	local id
	pull_ctr_image
	run_skiff 2 run --name exited1 "$CTR_IMAGE" sh -c 'exit 2'
	run_skiff run -d --name up1 "$CTR_IMAGE" sleep 1000
	id=$output
	run_skiff ps
	assert_equal "$(squeeze <<<"${lines[0]}")" "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" "header"
	assert_equal "${#lines[@]}" 2 "header and one row"
	assert_match "$(squeeze <<<"${lines[1]}")" "^${id:0:12} $CTR_IMAGE \"sleep 1000\" .* ago Up .* up1$" "row"
	run_skiff ps -a
	assert_equal "${#lines[@]}" 3 "header and two rows with -a"
	assert_match "$(squeeze <<<"$output")" $'\n'"[0-9a-f]{12} $CTR_IMAGE \"sh -c exit 2\" .* ago Exited \\(2\\) .* ago exited1"'($|'$'\n'')' "exited row"
}

@test "ps -q, --no-trunc, -l, -n" {
	local first second
	pull_ctr_image
	run_skiff run -d --name first "$CTR_IMAGE" sleep 1000
	first=$output
	run_skiff run --name second "$CTR_IMAGE" true
	second=$(skiff_cmd inspect --format '{{.Id}}' second)
	run_skiff ps -q
	assert_equal "$output" "${first:0:12}" "ps -q"
	run_skiff ps -a -q --no-trunc
	assert_equal "$output" "$second"$'\n'"$first" "ps -a -q --no-trunc, newest first"
	run_skiff ps -l -q
	assert_equal "$output" "${second:0:12}" "ps -l: the latest, of any state"
	run_skiff ps -n 2 -q
	assert_equal "$output" "${second:0:12}"$'\n'"${first:0:12}" "ps -n 2"
}

@test "ps --filter: status, name, id, ancestor, label, exited" {
	pull_ctr_image
	run_skiff 2 run --name ex2 -l role=batch "$CTR_IMAGE" sh -c 'exit 2'
	run_skiff run --name ex0 "$CTR_IMAGE" true
	run_skiff run -d --name live "$CTR_IMAGE" sleep 1000
	names() {
		skiff_cmd ps -a --format '{{.Names}}' "$@" | LC_ALL=C sort | tr '\n' ' '
	}
	assert_equal "$(names --filter status=exited)" "ex0 ex2 " "status=exited"
	assert_equal "$(names --filter status=running)" "live " "status=running"
	assert_equal "$(names --filter name=ex)" "ex0 ex2 " "name=ex"
	assert_equal "$(names --filter id="$(skiff_cmd inspect --format '{{.Id}}' live | cut -c1-10)")" \
		"live " "id="
	assert_equal "$(names --filter ancestor="$CTR_IMAGE")" "ex0 ex2 live " "ancestor="
	assert_equal "$(names --filter label=role=batch)" "ex2 " "label="
	assert_equal "$(names --filter exited=2)" "ex2 " "exited=2"
	assert_equal "$(names --filter name=ex --filter status=running)" "" "two filters"
}

@test "ps --format json: an array jq reads" {
	local id
	pull_ctr_image
	run_skiff run -d --name jsoned -l k=v "$CTR_IMAGE" sleep 1000
	id=$output
	run_skiff ps --format json
	assert_equal "$(jq -r 'length' <<<"$output")" 1 "entries"
	assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$id" "Id"
	assert_equal "$(jq -r '.[0].Names[0]' <<<"$output")" "jsoned" "Names"
	assert_equal "$(jq -r '.[0].State' <<<"$output")" "running" "State"
	assert_equal "$(jq -r '.[0].Image' <<<"$output")" "$CTR_IMAGE" "Image"
	assert_equal "$(jq -c '.[0].Command' <<<"$output")" '["sleep","1000"]' "Command"
	assert_equal "$(jq -r '.[0].Labels.k' <<<"$output")" "v" "Labels"
}

@test "ps --format: a Go template per container" {
	pull_ctr_image
	run_skiff 4 run --name templ "$CTR_IMAGE" sh -c 'exit 4'
	run_skiff ps -a --format '{{.Names}}|{{.Status}}|{{.Image}}'
	assert_match "$output" "^templ\\|Exited \\(4\\) .* ago\\|$CTR_IMAGE$" "line"
}

# ---------------------------------------------------------------------------
# inspect, rename, rm, prune, exists

@test "inspect: docker's keys for a running container" {
	local id pid
	pull_ctr_image
	run_skiff run -d --name inspected -e FOO=bar "$CTR_IMAGE" sleep 1000
	id=$output
	run_skiff inspect inspected
	assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$id" "Id"
	assert_equal "$(jq -r '.[0].Name' <<<"$output")" "inspected" "Name"
	assert_equal "$(jq -r '.[0].Image' <<<"$output")" "$CTR_IMAGE_ID" "Image"
	assert_equal "$(jq -r '.[0].ImageName' <<<"$output")" "$CTR_IMAGE" "ImageName"
	assert_equal "$(jq -r '.[0].State | "\(.Status) \(.Running) \(.Paused) \(.ExitCode)"' <<<"$output")" \
		"running true false 0" "State"
	pid=$(jq -r '.[0].State.Pid' <<<"$output")
	pid_alive "$pid" || die "State.Pid $pid does not run"
	assert_equal "$(jq -c '.[0].Config.Cmd' <<<"$output")" '["sleep","1000"]' "Config.Cmd"
	assert_equal "$(jq -c '.[0].Path, .[0].Args' <<<"$output" | tr '\n' ' ')" '"sleep" ["1000"] ' "Path, Args"
	assert_contains "$(jq -c '.[0].Config.Env' <<<"$output")" '"FOO=bar"' "Config.Env"
	assert_equal "$(jq -r '.[0].HostConfig | type' <<<"$output")" "object" "HostConfig"
	assert_equal "$(jq -r '.[0].HostConfig.RestartPolicy.MaximumRetryCount' <<<"$output")" 0 \
		"HostConfig.RestartPolicy"
	assert_match "$(jq -r '.[0].Created' <<<"$output")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "Created"
}

@test "inspect: an exited container's state" {
	pull_ctr_image
	run_skiff 12 run --name finished "$CTR_IMAGE" sh -c 'exit 12'
	run_skiff inspect finished
	assert_equal "$(jq -r '.[0].State | "\(.Status) \(.Running) \(.ExitCode) \(.Pid)"' <<<"$output")" \
		"exited false 12 0" "State"
	[[ $(jq -r '.[0].State.FinishedAt' <<<"$output") != 0001-* ]] || die "no FinishedAt"
}

@test "rename: the new name finds it, the old one does not" {
	pull_ctr_image
	run_skiff run --name before "$CTR_IMAGE" true
	run_skiff run --name taken "$CTR_IMAGE" true
	run_skiff rename before after
	run_skiff inspect --format '{{.Name}}' after
	assert_equal "$output" "after" "Name"
	run_skiff 1 container exists before
	run_skiff 125 rename after taken
	assert_contains "$output" "already in use" "error"
}

@test "stop -a, rm -a: every container" {
	pull_ctr_image
	run_skiff run -d --name one "$CTR_IMAGE" sleep 1000
	run_skiff run -d --name two "$CTR_IMAGE" sleep 1000
	run_skiff run --name three "$CTR_IMAGE" true
	run_skiff --separate-stderr stop -a -t 0
	assert_equal "${#lines[@]}" 2 "containers stopped"
	run_skiff ps -a --format '{{.Names}} {{.Status}}'
	assert_match "$output" "two Exited \\(137\\)" "two"
	assert_match "$output" "one Exited \\(137\\)" "one"
	run_skiff rm -a
	assert_equal "${#lines[@]}" 3 "containers removed"
	run_skiff ps -a -q
	assert_equal "$output" "" "ps -a -q"
}

@test "rm: a running container needs -f" {
	pull_ctr_image
	run_skiff run -d --name busy "$CTR_IMAGE" sleep 1000
	run_skiff 2 rm busy
	assert_contains "$output" "cannot remove container" "error"
	run_skiff rm -f busy
	assert_equal "$output" "busy" "rm -f output"
	run_skiff 1 container exists busy
}

@test "container prune -f: exited containers go, running ones stay" {
	local gone
	pull_ctr_image
	run_skiff run --name gone1 "$CTR_IMAGE" true
	gone=$(skiff_cmd inspect --format '{{.Id}}' gone1)
	run_skiff run -d --name stays "$CTR_IMAGE" sleep 1000
	run_skiff container prune -f
	assert_contains "$output" "$gone" "pruned IDs"
	run_skiff ps -a --format '{{.Names}}'
	assert_equal "$output" "stays" "remaining containers"
}

@test "container exists: 0 for a container, 1 for none" {
	pull_ctr_image
	run_skiff run --name here "$CTR_IMAGE" true
	run_skiff 0 container exists here
	run_skiff 1 container exists nowhere
}

@test "ps -s: the SIZE column counts what the container wrote" {
	pull_ctr_image
	run_skiff run --name sized "$CTR_IMAGE" sh -c 'dd if=/dev/zero of=/big bs=1k count=100 2>/dev/null'
	run_skiff ps -a -s --filter name=sized
	assert_match "${lines[0]}" 'NAMES +SIZE$' "header"
	assert_match "${lines[1]}" ' 10[0-9]kB \(virtual [0-9.]+MB\)$' "row"
}
