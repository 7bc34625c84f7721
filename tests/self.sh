#!/bin/bash
# The program against itself: a one-shot server role (listen, plain side
# stdio) and the client role, 12 MiB each way, checked by SHA-256: with a CA
# and --cafile, with --self-signed and the pin it prints, over TCP, IPv6 and
# Unix sockets; half-close each way, also seen through pipes; and the whole
# chain in listen mode (plain client -> client relay -> TLS -> server relay
# -> echo backend).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/helpers/harness.sh"
require_peer certtool "$PYTHON"
plan 31
make_pki
random_file "$T/a" 12
random_file "$T/b" 12
: >"$T/empty"
A=$(sha "$T/a")
B=$(sha "$T/b")
MiB12=$((12 * 1024 * 1024))
pin_good=$(pin_of "$PKI/good.pem")

# pair NAME SRV-IN CLI-IN SERVER-ARGS... -- CLIENT-ARGS...
# A one-shot server relay (stdin SRV-IN, stdout $T/NAME.sout), then a client
# relay (stdin CLI-IN, stdout $T/NAME.cout); "PORT" in CLIENT-ARGS becomes
# the server's port.  Sets crc and src, the two exit statuses.
pair() {
	local name=$1 sin=$2 cin=$3 sargs=() cargs=()
	shift 3
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	crc=none src=none
	start_relay "$name.s" "${sargs[@]}" <"$sin" >"$T/$name.sout" || return
	cargs=("${@//PORT/$relay_port}")
	timeout 120 "$RELAY" "${cargs[@]}" <"$cin" >"$T/$name.cout" \
	    2>"$T/$name.c.err"
	crc=$?
	wait_pid "$relay_pid" 60
	src=$?
	[ "$crc" = 0 ] || show "$T/$name.c.err" "client: "
	[ "$src" = 0 ] || show "$T/$name.s.err" "server: "
}

cert=(--cert "$PKI/good.pem" --key "$PKI/good.key")

# 1-3: CA-signed certificate, verified by --cafile against the IP address.
pair ca "$T/a" "$T/b" -s "${cert[@]}" listen:127.0.0.1:0 - -- \
    --cafile "$PKI/ca.pem" 127.0.0.1:PORT
is "$crc/$src" 0/0 "--cafile, CA-signed certificate: both exit 0"
is "$(sha "$T/ca.cout")" "$A" "server -> client: 12 MiB intact"
is "$(sha "$T/ca.sout")" "$B" "client -> server: 12 MiB intact"

# 4-6: --self-signed; the client trusts it by the pin the server printed.
start_relay ss -s --self-signed listen:127.0.0.1:0 - <"$T/a" >"$T/ss.sout"
spin=$(printed_pin "$T/ss.err")
timeout 120 "$RELAY" --insecure --pin="$spin" "127.0.0.1:$relay_port" \
    <"$T/b" >"$T/ss.cout" 2>"$T/ss.c.err"
crc=$?
wait_pid "$relay_pid" 60
is "$crc/$?" 0/0 "--self-signed, client --insecure --pin=<printed pin>: both exit 0"
is "$(sha "$T/ss.cout")/$(sha "$T/ss.sout")" "$A/$B" \
    "--self-signed: 12 MiB intact each way"
grep -q 'pin only' "$T/ss.c.err" 2>/dev/null || grep -q -- '--insecure' "$T/ss.c.err"
ok $? "--insecure warns on stderr"

# 7-8: --pin is checked in addition to verification: alone it does not make
# a self-signed certificate trusted.
start_relay ss2 -s --self-signed listen:127.0.0.1:0 - </dev/null >/dev/null
spin=$(printed_pin "$T/ss2.err")
timeout 30 "$RELAY" --pin="$spin" "127.0.0.1:$relay_port" </dev/null \
    >"$T/ss2.cout" 2>"$T/ss2.c.err"
crc=$?
wait_pid "$relay_pid" 30
is "$crc" 6 "--pin without --insecure, self-signed server: status 6"
[ "$(wc -l <"$T/ss2.c.err")" -eq 1 ] && grep -q '^starttls-relay: ' "$T/ss2.c.err"
ok $? "... with one line on stderr"

# 9-10: the wrong pin: status 6 for the client, 5 (handshake) for the server.
start_relay ss3 -s --self-signed listen:127.0.0.1:0 - </dev/null >/dev/null
timeout 30 "$RELAY" --insecure --pin="$pin_good" "127.0.0.1:$relay_port" \
    </dev/null >"$T/ss3.cout" 2>"$T/ss3.c.err"
crc=$?
wait_pid "$relay_pid" 30
is "$crc/$?" 6/5 "another key's pin: client status 6, server status 5"
grep -q '^starttls-relay: .*pin' "$T/ss3.c.err"
ok $? "the client's error line names the pin"

# 11-12: a pin that matches, on top of CA verification.
pair pin "$T/a" "$T/b" -s "${cert[@]}" listen:127.0.0.1:0 - -- \
    --cafile "$PKI/ca.pem" --pin="$pin_good" localhost:PORT
is "$crc/$src" 0/0 "--cafile and the right --pin: both exit 0"
is "$(sha "$T/pin.cout")/$(sha "$T/pin.sout")" "$A/$B" "data intact both ways"

# 13-14: over a Unix-domain socket.
pair unix "$T/a" "$T/b" -s "${cert[@]}" "unix-listen:$T/sock" - -- \
    --cafile "$PKI/ca.pem" --servername localhost "unix:$T/sock"
is "$crc/$src" 0/0 "unix-listen: / unix: with --servername: both exit 0"
is "$(sha "$T/unix.cout")/$(sha "$T/unix.sout")" "$A/$B" \
    "Unix socket: 12 MiB intact each way"

# 15-16: over IPv6, the certificate checked against ::1.
if have_ipv6; then
	pair v6 "$T/a" "$T/b" -s "${cert[@]}" 'listen:[::1]:0' - -- \
	    --cafile "$PKI/ca.pem" '[::1]:PORT'
	is "$crc/$src" 0/0 "IPv6 [::1], certificate verified for ::1: both exit 0"
	is "$(sha "$T/v6.cout")/$(sha "$T/v6.sout")" "$A/$B" \
	    "IPv6: 12 MiB intact each way"
else
	skip "no IPv6 loopback on this machine"
	skip "no IPv6 loopback on this machine"
fi

# 17-19: half-close, the client's input ends first: its close_notify goes
# out at once, the server keeps sending and all of it arrives.
pair hc1 "$T/a" "$T/empty" -s "${cert[@]}" listen:127.0.0.1:0 - -- \
    --cafile "$PKI/ca.pem" localhost:PORT
is "$crc/$src" 0/0 "client's input ends first: both exit 0"
is "$(sha "$T/hc1.cout")" "$A" "... the server's 12 MiB still arrive"
is "$(fsize "$T/hc1.sout")" 0 "... the server's plain side gets EOF and nothing else"

# 20-21: half-close, the server's input ends first.
pair hc2 "$T/empty" "$T/b" -s "${cert[@]}" listen:127.0.0.1:0 - -- \
    --cafile "$PKI/ca.pem" localhost:PORT
is "$crc/$src" 0/0 "server's input ends first: both exit 0"
is "$(sha "$T/hc2.sout")" "$B" "... the client's 12 MiB still arrive"

# 22-27: half-close through pipes, each way.  The relay whose TLS peer has
# ended must end its plain output (its reader sees EOF) while its own input
# is still open, and still relay that input afterwards.  Every process
# started after a fifo's writer end (fd 7) is open gets 7>&-, so that
# closing fd 7 is the only EOF.
#   (a) the client relay is watched: the server sends 12 MiB and ends.
mkfifo "$T/pc.in" "$T/pc.out"
(cat "$T/pc.out" >"$T/pc.got"; echo eof >"$T/pc.eof") &
bg_pids="$bg_pids $!"
start_relay pc.s -s "${cert[@]}" listen:127.0.0.1:0 - <"$T/a" >"$T/pc.sout"
spid=$relay_pid
"$RELAY" --cafile "$PKI/ca.pem" "localhost:$relay_port" \
    <"$T/pc.in" >"$T/pc.out" 2>"$T/pc.c.err" &
cpid=$!
bg_pids="$bg_pids $cpid"
exec 7>"$T/pc.in"
wait_for_line "$T/pc.eof" eof 120
alive "$cpid"
ok $? "pipes, server ends first: the client closes its stdout while its stdin is open"
is "$(sha "$T/pc.got")" "$A" "... after the server's 12 MiB"
head -c 1048576 "$T/b" >"$T/b1"
cat "$T/b1" >&7
exec 7>&-
wait_pid "$cpid" 60
crc=$?
wait_pid "$spid" 60
is "$crc/$?/$(sha "$T/pc.sout")" "0/0/$(sha "$T/b1")" \
    "... then the client's input still reaches the server; both exit 0"

#   (b) the server relay is watched: the client sends 12 MiB and ends.
mkfifo "$T/ps.in" "$T/ps.out"
(cat "$T/ps.out" >"$T/ps.got"; echo eof >"$T/ps.eof") &
bg_pids="$bg_pids $!"
"$RELAY" -v -s "${cert[@]}" listen:127.0.0.1:0 - <"$T/ps.in" \
    >"$T/ps.out" 2>"$T/ps.s.err" &
spid=$!
bg_pids="$bg_pids $spid"
exec 7>"$T/ps.in"
wait_for_line "$T/ps.s.err" 'listening on' 20
port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$T/ps.s.err" | head -n 1)
"$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" <"$T/b" \
    >"$T/ps.cout" 2>"$T/ps.c.err" 7>&- &
cpid=$!
bg_pids="$bg_pids $cpid"
wait_for_line "$T/ps.eof" eof 120
alive "$spid"
ok $? "pipes, client ends first: the server closes its stdout while its stdin is open"
is "$(sha "$T/ps.got")" "$B" "... after the client's 12 MiB"
head -c 1048576 "$T/a" >"$T/a1"
cat "$T/a1" >&7
exec 7>&-
wait_pid "$spid" 60
src=$?
wait_pid "$cpid" 60
is "$src/$?/$(sha "$T/ps.cout")" "0/0/$(sha "$T/a1")" \
    "... then the server's input still reaches the client; both exit 0"

# 28-31: listen mode on both: plain client (socat) -> client relay
# (listen:, plain side) -> TLS -> server relay (listen:) -> echo backend.
if require_peer socat; then
	"$PYTHON" "$HELPERS/peers.py" echo >"$T/echo.port" 2>"$T/echo.err" &
	bg_pids="$bg_pids $!"
	wait_for_line "$T/echo.port" '^[0-9]+$' 20
	eport=$(head -n 1 "$T/echo.port")
	start_relay chain.s -s --self-signed listen:127.0.0.1:0 "127.0.0.1:$eport" \
	    </dev/null >/dev/null
	chs=$relay_pid
	spin=$(printed_pin "$T/chain.s.err")
	start_relay chain.c --insecure --pin="$spin" "127.0.0.1:$relay_port" \
	    listen:127.0.0.1:0 </dev/null >/dev/null
	chc=$relay_pid
	good=0
	for i in 1 2 3; do
		timeout 60 socat -t 30 - "TCP:127.0.0.1:$relay_port" <"$T/a" \
		    >"$T/chain$i.out" 2>"$T/chain$i.err"
		[ "$(sha "$T/chain$i.out")" = "$A" ] && good=$((good + 1))
	done
	is "$good" 3 "listen mode at both ends: 3 sessions echo 12 MiB intact through the chain"
	alive "$chc" && alive "$chs"
	ok $? "both listening relays keep running after their sessions"
	kill -TERM "$chc"
	wait_pid "$chc" 20
	is "$?" 0 "client-role listener: SIGTERM, status 0"
	kill -TERM "$chs"
	wait_pid "$chs" 20
	is "$?" 0 "server-role listener: SIGTERM, status 0"
else
	skip_or_fail 4 "socat is not installed"
fi
finish
