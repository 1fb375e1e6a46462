#!/usr/bin/env bash
# Build and run guard's fuzz targets, one at a time.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Each target (all by default) runs for SECONDS in one libFuzzer process
# (no -jobs/-workers: a single in-process fuzzer, nothing forked), starting
# from its seeds (fuzz/seeds/<target>/, copied into the working corpus
# fuzz/corpus/<target>/). Crashes, timeouts and OOMs are saved in
# fuzz/artifacts/<target>/, the fuzzer's output in fuzz/run-logs/<target>.log.
# At the end: per target, the executions, the time and any
# crash/timeout/oom/leak artifact; exit 1 if there is one.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). The toolchain is stable:
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the nightly flags it needs.
# FUZZ_SANITIZER=none builds without AddressSanitizer (default: address).
set -u

usage() {
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
SECONDS_PER_TARGET=$1
shift
case $SECONDS_PER_TARGET in
'' | *[!0-9]*) usage ;;
esac

FUZZ_DIR=$(cd "$(dirname "$0")" && pwd)
cd "$FUZZ_DIR" || exit 2
export RUSTC_BOOTSTRAP=1
SANITIZER=${FUZZ_SANITIZER:-address}

ALL_TARGETS=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^guard-fuzz$')
if [ $# -gt 0 ]; then
    TARGETS=$*
    for t in $TARGETS; do
        if ! grep -qx "$t" <<<"$ALL_TARGETS"; then
            echo "unknown target: $t (targets: $(echo $ALL_TARGETS))" >&2
            exit 2
        fi
    done
else
    TARGETS=$ALL_TARGETS
fi

# The targets are built once, here, and the runs use those binaries: sources edited while a
# long campaign runs do not rebuild (or change) the targets midway.
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
echo "== building ($SANITIZER sanitizer): $(echo $TARGETS)"
for t in $TARGETS; do
    if ! cargo fuzz build -s "$SANITIZER" "$t"; then
        echo "build of $t failed" >&2
        exit 2
    fi
done

mkdir -p run-logs
declare -A EXECS TIMES RESULT
failed=0

for t in $TARGETS; do
    corpus=corpus/$t
    artifacts=artifacts/$t
    log=run-logs/$t.log
    mkdir -p "$corpus" "$artifacts"
    if [ -d "seeds/$t" ]; then
        cp -n seeds/"$t"/* "$corpus"/ 2>/dev/null
    fi
    marker=$(mktemp)
    echo "== $t: ${SECONDS_PER_TARGET}s, corpus $(ls "$corpus" | wc -l) files, log fuzz/$log"
    start=$(date +%s)
    # fuzz/options/<target>: extra libFuzzer flags of one target, with the reason beside them.
    extra=$(sed -n 's/^\(-[^ ]*\).*/\1/p' "options/$t" 2>/dev/null)
    # Without leak detection, LeakSanitizer's check at exit is off too.
    asan=${ASAN_OPTIONS:-}
    case " $extra " in *" -detect_leaks=0 "*) asan="${asan:+$asan:}detect_leaks=0" ;; esac
    # What `cargo fuzz run` adds under AddressSanitizer.
    [ "$SANITIZER" = address ] && asan="${asan:+$asan:}detect_odr_violation=0"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=$asan "target/$TRIPLE/release/$t" "$corpus" $extra \
        -max_total_time="$SECONDS_PER_TARGET" \
        -rss_limit_mb=2048 \
        -timeout=10 \
        -max_len=65536 \
        -print_final_stats=1 \
        -artifact_prefix="$FUZZ_DIR/$artifacts/" \
        >"$log" 2>&1
    rc=$?
    end=$(date +%s)

    # Executions: the final stats line, else libFuzzer's "Done N runs".
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    EXECS[$t]=${execs:-?}
    TIMES[$t]=$((end - start))

    found=$(find "$artifacts" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    new=$(find "$artifacts" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    rm -f "$marker"
    if [ -n "$found" ]; then
        failed=1
        RESULT[$t]="FAIL: $(echo "$found" | wc -l) artifact(s) ($(echo "$new" | grep -c .) new): $(echo $found)"
        echo "$t: artifacts:"
        echo "$found" | sed 's/^/    fuzz\//'
        # The panic message and guard's frames, if the run found it.
        grep -m1 -A3 "panicked at" "$log" | sed 's/^/    /'
    elif [ "$rc" -ne 0 ]; then
        failed=1
        RESULT[$t]="FAIL: fuzzer exited $rc without an artifact (see fuzz/$log)"
    else
        RESULT[$t]="ok"
    fi
    echo "$t: ${EXECS[$t]} execs in ${TIMES[$t]}s: ${RESULT[$t]}"
done

echo
echo "== summary (${SECONDS_PER_TARGET}s per target, $SANITIZER sanitizer)"
printf '%-12s %12s %8s  %s\n' target execs time result
for t in $TARGETS; do
    printf '%-12s %12s %7ss  %s\n' "$t" "${EXECS[$t]}" "${TIMES[$t]}" "${RESULT[$t]}"
done
exit $failed
