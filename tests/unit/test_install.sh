#!/bin/sh
# `make install DESTDIR=...` from the build tree (make check runs this in
# the build directory): one man page per command, each clean under
# `groff -man -ww`, where man looks for them; the completion scripts where
# bash-completion, zsh and fish look; and `make uninstall` removes all of it.
# Exit 77 (skip) without groff.
set -eu

command -v groff >/dev/null 2>&1 || { echo "groff not installed"; exit 77; }
make=${MAKE:-make}
dest=$(mktemp -d "${TMPDIR:-/tmp}/skiff-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# The one installed file whose path ends in $1.
installed() {
	found=$(find "$dest/root" -path "*$1" -type f)
	[ -n "$found" ] || fail "nothing installed as */$1"
	[ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ] || fail "several */$1: $found"
	printf '%s\n' "$found"
}

$make install DESTDIR="$dest/root" >"$dest/install.log" 2>&1 ||
	{ cat "$dest/install.log"; fail "make install"; }

run_page=$(installed /share/man/man1/skiff-run.1)
installed /share/man/man1/skiff.1 >/dev/null
installed /share/man/man1/skiff-image-ls.1 >/dev/null
installed /share/man/man1/skiff-container-run.1 >/dev/null
for f in completions/bash/skiff:/share/bash-completion/completions/skiff \
	completions/zsh/_skiff:/share/zsh/vendor-completions/_skiff \
	completions/fish/skiff.fish:/share/fish/vendor_completions.d/skiff.fish; do
	./skiff completion "$(basename "$(dirname "${f%%:*}")")" |
		cmp -s - "$(installed "${f#*:}")" || fail "${f#*:} differs from skiff completion"
done

# Every page the binary writes is installed, and nothing else.
./skiff help --man-dir "$dest/pages" >/dev/null || fail "skiff help --man-dir"
mandir=$(dirname "$run_page")
(cd "$dest/pages" && ls) >"$dest/want"
(cd "$mandir" && ls) >"$dest/got"
cmp -s "$dest/want" "$dest/got" || fail "installed pages differ: $(diff "$dest/want" "$dest/got")"
[ "$(wc -l <"$dest/got")" -gt 50 ] || fail "only $(wc -l <"$dest/got") pages"

for page in "$mandir"/*.1; do
	warnings=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$warnings" ] || fail "groff warns on $page: $warnings"
done
if command -v man >/dev/null 2>&1; then
	text=$(MANWIDTH=80 man -l "$run_page" 2>&1)
	case $text in
	*SYNOPSIS*"skiff run [OPTIONS] IMAGE"*--detach*) ;;
	*) fail "man -l skiff-run.1: $text" ;;
	esac
	# `man skiff-image-ls` by name, with the installed tree as MANPATH
	text=$(MANPATH=$(dirname "$mandir") MANWIDTH=80 man -P cat skiff-image-ls 2>&1)
	case $text in
	*"skiff image ls [OPTIONS]"*) ;;
	*) fail "man skiff-image-ls: $text" ;;
	esac
fi

$make uninstall DESTDIR="$dest/root" >"$dest/uninstall.log" 2>&1 ||
	{ cat "$dest/uninstall.log"; fail "make uninstall"; }
left=$(find "$dest/root" -type f)
[ -z "$left" ] || fail "left after make uninstall: $left"
echo "ok: $(wc -l <"$dest/got") man pages and 3 completion scripts installed and removed"
