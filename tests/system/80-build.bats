#!/usr/bin/env bats
# build: the executor (stages, FROM, RUN, the config instructions, ONBUILD,
# history and layers), the layer cache (reuse, invalidation by content,
# prune) and the command's flags, on a busybox base from the test registry.
# COPY/ADD, the context and ignore files are 81-build-copy.bats's.

load helpers

setup_file() {
	container_image_setup
}

setup() {
	skiff_setup
	pull_ctr_image
	CTX=$SKIFF_TEST_DIR/ctx
	mkdir -p "$CTX"
}

teardown() {
	container_teardown
}

# Write the Dockerfile of the context from stdin.
dockerfile() {
	cat >"$CTX/Dockerfile"
}

# .Config.KEY of image $1 as compact JSON, object keys sorted (as Go's
# encoding/json writes maps).
inspect_cfg() {
	skiff_cmd image inspect --format "{{json .Config.$2}}" "$1" | jq -cS .
}

has_running_external() {
	[[ -n $(skiff_cmd ps --external -q) ]]
}

# The steps ("STEP n/m") that printed "Using cache", as "n n ...".
cached_steps() {
	awk '/STEP [0-9]+\/[0-9]+:/ { sub(/.*STEP /, ""); sub(/\/.*/, ""); step = $0 }
	     /^--> Using cache / { printf "%s%s", sep, step; sep = " " }
	     END { print "" }' <<<"$1"
}

@test "build: RUN output, STEP lines, COMMIT, tag and the image ID last" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN echo hello from run >/greeting && cat /greeting
CMD ["cat", "/greeting"]
EOF
	run_skiff build -t app "$CTX"
	assert_contains "$output" "STEP 1/3: FROM $CTR_IMAGE"
	assert_contains "$output" "STEP 2/3: RUN echo hello from run >/greeting && cat /greeting"
	assert_contains "$output" "hello from run"
	assert_contains "$output" "COMMIT app"
	assert_contains "$output" "Successfully tagged localhost/app:latest"
	id=${lines[-1]}
	assert_match "$id" '^[0-9a-f]{64}$' "last line"
	run_skiff image inspect --format '{{.Id}}' localhost/app:latest
	assert_equal "$output" "sha256:$id"
	run_skiff run --rm app
	assert_equal "$output" "hello from run"
}

@test "build: config instructions land in the image config" {
	dockerfile <<EOF
FROM $CTR_IMAGE
MAINTAINER someone@example.com
ENV A=1 B="two words"
ENV C=\${A}-x
LABEL org.example.one=1 "two"="2 2"
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data", "/cache"]
USER 1000:1000
WORKDIR /srv
WORKDIR app
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --retries=4 CMD wget -q -O- localhost || exit 1
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
EOF
	run_skiff build -q -t cfg "$CTX"
	run inspect_cfg cfg Env
	assert_contains "$output" '"A=1"'
	assert_contains "$output" '"B=two words"'
	assert_contains "$output" '"C=1-x"'
	run inspect_cfg cfg Labels
	assert_equal "$output" '{"org.example.one":"1","two":"2 2"}'
	run inspect_cfg cfg ExposedPorts
	assert_equal "$output" '{"53/udp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{}}'
	run inspect_cfg cfg Volumes
	assert_equal "$output" '{"/cache":{},"/data":{}}'
	run inspect_cfg cfg User
	assert_equal "$output" '"1000:1000"'
	run inspect_cfg cfg WorkingDir
	assert_equal "$output" '"/srv/app"'
	run inspect_cfg cfg StopSignal
	assert_equal "$output" '"SIGINT"'
	run inspect_cfg cfg Entrypoint
	assert_equal "$output" '["/bin/sh","-c"]'
	run inspect_cfg cfg Cmd
	assert_equal "$output" '["echo hi"]'
	run inspect_cfg cfg Healthcheck
	assert_equal "$output" '{"Interval":30000000000,"Retries":4,"StartPeriod":60000000000,"Test":["CMD-SHELL","wget -q -O- localhost || exit 1"],"Timeout":5000000000}'
	run_skiff image inspect --format '{{.Author}}' cfg
	assert_equal "$output" "someone@example.com"
}

@test "build: ENTRYPOINT in shell form uses SHELL and clears the base's CMD" {
	dockerfile <<EOF
FROM $CTR_IMAGE
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT echo from-entrypoint
EOF
	run_skiff build -q -t ep "$CTX"
	run inspect_cfg ep Entrypoint
	assert_equal "$output" '["/bin/sh","-ec","echo from-entrypoint"]'
	run inspect_cfg ep Cmd
	assert_equal "$output" 'null'
	run_skiff run --rm ep
	assert_equal "$output" "from-entrypoint"
}

@test "build: RUN sees ENV, ARG, WORKDIR, USER and SHELL" {
	dockerfile <<EOF
FROM $CTR_IMAGE
ARG GREETING=hello
ENV WHO=world
WORKDIR /work/dir
USER 1234
# (no network: the environment is the point here)
RUN --network=none echo "\$GREETING \$WHO \$(pwd) \$(id -u)" >/tmp/out && cat /tmp/out
EOF
	run_skiff build --build-arg GREETING=hi -t envs "$CTX"
	assert_contains "$output" "hi world /work/dir 1234"
	# The ARG is in the environment of RUN only, not of the image.
	run inspect_cfg envs Env
	assert_not_contains "$output" "GREETING"
}

@test "build: layers and history, one layer per RUN and COPY" {
	echo data >"$CTX/file"
	dockerfile <<EOF
FROM $CTR_IMAGE
ENV A=b
RUN echo one >/one
COPY file /file
LABEL x=y
RUN echo two >/two
EOF
	run_skiff build -q -t layered "$CTX"
	base_layers=$(skiff_cmd image inspect --format '{{len .RootFS.Layers}}' "$CTR_IMAGE")
	run_skiff image inspect --format '{{len .RootFS.Layers}}' layered
	assert_equal "$output" "$((base_layers + 3))"
	run_skiff history --no-trunc --format '{{.CreatedBy}}|{{.Size}}' layered
	assert_match "${lines[0]}" '^/bin/sh -c echo two >/two\|'
	assert_match "${lines[1]}" '^/bin/sh -c #\(nop\) LABEL x=y\|0B?$'
	assert_match "${lines[2]}" '^/bin/sh -c #\(nop\) COPY '
	assert_match "${lines[3]}" '^/bin/sh -c echo one >/one\|'
	assert_match "${lines[4]}" '^/bin/sh -c #\(nop\) ENV A=b\|0B?$'
	run_skiff run --rm layered cat /one /two /file
	assert_equal "$output" $'one\ntwo\ndata'
}

@test "build: multi-stage COPY --from and --target skips unneeded stages" {
	dockerfile <<EOF
FROM $CTR_IMAGE AS builder
RUN echo built >/artifact && chown 12:34 /artifact

FROM $CTR_IMAGE AS broken
RUN exit 7

FROM $CTR_IMAGE
COPY --from=builder /artifact /copied
RUN cat /copied
EOF
	run_skiff build -t multi "$CTX"
	assert_contains "$output" "[1/2] STEP 1/2: FROM $CTR_IMAGE AS builder"
	assert_contains "$output" "[2/2] STEP 2/3: COPY --from=builder /artifact /copied"
	assert_not_contains "$output" "exit 7"
	run_skiff run --rm multi stat -c '%u:%g %n' /copied
	assert_equal "$output" "12:34 /copied"
	run_skiff build -q --target builder -t onlybuilder "$CTX"
	run_skiff run --rm onlybuilder cat /artifact
	assert_equal "$output" "built"
	run_skiff 7 build --target broken "$CTX"
}

@test "build: ARG before FROM and --build-arg" {
	dockerfile <<'EOF'
ARG BASE
ARG TAG=latest
FROM ${BASE}:${TAG}
ARG TAG
ARG UNSET
RUN echo "tag=$TAG unset=${UNSET:-none}" >/args
EOF
	run_skiff build -q --build-arg BASE="${CTR_IMAGE%:latest}" -t args "$CTX"
	run_skiff run --rm args cat /args
	assert_equal "$output" "tag=latest unset=none"
}

@test "build: RUN heredocs" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN <<SCRIPT
echo first >/heredoc
echo second >>/heredoc
SCRIPT
RUN cat <<DATA >/data
line one
DATA
RUN <<RUNME
#!/bin/sh
echo "run as \$0" >/shebang
RUNME
EOF
	run_skiff build -q -t heredoc "$CTX"
	run_skiff run --rm heredoc cat /heredoc /data /shebang
	assert_equal "$output" $'first\nsecond\nline one\nrun as /dev/pipes/RUNME'
}

@test "build: RUN --mount=type=cache persists between builds" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN --mount=type=cache,target=/cache echo x >>/cache/count && wc -l </cache/count >/seen
EOF
	run_skiff build -q -t cache1 "$CTX"
	run_skiff run --rm cache1 cat /seen
	assert_equal "$output" "1"
	run_skiff build -q --no-cache -t cache2 "$CTX"
	run_skiff run --rm cache2 cat /seen
	assert_equal "$output" "2"
	# The mount is not part of the image.
	run_skiff run --rm cache2 ls /cache
	assert_equal "$output" ""
}

@test "build: RUN --mount=type=cache with id, uid, gid, mode and sharing=locked" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN --mount=type=cache,id=shared-id,target=/a,uid=1234,gid=5,mode=0710,sharing=locked \
    stat -c '%u %g %a' /a >/owner && echo from-a >/a/file
RUN --mount=type=cache,id=shared-id,target=/b cat /b/file >/seen
EOF
	run_skiff build -q -t cacheopts "$CTX"
	run_skiff run --rm cacheopts cat /owner /seen
	assert_equal "$output" $'1234 5 710\nfrom-a'
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN --mount=type=cache,target=/a,sharing=sometimes true
EOF
	run_skiff --separate-stderr 125 build "$CTX"
	assert_contains "$stderr" "sharing is shared, private or locked"
}

@test "build: RUN --mount=type=bind from the context and from a stage, read-only" {
	echo ctxdata >"$CTX/input"
	dockerfile <<EOF
FROM $CTR_IMAGE AS stage
RUN echo stagedata >/made

FROM $CTR_IMAGE
RUN --mount=type=bind,source=input,target=/in cat /in >/from-ctx
RUN --mount=type=bind,from=stage,source=/made,target=/m cat /m >/from-stage
RUN --mount=type=bind,target=/ctx (touch /ctx/x 2>/dev/null && echo rw || echo ro) >/w
EOF
	run_skiff build -t binds "$CTX"
	run_skiff run --rm binds sh -c 'cat /from-ctx /from-stage /w; ls /in /m 2>&1 | wc -l'
	assert_equal "$output" $'ctxdata\nstagedata\nro\n2'
	[[ ! -e $CTX/x ]] || die "the RUN wrote into the context"
	# A change in a mounted file runs its RUN again, and what follows it.
	echo changed >"$CTX/input"
	run_skiff build -t binds "$CTX"
	assert_equal "$(cached_steps "$output")" "2"
	run_skiff run --rm binds cat /from-ctx
	assert_equal "$output" "changed"
}

@test "build: RUN --mount=type=bind sources stay inside the context" {
	ln -s /etc/hostname "$CTX/link"
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN --mount=type=bind,source=link,target=/l cat /l
EOF
	run_skiff --separate-stderr 125 build "$CTX"
	assert_contains "$stderr" 'bind mount failed: file not found in build context'
}

@test "build: RUN --mount=type=bind,rw may write; the writes are thrown away" {
	mkdir -p "$CTX/d"
	echo orig >"$CTX/d/f"
	echo single >"$CTX/one"
	dockerfile <<EOF
FROM $CTR_IMAGE AS stage
RUN echo stagedata >/made

FROM $CTR_IMAGE
RUN --mount=type=bind,source=d,target=/c,rw sh -c 'echo new >/c/f; touch /c/x; cat /c/f; ls /c' >/ctx-view
RUN --mount=type=bind,source=one,target=/one,rw sh -c 'echo over >/one; cat /one' >/file-view
RUN --mount=type=bind,from=stage,target=/s,rw sh -c 'echo more >>/s/made; cat /s/made' >/stage-view
RUN --mount=type=bind,source=d,target=/c cat /c/f >/after
RUN --mount=type=bind,from=stage,source=/made,target=/m cat /m >/stage-after
EOF
	run_skiff build -t rwbinds "$CTX"
	run_skiff run --rm rwbinds sh -c 'cat /ctx-view /file-view /stage-view /after /stage-after'
	assert_equal "$output" $'new\nf\nx\nover\nstagedata\nmore\norig\nstagedata'
	assert_equal "$(cat "$CTX/d/f") $(cat "$CTX/one")" "orig single" "the context after the build"
	[[ ! -e $CTX/d/x ]] || die "the RUN wrote into the context"
}

@test "build: RUN --network=none has no network" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN --network=none ls /sys/class/net >/nets
EOF
	run_skiff build -q -t nonet "$CTX"
	run_skiff run --rm nonet cat /nets
	assert_equal "$output" "lo"
}

@test "build: ONBUILD triggers are stored and run in the child build" {
	dockerfile <<EOF
FROM $CTR_IMAGE
ONBUILD RUN echo triggered >/onbuild
EOF
	run_skiff build -q -t parent "$CTX"
	run inspect_cfg parent OnBuild
	assert_equal "$output" '["RUN echo triggered >/onbuild"]'
	dockerfile <<EOF
FROM localhost/parent
RUN cat /onbuild
EOF
	run_skiff build -t child "$CTX"
	assert_contains "$output" "triggered"
	run inspect_cfg child OnBuild
	assert_equal "$output" 'null'
}

@test "build: -q prints only the ID, --iidfile gets it" {
	dockerfile <<EOF
FROM $CTR_IMAGE
ENV Q=1
EOF
	run_skiff --separate-stderr build -q --iidfile "$SKIFF_TEST_DIR/iid" "$CTX"
	assert_equal "${#lines[@]}" 1
	assert_match "$output" '^[0-9a-f]{64}$'
	assert_equal "$(cat "$SKIFF_TEST_DIR/iid")" "sha256:$output"
}

@test "build: a cached rebuild reuses every step; a changed file rebuilds from its COPY" {
	mkdir "$CTX/src"
	for i in 1 2 3; do echo "file $i" >"$CTX/src/f$i"; done
	dockerfile <<EOF
FROM $CTR_IMAGE
ENV A=1
RUN echo run1 >/r1
COPY src /src
RUN cat /src/f2 >/r2
LABEL done=yes
EOF
	run_skiff build -t cached "$CTX"
	first=${lines[-1]}
	assert_equal "$(cached_steps "$output")" ""
	run_skiff build -t cached "$CTX"
	assert_equal "$(cached_steps "$output")" "2 3 4 5 6"
	assert_equal "${lines[-1]}" "$first"
	# A new mtime with the same content is still a hit.
	touch -d '2001-01-01' "$CTX/src/f1"
	run_skiff build -t cached "$CTX"
	assert_equal "$(cached_steps "$output")" "2 3 4 5 6"
	# One byte changed: the COPY and everything after it run again.
	echo "file 2!" >"$CTX/src/f2"
	run_skiff build -t cached "$CTX"
	assert_equal "$(cached_steps "$output")" "2 3"
	run_skiff run --rm cached cat /r2
	assert_equal "$output" "file 2!"
	# --no-cache rebuilds everything.
	run_skiff build --no-cache -t cached "$CTX"
	assert_equal "$(cached_steps "$output")" ""
}

@test "build: intermediate images are hidden unless -a, image prune drops the cache" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN echo a >/a
ENV B=c
EOF
	run_skiff images -q
	before=$output
	run_skiff build -q -t pruned "$CTX"
	id=${output:0:12}
	run_skiff images -q
	assert_equal "$output" "$(printf '%s\n%s' "$id" "$before")"
	run_skiff images -a -q
	assert_equal "${#lines[@]}" 3
	run_skiff image prune -f
	run_skiff images -a -q
	assert_equal "${#lines[@]}" 2
	run_skiff build -t pruned "$CTX"
	assert_equal "$(cached_steps "$output")" ""
	# Without a tag the result is listed, as <none>; its steps are not.
	echo "ENV D=e" >>"$CTX/Dockerfile"
	run_skiff build -q "$CTX"
	id=${output:0:12}
	run_skiff images --format '{{.ID}} {{.Repository}}'
	assert_contains "$output" "$id <none>"
}

@test "build: a failing RUN exits with its code and leaves no image or container" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN echo before; exit 3
ENV NEVER=1
EOF
	run_skiff images -a -q
	images_before=$output
	run_skiff --separate-stderr 3 build -t failing "$CTX"
	assert_contains "$output" "before"
	assert_contains "$stderr" 'building at STEP "RUN echo before; exit 3": while running runtime: exit status 3'
	run_skiff images -a -q
	assert_equal "$output" "$images_before"
	run_skiff ps -a -q
	assert_equal "$output" ""
	[[ -z $(ls "$SKIFF_ROOT/containers" 2>/dev/null) ]] || die "a working container's directory is left"
	run_skiff 1 image exists localhost/failing
}

@test "build: working containers are not listed by ps -a" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN ps >/dev/null; echo ok
EOF
	run_skiff run --name keep "$CTR_IMAGE" true
	run_skiff build -q "$CTX"
	run_skiff ps -a --format '{{.Names}}'
	assert_equal "$output" "keep"
}

@test "build: malformed Dockerfiles name the line" {
	printf 'FROM %s\nRUN true\nFROOM x\n' "$CTR_IMAGE" >"$CTX/Dockerfile"
	run_skiff --separate-stderr 125 build "$CTX"
	assert_match "$stderr" 'Dockerfile:3: .*FROOM'
	printf 'RUN true\n' >"$CTX/Dockerfile"
	run_skiff --separate-stderr 125 build "$CTX"
	assert_match "$stderr" 'Dockerfile:1: '
	printf 'FROM %s\nRUN <<EOF\necho never ends\n' "$CTR_IMAGE" >"$CTX/Dockerfile"
	run_skiff --separate-stderr 125 build "$CTX"
	assert_match "$stderr" 'Dockerfile:2: .*EOF'
	printf 'FROM %s\nENV A="unterminated\n' "$CTR_IMAGE" >"$CTX/Dockerfile"
	run_skiff --separate-stderr 125 build "$CTX"
	assert_match "$stderr" 'Dockerfile:2: .*quote'
	printf 'FROM %s\nEXPOSE http\n' "$CTR_IMAGE" >"$CTX/Dockerfile"
	run_skiff --separate-stderr 125 build "$CTX"
	assert_match "$stderr" 'Dockerfile:2: EXPOSE: invalid port "http"'
}

@test "build: --label, --layers=false, image build and --format" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN echo one >/one
RUN echo two >/two
EOF
	run_skiff image build -q --layers=false --label extra=yes --format docker -t nolayers "$CTX"
	run inspect_cfg nolayers Labels
	assert_equal "$output" '{"extra":"yes"}'
	run_skiff images -a -q
	assert_equal "${#lines[@]}" 2
	run_skiff image inspect --format '{{.ManifestType}}' nolayers
	assert_equal "$output" "application/vnd.docker.distribution.manifest.v2+json"
	run_skiff build -q -t oci "$CTX"
	run_skiff image inspect --format '{{.ManifestType}}' oci
	assert_equal "$output" "application/vnd.oci.image.manifest.v1+json"
	run_skiff 125 build --format tar "$CTX"
}

@test "build: FROM scratch" {
	echo content >"$CTX/file"
	dockerfile <<EOF
FROM scratch
COPY file /file
CMD ["/file"]
EOF
	run_skiff build -q -t fromscratch "$CTX"
	run_skiff image inspect --format '{{len .RootFS.Layers}}' fromscratch
	assert_equal "$output" "1"
}

@test "build: --squash merges the new layers into one" {
	echo data >"$CTX/file"
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN mkdir /d && echo 1 >/d/one && echo 2 >/d/two
RUN rm /d/one /bin/vi && echo changed >/d/two
COPY file /d/file
ENV AFTER=1
EOF
	run_skiff build -q --squash -t squashed "$CTX"
	base_layers=$(skiff_cmd image inspect --format '{{len .RootFS.Layers}}' "$CTR_IMAGE")
	run_skiff image inspect --format '{{len .RootFS.Layers}}' squashed
	assert_equal "$output" "$((base_layers + 1))"
	run_skiff run --rm squashed sh -c 'ls /d; cat /d/two; test -e /bin/vi && echo vi-present || echo vi-gone'
	assert_equal "$output" $'file\ntwo\nchanged\nvi-gone'
	run_skiff history --format '{{.CreatedBy}}' squashed
	assert_contains "$output" "ENV AFTER=1"
	assert_contains "$output" "COPY"
}

@test "build: WORKDIR creates its directory when the image lacks it" {
	dockerfile <<EOF
FROM $CTR_IMAGE
WORKDIR /made/here
WORKDIR /tmp
EOF
	run_skiff build -q -t wd "$CTX"
	run_skiff run --rm --workdir / wd stat -c '%a %u %n' /made /made/here
	assert_equal "$output" $'755 0 /made\n755 0 /made/here'
	# The missing directories make a layer; an existing one none.
	base_layers=$(skiff_cmd image inspect --format '{{len .RootFS.Layers}}' "$CTR_IMAGE")
	run_skiff image inspect --format '{{len .RootFS.Layers}}' wd
	assert_equal "$output" "$((base_layers + 1))"
}

@test "build: --build-arg-file, proxy args, unused build args" {
	printf '# a comment\n\nWHO=file\n' >"$SKIFF_TEST_DIR/args"
	dockerfile <<'EOF'
ARG BASE
FROM $BASE
ARG WHO
RUN echo "$WHO ${HTTP_PROXY:-none}" >/out
EOF
	run_skiff --separate-stderr build --build-arg BASE="$CTR_IMAGE" --build-arg-file "$SKIFF_TEST_DIR/args" \
		--build-arg HTTP_PROXY=http://proxy.invalid:3128 --build-arg UNUSED=1 -t argfile "$CTX"
	assert_contains "$stderr" "one or more build args were not consumed: [UNUSED]"
	run_skiff run --rm argfile cat /out
	assert_equal "$output" "file http://proxy.invalid:3128"
	# The proxy is not recorded in the history.
	run_skiff history --no-trunc --format '{{.CreatedBy}}' argfile
	assert_not_contains "$output" "proxy.invalid"
	assert_contains "$output" "|1 WHO=file /bin/sh -c"
}

@test "build: --pull=never with an unknown base fails without pulling" {
	dockerfile <<EOF
FROM localhost/not-there:1
EOF
	run_skiff --separate-stderr 125 build --pull=never "$CTX"
	assert_contains "$stderr" "localhost/not-there:1: image not known"
	run_skiff 125 build --pull=sometimes "$CTX"
}

@test "build: the working container of a killed build shows with ps --external" {
	dockerfile <<EOF
FROM $CTR_IMAGE
RUN sleep 1000
EOF
	skiff_bg "$SKIFF_TEST_DIR/build.out" build "$CTX"
	wait_until 300 has_running_external
	kill -KILL "$SKIFF_BG_PID"
	wait "$SKIFF_BG_PID" || true
	run_skiff ps -a -q
	assert_equal "$output" ""
	run_skiff ps -a --external --no-trunc --format '{{.Command}}'
	assert_contains "$output" "sleep 1000"
	# rm and container prune reach it like any other container.
	run_skiff rm -a -f
	run_skiff ps -a --external -q
	assert_equal "$output" ""
}
