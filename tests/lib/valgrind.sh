# valgrind.sh: sourced by the scripts that run frost under valgrind's
# memcheck. need_valgrind FROST NAME: exits 77 (ctest: skipped) when FROST
# is a sanitizer build, which valgrind cannot run, and 1 when valgrind is
# missing.
need_valgrind() {
  if ldd "$1" 2>/dev/null | grep -q -e libasan -e libubsan; then
    echo "$2: skipped (frost is built with sanitizers)"
    exit 77
  fi
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "$2: valgrind is missing (scripts/setup installs it)" >&2
    exit 1
  fi
}
