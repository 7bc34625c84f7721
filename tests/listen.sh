#!/bin/bash
# Listen mode: 200 concurrent sessions, a stalled reader that must not grow
# memory, --max-sessions, and a clean exit on SIGTERM.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3 certtool
plan 10
make_pki
H=$top_srcdir/tests/helpers

start_peer echo echo
eport=$port_echo

# relay NAME ARGS...: a listening server-role relay; sets rpid and port.
relay() {
	local name=$1
	shift
	start_relay "$name" -s --cert "$PKI/good.pem" --key "$PKI/good.key" "$@"
}

# 1. 200 sessions at once, each echoing 64 KiB of its own through the backend.
relay many listen:127.0.0.1:0 "127.0.0.1:$eport"
timeout 150 python3 "$H/load.py" concurrent "$port" "$PKI/ca.pem" 200 65536 \
    >"$T/many.out" 2>"$T/many.cerr"
is "$(cat "$T/many.out")" "ok 200" "200 concurrent sessions all echo their data intact"
wait_for_count "$T/many.err" 'session ended' 200 10
is "$(grep -c 'session ended' "$T/many.err")" 200 "the relay logged 200 clean session ends"
kill -0 "$rpid" 2>/dev/null
ok $? "the relay still runs"
kill -TERM "$rpid"
wait_pid "$rpid" 10
is "$?" 0 "SIGTERM: exit status 0"

# 2. A reader that never reads: the high-water mark stops the backend.
mkfifo "$T/flood.in" "$T/stall.in"
python3 "$H/load.py" flood <"$T/flood.in" >"$T/flood.out" &
bg_pids="$bg_pids $!"
exec 7>"$T/flood.in"
wait_for_line "$T/flood.out" '^[0-9]+$' || bail "flood backend did not start"
relay stall listen:127.0.0.1:0 "127.0.0.1:$(head -n 1 "$T/flood.out")"
base=$(awk '/VmRSS/ { print $2 }' "/proc/$rpid/status")
python3 "$H/load.py" stall "$port" "$PKI/ca.pem" <"$T/stall.in" >"$T/stall.out" &
bg_pids="$bg_pids $!"
exec 8>"$T/stall.in"
wait_for_line "$T/stall.out" connected 10
ok $? "the stalled client completed its handshake"
# The backend reports once its writes have been blocked for 2 s.
wait_for_lines "$T/flood.out" 2 120
pushed=$(sed -n 2p "$T/flood.out")
diag "the backend could push $pushed bytes"
[ -n "$pushed" ] && [ "$pushed" -lt $((32 * 1024 * 1024)) ]
ok $? "the backend was stopped after a bounded amount (< 32 MiB of 1 GiB)"
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$rpid/status")
diag "relay RSS: $base KiB at start, $rss KiB at its peak"
[ -n "$rss" ] && [ $((rss - base)) -lt $((16 * 1024)) ]
ok $? "the relay's peak RSS grew by less than 16 MiB"
exec 7>&- 8>&-
kill -TERM "$rpid"
wait_pid "$rpid" 10

# 3. --max-sessions=2: a third client is accepted only after one ends.
relay max --max-sessions=2 listen:127.0.0.1:0 "127.0.0.1:$eport"
for i in 1 2 3; do
	mkfifo "$T/h$i.in"
	# Without the other clients' pipe ends, so that closing one is EOF.
	python3 "$H/load.py" hold "$port" "$PKI/ca.pem" <"$T/h$i.in" \
	    >"$T/h$i.out" 2>&1 7>&- 8>&- &
	bg_pids="$bg_pids $!"
	eval "exec $((6 + i))>\"\$T/h$i.in\""
	[ $i -eq 3 ] || wait_for_line "$T/h$i.out" echoed 10
done
is "$(cat "$T/h1.out")/$(cat "$T/h2.out")" echoed/echoed "two sessions run"
exec 7>&-	# the first client leaves
wait_for_line "$T/h3.out" echoed 20
ok $? "the third session runs once the first has ended"
first_end=$(grep -n 'session ended' "$T/max.err" | head -n 1 | cut -d: -f1)
third=$(grep -n 'connection accepted' "$T/max.err" | sed -n 3p | cut -d: -f1)
[ -n "$first_end" ] && [ -n "$third" ] && [ "$third" -gt "$first_end" ]
ok $? "the third connection was accepted only after a session ended"
exec 8>&- 9>&-
finish
