# build.sh: cmake --build with a line of progress now and then, for
# scripts/setup and scripts/test (sourced with `.`). POSIX sh.
#
#   frost_build DIR WHAT
#
# The build's own output goes to DIR/build.log. On stdout: "WHAT: 40%
# (1m52s)" when the build passes a tenth at least 10 s after the last such
# line (a build of minutes says where it is; an up-to-date one stays
# quiet), then "WHAT: built in 4m31s". When the build fails, the last 40
# lines of its log go to stderr and the status is the build's.

# shellcheck shell=sh
frost_build() {
  fb_dir=$1
  fb_what=$2
  fb_status=0
  { cmake --build "$fb_dir" -j "$(nproc)" 2>&1; echo "frost-build-status $?"; } |
    tee "$fb_dir/build.log" | {
      start=$(date +%s) last=$start tenth=0 status=1
      # (read line by line: awk would wait for a full buffer of a pipe)
      while IFS= read -r line; do
        p=
        case $line in
          "frost-build-status "*) status=${line#frost-build-status } ;;
          "["*"%]"*) p=${line#\[}; p=${p%%%\]*} ;;            # make: [ 44%]
          "["*/*"]"*) p=${line#\[}; p=${p%%\]*}               # ninja: [12/80]
             case $p in *[!0-9/]* | */*/* | /* | */) p= ;;
                        *) p=$((100 * ${p%/*} / ${p#*/})) ;; esac ;;
        esac
        p=${p# }; p=${p# } # ("[  4%]")
        case $p in '' | *[!0-9]*) continue ;; esac
        [ "$p" -ge $((tenth + 10)) ] || continue
        tenth=$((p - p % 10))
        now=$(date +%s)
        if [ $((now - last)) -ge 10 ]; then
          printf '%s: %d%% (%dm%02ds)\n' "$fb_what" "$tenth" $(((now - start) / 60)) $(((now - start) % 60))
          last=$now
        fi
      done
      now=$(date +%s)
      [ "$status" -ne 0 ] ||
        printf '%s: built in %dm%02ds\n' "$fb_what" $(((now - start) / 60)) $(((now - start) % 60))
      exit "$status"
    } || fb_status=$?
  if [ "$fb_status" -ne 0 ]; then
    echo "$fb_what: the build failed (status $fb_status); the end of $fb_dir/build.log:" >&2
    tail -n 40 "$fb_dir/build.log" >&2
  fi
  return "$fb_status"
}
