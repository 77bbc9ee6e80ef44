#!/bin/bash
# The container network: TCP throughput and connection rate through a
# published port, and the memory the network costs per container, skiff
# (libslirp inside its monitor) against podman with slirp4netns.
#
#   bash bench/network.sh [RUNS]       (default 3 per measurement)
#
# Contenders, each with a container published on a free host port of
# 127.0.0.1:
#   skiff              skiff run -d -p HOSTPORT:PORT (its default network)
#   podman             podman run -d --network slirp4netns -p ...: podman's
#                      rootless default, port_handler=rootlesskit (the
#                      "rootlessport" process forwards the port)
#   podman-slirpfwd    --network slirp4netns:port_handler=slirp4netns
#                      (slirp4netns itself forwards the port)
#
# Measured, RUNS times each, medians reported:
#   host->ctr MB/s     a Python client on the host sends 1 GiB (1 MiB
#                      buffers) to `nc -l -p 5000 >/dev/null` in the
#                      container, then shuts its side down and waits for
#                      the container to close: the clock stops when every
#                      byte has reached the container
#   ctr->host MB/s     the container serves `nc -l -p 5001 </dev/zero`;
#                      the client reads 1 GiB and closes
#   req/s              ab -n 5000 -c 10 (HTTP/1.0, a new connection per
#                      request) against busybox httpd serving a 6-byte
#                      index.html; failed requests must be 0 (a run that
#                      ab aborts on a reset connection counts 0 req/s and
#                      its missing requests as failed)
#   RSS / PSS          of the processes the network needs per container
#                      besides the container's own: skiff's monitor (found
#                      through monitor_pid in the container's state.json);
#                      podman's conmon, slirp4netns and rootlessport (found
#                      by this run's XDG_RUNTIME_DIR in their environment),
#                      with one idle published container each, after the
#                      throughput and request runs have gone through it
# MB is 10^6 bytes.  The nc servers run in a shell loop, so one container
# serves all runs.
#
# Run it as an unprivileged user with /etc/subuid and /etc/subgid ranges;
# as root it runs itself as BENCH_USER (default skifftest).  SKIFF names
# the binary (default: build/skiff next to this script, else skiff on
# PATH).  Needs podman, runc, slirp4netns, skopeo, docker-registry, jq,
# ab (apache2-utils) and python3.  Setup and clean-up as in run.sh:
# private stores, podman with runc and cgroupfs, everything removed at the
# end, also after a failure or an interrupt.
set -euo pipefail

runs=${1:-3}
[[ $runs =~ ^[1-9][0-9]?$ ]] || {
	echo "usage: $0 [RUNS]   (1 to 99)" >&2
	exit 2
}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init --helpers podman runc slirp4netns skopeo docker-registry curl jq ab python3
bench_as_user BENCH_DIR BENCH_RUNDIR -- "$runs"

# Private state, as in run.sh (lib.sh).  slirp4netns refuses an API socket
# path ($XDG_RUNTIME_DIR/libpod/tmp/ID.net) of 108 or more: the runtime
# directories get a shorter name still.
bench_stores net sbn x

# ---------------------------------------------------------------------------
# Tools

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		printf "%.1f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The TCP client: `tcp.py send|recv PORT BYTES` prints MB/s; `tcp.py probe
# send|recv PORT` exits 0 once a short transfer went through end to end
# (a port forwarder accepts before the container listens).
cat >"$work/tcp.py" <<'EOF'
import socket, sys, time

def send(port, total):
    buf = bytes(1 << 20)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    t0 = time.monotonic()
    left = total
    while left > 0:
        n = min(left, len(buf))
        s.sendall(buf[:n])
        left -= n
    s.shutdown(socket.SHUT_WR)
    # The container's nc closes when it has read everything.
    while s.recv(65536):
        pass
    t = time.monotonic() - t0
    s.close()
    return t

def recv(port, total):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    t0 = time.monotonic()
    left = total
    while left > 0:
        b = s.recv(min(left, 1 << 20))
        if not b:
            raise RuntimeError("short read: %d bytes left" % left)
        left -= len(b)
    t = time.monotonic() - t0
    s.close()
    return t

if sys.argv[1] == "probe":
    fn = send if sys.argv[2] == "send" else recv
    for _ in range(100):
        try:
            fn(int(sys.argv[3]), 1 << 20)
            sys.exit(0)
        except (OSError, RuntimeError):
            time.sleep(0.1)
    sys.exit(1)
total = int(sys.argv[3])
t = (send if sys.argv[1] == "send" else recv)(int(sys.argv[2]), total)
print("%.1f" % (total / t / 1e6))
EOF

# RSS and PSS in kB of PID: "RSS PSS".
mem_of() {
	local rss pss
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status")
	pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0)
	echo "$rss ${pss:-0}"
}

# podman's helper processes for this run: ours by XDG_RUNTIME_DIR, minus
# the pause process (one per user, not per container) and podman itself.
podman_helpers() {
	local p comm
	for p in $(pgrep -u "$(id -u)"); do
		[[ $p != "$$" ]] || continue
		tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qx "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" || continue
		comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case $comm in
		conmon | slirp4netns | rootlessport*) echo "$p $comm" ;;
		# A re-executed /proc/self/exe: rootlessport's child names itself
		# in argv[0].
		exe) echo "$p exe:$(tr '\0' '\n' <"/proc/$p/cmdline" | head -1)" ;;
		esac
	done
}

wait_http() {
	local _
	for _ in $(seq 1 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "network.sh: nothing answers on port $1" >&2
	return 1
}

# ---------------------------------------------------------------------------
# The image, in both stores

bench_busybox_image

# The container: sink on 5000, source on 5001, httpd on 8080.
serve='mkdir -p /www && echo hello >/www/index.html && httpd -p 8080 -h /www &&
(while :; do nc -l -p 5000 >/dev/null; done) &
while :; do nc -l -p 5001 </dev/zero; done'
gib=1073741824

# measure NAME NETWORK TOOL...: one container (NETWORK: a --network value,
# or empty for the tool's default), RUNS runs of each measurement.
measure() {
	local name=$1 net=$2 p_in p_out p_http id r
	shift 2
	p_in=$(free_port)
	p_out=$(free_port)
	p_http=$(free_port)
	while [[ $p_out == "$p_in" ]]; do p_out=$(free_port); done
	while [[ $p_http == "$p_in" || $p_http == "$p_out" ]]; do p_http=$(free_port); done
	id=$("$@" run -d ${net:+--network "$net"} -p "127.0.0.1:$p_in:5000" -p "127.0.0.1:$p_out:5001" \
		-p "127.0.0.1:$p_http:8080" "$img" sh -c "$serve")
	echo "$id" >"$work/id.$name"
	wait_http "$p_http"
	python3 "$work/tcp.py" probe send "$p_in" || {
		echo "network.sh: $name: port $p_in does not reach the container" >&2
		exit 1
	}
	python3 "$work/tcp.py" probe recv "$p_out" || {
		echo "network.sh: $name: port $p_out does not reach the container" >&2
		exit 1
	}
	for ((r = 0; r < runs; r++)); do
		python3 "$work/tcp.py" send "$p_in" "$gib" >>"$work/in.$name"
		python3 "$work/tcp.py" recv "$p_out" "$gib" >>"$work/out.$name"
		# ab gives up on a reset connection: that run counts 0 req/s and
		# its missing requests as failed, and the benchmark goes on.
		if ! ab -q -n 5000 -c 10 "http://127.0.0.1:$p_http/" >"$work/ab.out" 2>&1; then
			echo "network.sh: $name: ab aborted: $(grep -E 'apr_|^Total of' "$work/ab.out" | tr '\n' ' ')" >&2
			echo 0 >>"$work/rps.$name"
			awk '/^Total of/ { print 5000 - $3 }' "$work/ab.out" >>"$work/fail.$name"
			wait_http "$p_http"
		fi
		awk '/^Requests per second:/ { print $4 }' "$work/ab.out" >>"$work/rps.$name"
		awk '/^Failed requests:/ { print $3 }' "$work/ab.out" >>"$work/fail.$name"
		awk '/^Non-2xx responses:/ { print $3 }' "$work/ab.out" >>"$work/fail.$name"
		echo "network.sh: $name run $((r + 1)): in $(tail -1 "$work/in.$name")," \
			"out $(tail -1 "$work/out.$name") MB/s, $(tail -1 "$work/rps.$name") req/s" >&2
	done
	sleep 1
}

# The processes a container's network needs, listed in $work/procs.NAME
# as "PID COMM RSS PSS".
skiff_procs() {
	local id state pid
	id=$(cat "$work/id.skiff")
	state=$(grep -rl --include=state.json "\"monitor_pid\"" "$rundir/skiff" "$work/skiff-root" 2>/dev/null |
		grep -- "$id" | head -1) || true
	if [[ -n $state ]]; then
		pid=$(jq -r .monitor_pid "$state")
	else
		echo "network.sh: no state.json for $id, no monitor_pid" >&2
		exit 1
	fi
	echo "$pid $(cat "/proc/$pid/comm") $(mem_of "$pid")" >"$work/procs.skiff"
}
podman_procs() {
	local name=$1 pid comm
	: >"$work/procs.$name"
	while read -r pid comm; do
		echo "$pid $comm $(mem_of "$pid")" >>"$work/procs.$name"
	done < <(podman_helpers)
}

load_before=$(bench_load)

measure skiff "" "${skiff[@]}"
skiff_procs
"${skiff[@]}" rm -f "$(cat "$work/id.skiff")" >/dev/null

measure podman slirp4netns "${podman[@]}"
podman_procs podman
"${podman[@]}" rm -f -t 0 "$(cat "$work/id.podman")" >/dev/null

measure podman-slirpfwd slirp4netns:port_handler=slirp4netns "${podman[@]}"
podman_procs podman-slirpfwd
"${podman[@]}" rm -f -t 0 "$(cat "$work/id.podman-slirpfwd")" >/dev/null

load_after=$(bench_load)

# ---------------------------------------------------------------------------
# Summary

echo
echo "Published ports on 127.0.0.1, busybox fixture; $runs runs each, medians."
echo "$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))," \
	"kernel $(uname -r), load average $load_before before, $load_after after."
echo "$("$SKIFF" --version); podman $("${podman[@]}" version --format '{{.Client.Version}}')" \
	"with $(runc --version | head -1), $(slirp4netns --version | head -1), cgroupfs, overlay"
echo
printf '%-18s %12s %12s %10s %8s %10s %10s\n' contender 'host->ctr' 'ctr->host' 'req/s' failed 'RSS kB' 'PSS kB'
for name in skiff podman podman-slirpfwd; do
	printf '%-18s %12s %12s %10s %8s %10s %10s\n' "$name" \
		"$(median <"$work/in.$name")" "$(median <"$work/out.$name")" \
		"$(median <"$work/rps.$name")" "$(awk '{ s += $1 } END { print s + 0 }' "$work/fail.$name")" \
		"$(awk '{ s += $3 } END { print s }' "$work/procs.$name")" \
		"$(awk '{ s += $4 } END { print s }' "$work/procs.$name")"
done
echo
echo "processes (PID COMM RSS-kB PSS-kB):"
for name in skiff podman podman-slirpfwd; do
	sed "s/^/  $name: /" "$work/procs.$name"
done
echo
echo "all runs (MB/s in, MB/s out, req/s):"
for name in skiff podman podman-slirpfwd; do
	echo "  $name: $(paste -d/ "$work/in.$name" "$work/out.$name" "$work/rps.$name" | tr '\n' ' ')"
done
echo
# The issue's target names slirp4netns plus conmon: that sum is given
# alone too, without podman's port forwarder.
sc_rss() {
	awk '$2 == "slirp4netns" || $2 == "conmon" { s += $3 } END { print s }' "$work/procs.$1"
}
sc_pss() {
	awk '$2 == "slirp4netns" || $2 == "conmon" { s += $4 } END { print s }' "$work/procs.$1"
}
for name in podman podman-slirpfwd; do
	echo "$name: slirp4netns + conmon alone: RSS $(sc_rss "$name") kB, PSS $(sc_pss "$name") kB"
done
echo
for name in podman podman-slirpfwd; do
	awk -v n="$name" -v si="$(median <"$work/in.skiff")" -v so="$(median <"$work/out.skiff")" \
		-v sr="$(median <"$work/rps.skiff")" -v pi="$(median <"$work/in.$name")" \
		-v po="$(median <"$work/out.$name")" -v pr="$(median <"$work/rps.$name")" \
		-v sm="$(awk '{ s += $3 } END { print s }' "$work/procs.skiff")" \
		-v sp="$(awk '{ s += $4 } END { print s }' "$work/procs.skiff")" \
		-v pm="$(sc_rss "$name")" -v pp="$(sc_pss "$name")" 'BEGIN {
		printf "skiff / %s: host->ctr %.2f, ctr->host %.2f, req/s %.2f;", n, si / pi, so / po, sr / pr
		printf " memory vs slirp4netns + conmon: RSS %.2f, PSS %.2f\n", sm / pm, sp / pp
		printf "  target (throughput and req/s >= %s: %s; less RSS than slirp4netns + conmon: %s)\n", n,
			(si >= pi && so >= po && sr >= pr) ? "met" : "missed", (sm < pm) ? "met" : "missed" }'
done
