#!/bin/bash
# Command-line behaviour of the binary: usage errors, --help, --version,
# --keylog and SSLKEYLOGFILE, --alpn, --timeout, --idle-timeout, --insecure.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3 certtool
plan 31
make_pki
umask 022

usage() {	# DESCRIPTION ARGS...: status 2 and one line on stderr
	local d=$1 rc
	shift
	timeout 10 "$RELAY" "$@" </dev/null >"$T/uo" 2>"$T/ue"
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$T/ue")" -eq 1 ] &&
	    grep -q '^starttls-relay: ' "$T/ue" && [ ! -s "$T/uo" ]; then
		ok 0 "$d: status 2, one line"
	else
		ok 1 "$d: status 2, one line (got $rc)"
		sed 's/^/# /' "$T/ue"
	fi
}
usage "no address"
usage "unknown option" --bogus 127.0.0.1:1
usage "bad address" nohost
usage "server role without a certificate" -s listen:1
usage "unreadable certificate" -s --cert /nonexistent listen:1
usage "unreadable CA file" --cafile /nonexistent 127.0.0.1:1
usage "bad priority string" --priority 'NOT-A-PRIORITY' 127.0.0.1:1
usage "bad pin" --pin sha256:abc 127.0.0.1:1
usage "Unix socket without a name to verify" unix:/nonexistent
usage "unknown protocol" --proto gopher 127.0.0.1:1
ln -s "$T/secrets" "$T/keylink"
usage "--keylog through a symbolic link" --keylog "$T/keylink" 127.0.0.1:1
SSLKEYLOGFILE=$T/keylink usage "SSLKEYLOGFILE through a symbolic link" 127.0.0.1:1
[ ! -e "$T/secrets" ]
ok $? "and the link's target was not created"
mkfifo "$T/keyfifo"
usage "--keylog on a FIFO" --keylog "$T/keyfifo" 127.0.0.1:1

"$RELAY" --help >"$T/help" 2>&1
is "$?/$(grep -c -- '--self-signed' "$T/help")" 0/1 "--help: status 0, lists the options"
"$RELAY" --version >"$T/version" 2>&1
grep -Eq '^starttls-relay [0-9.]+ \(GnuTLS [0-9.]+, libuv [0-9.]+\)$' "$T/version"
ok $? "--version names the GnuTLS and libuv versions"

# pair ARGS-SERVER -- ARGS-CLIENT: one session, the server prints "hello".
pair() {
	local sargs=()
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	rm -f "$T/p.serr"	# no stale "listening on" from the last run
	printf 'hello\n' | "$RELAY" -v -s --cert "$PKI/good.pem" \
	    --key "$PKI/good.key" "${sargs[@]}" listen:127.0.0.1:0 - \
	    >"$T/p.sout" 2>"$T/p.serr" &
	spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_line "$T/p.serr" 'listening on' || return
	port=$(listen_port "$T/p.serr")
	timeout 30 "$RELAY" -v --cafile "$PKI/ca.pem" "$@" "localhost:$port" \
	    </dev/null >"$T/p.cout" 2>"$T/p.cerr"
	crc=$?
	wait_pid "$spid" 30
	src=$?
}

pair -- --keylog "$T/keys"
is "$crc/$src/$(cat "$T/p.cout")" 0/0/hello "--keylog: the session works"
is "$(stat -c %a "$T/keys")" 600 "--keylog creates the file mode 0600 (umask 022)"
grep -Eq '^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]+$' "$T/keys"
ok $? "--keylog writes NSS key-log lines"
grep -Eq 'summary: none, \(TLS1\.3\).*AES-128-GCM.*peer CN=localhost, verified yes; 0 bytes to localhost:[0-9]+, 6 bytes to -, [0-9.e-]+ s$' "$T/p.cerr"
ok $? "-v: the client's last line sums the session up" || sed 's/^/# /' "$T/p.cerr"
grep -Eq 'summary: none, \(TLS1\.3\).*; 6 bytes to TLS client 127\.0\.0\.1:[0-9]+, 0 bytes to -' "$T/p.serr"
ok $? "-v: and so does the server's" || sed 's/^/# /' "$T/p.serr"

SSLKEYLOGFILE=$T/envkeys pair --
grep -q '^SERVER_TRAFFIC_SECRET_0 ' "$T/envkeys"
ok $? "SSLKEYLOGFILE is honoured"
is "$(stat -c %a "$T/envkeys")" 600 "SSLKEYLOGFILE is created mode 0600, not GnuTLS's 0644"
is "$(grep -c '^CLIENT_HANDSHAKE_TRAFFIC_SECRET ' "$T/envkeys")" 2 \
    "and holds each side's lines once (GnuTLS does not write them too)"

# An existing key log of ours that others can read is tightened.
: >"$T/oldkeys"
chmod 644 "$T/oldkeys"
pair -- --keylog "$T/oldkeys"
is "$crc/$(stat -c %a "$T/oldkeys")" 0/600 "an existing key log readable by others: made 0600"

pair --alpn=h2,http/1.1 -- --alpn=http/1.1
grep -q 'ALPN http/1.1' "$T/p.cerr" && grep -q 'ALPN http/1.1' "$T/p.serr"
ok $? "--alpn: both ends report the protocol they agreed on"

pair --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2' -- --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3'
is "$crc/$src" 5/5 "no common TLS version: both fail the handshake (status 5)"

pair -- --insecure
grep -q 'NOT verified' "$T/p.cerr"
ok $? "--insecure warns on stderr" || sed 's/^/# /' "$T/p.cerr" "$T/p.serr"

# --timeout: a server that accepts and never answers.
bg python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True)
c = [s.accept() for _ in range(2)]
time.sleep(60)' >"$T/mute.port"
wait_for_line "$T/mute.port" '^[0-9]+$'
mport=$(cat "$T/mute.port")
# A numeric address and a bound well above the connect's (valgrind on a
# loaded machine takes its time): the handshake is what times out.
timeout 30 "$RELAY" --timeout=2 --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$mport" </dev/null >/dev/null 2>"$T/to.err"
is "$?" 5 "--timeout: a silent server ends the handshake with status 5"
grep -q 'timed out' "$T/to.err"
ok $? "and the error says it timed out"

# --idle-timeout: a session nobody speaks in is closed, status 0.
printf '' | "$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    --idle-timeout=0.5 listen:127.0.0.1:0 - >/dev/null 2>"$T/idle.serr" &
spid=$!
bg_pids="$bg_pids $spid"
wait_for_line "$T/idle.serr" 'listening on'
port=$(listen_port "$T/idle.serr")
# The client's input stays open (a FIFO nobody writes to) until it exits.
mkfifo "$T/idle.in"
exec 9<>"$T/idle.in"
timeout 30 "$RELAY" --idle-timeout=0.5 --cafile "$PKI/ca.pem" "localhost:$port" \
    <"$T/idle.in" >/dev/null 2>"$T/idle.cerr"
is "$?" 0 "--idle-timeout: an idle session ends with status 0"
exec 9>&-
finish
