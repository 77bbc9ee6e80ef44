#!/usr/bin/env bats
# build: COPY and ADD (owners and modes with --chown/--chmod, globs,
# directories, heredocs, local tar extraction, URLs from a local HTTP
# server), the ignore files, and the build context (a directory, a tarball,
# a tar or a Dockerfile on stdin, Containerfile before Dockerfile, -f).
# The files are checked inside containers run from the built images.

load helpers

setup_file() {
	container_image_setup
}

setup() {
	skiff_setup
	pull_ctr_image
	CTX=$SKIFF_TEST_DIR/ctx
	mkdir -p "$CTX"
	HTTP_PID=
}

teardown() {
	if [[ -n $HTTP_PID ]]; then
		kill "$HTTP_PID" 2>/dev/null || true
		wait "$HTTP_PID" 2>/dev/null || true
	fi
	container_teardown
}

dockerfile() {
	cat >"$CTX/Dockerfile"
}

# Files below DIR of image IMG, one "uid:gid mode path" line each, sorted.
image_files() {
	skiff_cmd run --rm "$1" sh -c "find $2 | sort | xargs stat -c '%u:%g %a %n'"
}

# Serve DIR on a free 127.0.0.1 port; exports HTTP_PORT and HTTP_PID.
start_http() {
	local dir=$1 log=$SKIFF_TEST_DIR/http.log
	HTTP_PORT=$(free_port)
	python3 -u -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$dir" \
		>"$log" 2>&1 3>&- &
	HTTP_PID=$!
	wait_until 100 curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/"
}

@test "build-copy: --chown and --chmod set owners and modes, without them 0:0" {
	echo a >"$CTX/a.txt"
	chmod 0644 "$CTX/a.txt"
	mkdir -p "$CTX/dir/sub"
	echo b >"$CTX/dir/sub/b.txt"
	chmod 0755 "$CTX/dir" "$CTX/dir/sub"
	chmod 0600 "$CTX/dir/sub/b.txt"
	echo p >"$CTX/plain.txt"
	chmod 0604 "$CTX/plain.txt"
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY --chown=1234:5678 --chmod=640 a.txt /data/a.txt
COPY --chown=42:43 dir /data/dir
COPY plain.txt /data/
COPY --chown=nobody:nobody --chmod=0711 plain.txt /data/named
EOF
	run_skiff build -t owners "$CTX"
	run image_files owners /data
	assert_equal "$output" "0:0 755 /data
1234:5678 640 /data/a.txt
42:43 755 /data/dir
42:43 755 /data/dir/sub
42:43 600 /data/dir/sub/b.txt
65534:65534 711 /data/named
0:0 604 /data/plain.txt"
	run_skiff run --rm owners cat /data/a.txt /data/dir/sub/b.txt
	assert_equal "$output" $'a\nb'
}

@test "build-copy: existing directories keep their modes; an existing directory receives the file" {
	echo a >"$CTX/a.txt"
	chmod 0644 "$CTX/a.txt"
	run_skiff run --rm "$CTR_IMAGE" stat -c '%u:%g %a' /tmp /etc
	base=$output
	dockerfile <<EOF
FROM $CTR_IMAGE AS other
RUN echo s >/s.txt && chown 7:7 /s.txt
FROM $CTR_IMAGE
RUN mkdir -m 0750 /srv && chown 5:6 /srv
COPY a.txt /tmp/
COPY a.txt /etc/skiff/
COPY a.txt /srv
COPY --from=other /s.txt /tmp/from/
EOF
	run_skiff build -t keepdirs "$CTX"
	run_skiff run --rm keepdirs stat -c '%u:%g %a' /tmp /etc
	assert_equal "$output" "$base"
	run_skiff run --rm keepdirs stat -c '%u:%g %a %n' /srv /srv/a.txt /tmp/a.txt /etc/skiff/a.txt /tmp/from/s.txt
	assert_equal "$output" "5:6 750 /srv
0:0 644 /srv/a.txt
0:0 644 /tmp/a.txt
0:0 644 /etc/skiff/a.txt
7:7 644 /tmp/from/s.txt"
}

@test "build-copy: globs, directory contents, file renames and symlinks kept" {
	mkdir -p "$CTX/conf" "$CTX/src/lib"
	echo 1 >"$CTX/one.txt"
	echo 2 >"$CTX/two.txt"
	echo 3 >"$CTX/three.md"
	echo a >"$CTX/conf/a.ini"
	echo c >"$CTX/conf/c.ini"
	echo m >"$CTX/src/main.c"
	echo u >"$CTX/src/lib/util.c"
	ln -s util.c "$CTX/src/lib/link.c"
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY *.txt conf/[ab].ini /g/
COPY src /app
COPY src/ /app2/
COPY one.txt /renamed.txt
WORKDIR /w
COPY three.md .
EOF
	run_skiff build -t globs "$CTX"
	run_skiff run --rm globs sh -c \
		'ls /g; echo; find /app /app2 | sort; readlink /app/lib/link.c; cat /renamed.txt /w/three.md'
	assert_equal "$output" "a.ini
one.txt
two.txt

/app
/app/lib
/app/lib/link.c
/app/lib/util.c
/app/main.c
/app2
/app2/lib
/app2/lib/link.c
/app2/lib/util.c
/app2/main.c
util.c
1
3"
}

@test "build-copy: COPY heredocs" {
	dockerfile <<EOF
FROM $CTR_IMAGE
ARG NAME=world
COPY <<GREETING /etc/greeting
hello \$NAME
GREETING
COPY --chmod=755 <<'SCRIPT' /usr/local/bin/
#!/bin/sh
echo \$NAME
SCRIPT
EOF
	run_skiff build -t heredoc "$CTX"
	run_skiff run --rm heredoc sh -c 'cat /etc/greeting; stat -c "%a %n" /usr/local/bin/SCRIPT; cat /usr/local/bin/SCRIPT'
	# shellcheck disable=SC2016 # $NAME is the script's, not expanded
	assert_equal "$output" 'hello world
755 /usr/local/bin/SCRIPT
#!/bin/sh
echo $NAME'
}

@test "build-copy: .dockerignore with ! exceptions and ** patterns" {
	mkdir -p "$CTX/logs" "$CTX/deep/er" "$CTX/node_modules/keep" "$CTX/node_modules/drop"
	touch "$CTX/main.c" "$CTX/a.log" "$CTX/keep.log" "$CTX/logs/x.log" \
		"$CTX/deep/er/x.tmp" "$CTX/deep/er/y.c" "$CTX/secret" \
		"$CTX/node_modules/keep/k.js" "$CTX/node_modules/drop/d.js"
	cat >"$CTX/.dockerignore" <<'EOF'
# comments and blank lines are ignored

*.log
**/*.tmp
/secret
node_modules
!node_modules/keep
!keep.log
EOF
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY . /ctx
EOF
	run_skiff build -t ignore "$CTX"
	run_skiff run --rm ignore sh -c 'cd /ctx && find . | sort'
	assert_equal "$output" ".
./.dockerignore
./Dockerfile
./deep
./deep/er
./deep/er/y.c
./keep.log
./logs
./logs/x.log
./main.c
./node_modules
./node_modules/keep
./node_modules/keep/k.js"
	# an excluded file named by COPY is an error, as docker says it
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY secret /
EOF
	run_skiff 125 build -t ignore2 "$CTX"
	assert_contains "$output" "COPY failed: file not found in build context or excluded by .dockerignore: stat secret: file does not exist"
}

@test "build-copy: .containerignore is preferred over .dockerignore" {
	touch "$CTX/a" "$CTX/b"
	echo a >"$CTX/.dockerignore"
	echo b >"$CTX/.containerignore"
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY . /ctx
EOF
	run_skiff build -t cignore "$CTX"
	run_skiff run --rm cignore ls /ctx
	assert_contains "$output" "a"
	assert_not_contains "$output" $'\nb\n'
	run_skiff run --rm cignore sh -c 'test -e /ctx/a && ! test -e /ctx/b && echo ok'
	assert_equal "$output" "ok"
}

@test "build-copy: missing sources and sources outside the context fail" {
	mkdir -p "$SKIFF_TEST_DIR/outside"
	echo secret >"$SKIFF_TEST_DIR/outside/file"
	ln -s /etc/passwd "$CTX/passwd-link"
	ln -s ../outside "$CTX/out-link"
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY missing.txt /
EOF
	run_skiff 125 build -t missing "$CTX"
	assert_contains "$output" "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY *.nothing /
EOF
	run_skiff 125 build -t noglob "$CTX"
	assert_contains "$output" "COPY failed: no source files were specified"
	for src in ../outside/file passwd-link out-link/file; do
		dockerfile <<EOF
FROM $CTR_IMAGE
COPY $src /x
EOF
		run_skiff 125 build -t escape "$CTX"
		assert_contains "$output" "file not found in build context"
	done
	run_skiff images -q --filter reference=localhost/escape
	assert_equal "$output" ""
}

@test "build-copy: ADD extracts a local tar, COPY does not" {
	mkdir -p "$SKIFF_TEST_DIR/payload/sub"
	echo f >"$SKIFF_TEST_DIR/payload/f.txt"
	echo g >"$SKIFF_TEST_DIR/payload/sub/g.txt"
	chmod 0640 "$SKIFF_TEST_DIR/payload/sub/g.txt"
	tar -C "$SKIFF_TEST_DIR/payload" --owner=7 --group=8 --numeric-owner -czf "$CTX/payload.tgz" .
	tar -C "$SKIFF_TEST_DIR/payload" -cf "$CTX/plain.tar" f.txt
	dockerfile <<EOF
FROM $CTR_IMAGE
ADD payload.tgz /opt/
ADD plain.tar /plain
COPY plain.tar /copied/
EOF
	run_skiff build -t addtar "$CTX"
	run image_files addtar "/opt /plain /copied"
	assert_equal "$output" "0:0 755 /copied
0:0 644 /copied/plain.tar
7:8 755 /opt
7:8 644 /opt/f.txt
7:8 755 /opt/sub
7:8 640 /opt/sub/g.txt
0:0 755 /plain
$(id -u):$(id -g) 644 /plain/f.txt"
}

@test "build-copy: ADD refuses a tar whose entries leave the destination" {
	python3 - "$CTX/evil.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"evil\n"
    info = tarfile.TarInfo("../../evil.txt")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
EOF
	dockerfile <<EOF
FROM $CTR_IMAGE
ADD evil.tar /opt/
EOF
	run_skiff 125 build -t evil "$CTX"
	assert_contains "$output" "leaves the destination"
}

@test "build-copy: ADD of a URL from a local HTTP server" {
	mkdir -p "$SKIFF_TEST_DIR/www"
	echo "remote content" >"$SKIFF_TEST_DIR/www/remote.txt"
	touch -d "2001-02-03 04:05:06 UTC" "$SKIFF_TEST_DIR/www/remote.txt"
	start_http "$SKIFF_TEST_DIR/www"
	dockerfile <<EOF
FROM $CTR_IMAGE
ADD http://127.0.0.1:$HTTP_PORT/remote.txt /r/
ADD --chown=5:6 http://127.0.0.1:$HTTP_PORT/remote.txt?x=1 /r/named.txt
EOF
	run_skiff build -t addurl "$CTX"
	run_skiff run --rm addurl sh -c 'stat -c "%u:%g %a %Y %n" /r/remote.txt /r/named.txt; cat /r/remote.txt'
	assert_equal "$output" "0:0 600 981173106 /r/remote.txt
5:6 600 981173106 /r/named.txt
remote content"
	# each URL fetched once: the cache key and the layer come from one download
	assert_equal "$(grep -c 'GET /remote.txt HTTP' "$SKIFF_TEST_DIR/http.log")" "1" "GET /remote.txt"
	assert_equal "$(grep -c 'GET /remote.txt?x=1 HTTP' "$SKIFF_TEST_DIR/http.log")" "1" "GET ?x=1"
	# a missing file is an HTTP error, not an empty file
	dockerfile <<EOF
FROM $CTR_IMAGE
ADD http://127.0.0.1:$HTTP_PORT/missing.txt /r/
EOF
	run_skiff 125 build -t addurl2 "$CTX"
	assert_contains "$output" "HTTP 404"
}

@test "build-copy: the context from a tarball and from a tar on stdin" {
	echo from-tar >"$CTX/data.txt"
	dockerfile <<EOF
FROM $CTR_IMAGE
COPY data.txt /data.txt
EOF
	tar -C "$CTX" -cf "$SKIFF_TEST_DIR/ctx.tar" .
	gzip -c "$SKIFF_TEST_DIR/ctx.tar" >"$SKIFF_TEST_DIR/ctx.tar.gz"
	run_skiff build -t fromtarball "$SKIFF_TEST_DIR/ctx.tar.gz"
	run_skiff run --rm fromtarball cat /data.txt
	assert_equal "$output" "from-tar"
	mkdir "$SKIFF_TEST_DIR/tmp"
	TMPDIR=$SKIFF_TEST_DIR/tmp run_skiff build -t fromstdin - <"$SKIFF_TEST_DIR/ctx.tar"
	run_skiff run --rm fromstdin cat /data.txt
	assert_equal "$output" "from-tar"
	# the extracted context is gone afterwards
	run ls -A "$SKIFF_TEST_DIR/tmp"
	assert_equal "$output" ""
}

@test "build-copy: a Dockerfile on stdin has no context but heredocs work" {
	run_skiff build -t stdinfile - <<EOF
FROM $CTR_IMAGE
COPY <<EOT /hello
from stdin
EOT
RUN cat /hello
EOF
	assert_contains "$output" "from stdin"
	run_skiff run --rm stdinfile cat /hello
	assert_equal "$output" "from stdin"
	run_skiff 125 build -t stdinfile2 - <<EOF
FROM $CTR_IMAGE
COPY anything /
EOF
	assert_contains "$output" "no build context"
}

@test "build-copy: Containerfile is preferred over Dockerfile; -f is relative to the cwd" {
	printf 'FROM %s\nLABEL from=dockerfile\n' "$CTR_IMAGE" >"$CTX/Dockerfile"
	printf 'FROM %s\nLABEL from=containerfile\n' "$CTR_IMAGE" >"$CTX/Containerfile"
	mkdir -p "$SKIFF_TEST_DIR/elsewhere"
	printf 'FROM %s\nLABEL from=elsewhere\n' "$CTR_IMAGE" >"$SKIFF_TEST_DIR/elsewhere/Build.df"
	run_skiff build -t pref "$CTX"
	run_skiff image inspect --format '{{.Config.Labels.from}}' pref
	assert_equal "$output" "containerfile"
	cd "$SKIFF_TEST_DIR"
	run_skiff build -t pref2 -f elsewhere/Build.df ctx
	run_skiff image inspect --format '{{.Config.Labels.from}}' pref2
	assert_equal "$output" "elsewhere"
	rm "$CTX/Containerfile" "$CTX/Dockerfile"
	run_skiff 125 build -t pref3 ctx
	assert_contains "$output" "no Containerfile or Dockerfile specified or found in context directory"
}
