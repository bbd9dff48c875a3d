# expect.sh: the checks shared by the CLI test scripts (tests/cli/bad-inputs.sh,
# tests/hostile/hostile.sh), sourced with `.`. POSIX sh.
#
# The sourcing script sets FROST (the frost command) and T (a scratch
# folder; commands write their outputs to $T/out). Each check is one case:
# it adds 1 to count, and 1 to fails when the case fails.

# shellcheck shell=sh
count=0
fails=0

# no_leftovers NAME: the output folder holds nothing (or is absent).
no_leftovers() {
  if [ -d "$T/out" ] && [ -n "$(ls -A "$T/out")" ]; then
    echo "FAIL $1: left files in the output folder: $(ls -A "$T/out" | tr '\n' ' ')"
    fails=$((fails + 1))
    return 1
  fi
  return 0
}

# TIME_LIMIT (seconds), when set, bounds each command with timeout(1): a
# command that hangs (a FIFO opened for reading waits for a writer) fails
# its case with status 124 instead of stalling the suite.
TIME_LIMIT=
bounded() {
  if [ -n "$TIME_LIMIT" ]; then
    timeout -k 5 "$TIME_LIMIT" "$@"
  else
    "$@"
  fi
}

# check_error NAME PATTERN CMD ARGS...: CMD exits with status 1, prints
# exactly one line on stderr, "PROG: error: " (PROG the base name of CMD)
# then text matching PATTERN (a grep regex), and leaves no file in $T/out.
check_error() {
  name=$1
  pattern=$2
  prog=$(basename -- "$3")
  shift 2
  count=$((count + 1))
  rm -rf "$T/out"
  bounded "$@" >"$T/stdout" 2>"$T/stderr"
  rc=$?
  lines=$(wc -l <"$T/stderr")
  if [ "$rc" -ne 1 ] || [ "$lines" -ne 1 ] ||
     ! grep -q "^$prog: error: .*$pattern" "$T/stderr"; then
    echo "FAIL $name: rc=$rc, expected /$pattern/, stderr:"
    head -c 2000 "$T/stderr"
    fails=$((fails + 1))
  elif no_leftovers "$name"; then
    echo "ok   $name: $(cut -c1-160 "$T/stderr")"
  fi
}

# expect_error NAME PATTERN -- frost args...: check_error on $FROST.
expect_error() {
  name=$1
  pattern=$2
  shift 3
  check_error "$name" "$pattern" "$FROST" "$@"
}

# expect_exe_error NAME PATTERN -- EXE args...: check_error on an executable
# built by frost compile (its errors start "EXE: error: ").
expect_exe_error() {
  name=$1
  pattern=$2
  shift 3
  check_error "$name" "$pattern" "$@"
}

# expect_ok NAME -- frost args...: frost exits with status 0.
expect_ok() {
  name=$1
  shift 2
  count=$((count + 1))
  rm -rf "$T/out"
  if bounded "$FROST" "$@" >"$T/stdout" 2>"$T/stderr"; then
    echo "ok   $name: runs"
  else
    echo "FAIL $name: rc=$?, stderr:"
    head -c 2000 "$T/stderr"
    fails=$((fails + 1))
  fi
}

# expect_done WHAT: prints the tally; its status is 0 when every case
# passed (end the script with it).
expect_done() {
  echo "$((count - fails)) of $count $1"
  [ "$fails" -eq 0 ]
}
