#!/bin/bash
# Each fuzz target over its corpus (tests/fuzz/corpus/NAME): proto, every
# STARTTLS state machine in both roles, and options.  Built with
# --enable-fuzzing, each also fuzzes for FUZZ_SECONDS (default 5) and
# reports the executions; a crash fails the test and its input is kept in
# $T/NAME-crashes for tests/fuzz/corpus/NAME (a regression input).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
targets="proto options"
plan $(echo $targets | wc -w)
for t in $targets; do
	bin=$top_builddir/tests/fuzz/$t
	corpus=$top_srcdir/tests/fuzz/corpus/$t
	if [ "${FUZZING:-no}" = yes ]; then
		mkdir -p "$T/$t" "$T/$t-crashes"
		timeout $(( ${FUZZ_SECONDS:-5} + 60 )) "$bin" \
		    -max_total_time="${FUZZ_SECONDS:-5}" -timeout=10 -rss_limit_mb=512 \
		    -artifact_prefix="$T/$t-crashes/" "$T/$t" "$corpus" >"$T/$t.log" 2>&1
		rc=$?
		diag "$t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$T/$t.log")"
	else
		timeout 60 "$bin" "$corpus"/* >"$T/$t.log" 2>&1
		rc=$?
	fi
	ok $rc "$t: $(tail -n 1 "$T/$t.log")" || sed 's/^/# /' "$T/$t.log" | tail -20
done
finish
