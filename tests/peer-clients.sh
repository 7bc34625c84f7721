#!/bin/bash
# Server role against real TLS clients: gnutls-cli and openssl s_client,
# 12 MiB each way, and client certificates with --verify-client.
# Neither client keeps reading once the server ends its direction (nor does
# gnutls-cli once its stdin ends), so each side's input stays open until it
# has received everything.  gnutls-cli also leaves without close_notify when
# the server's close_notify comes first, so its relay's input stays open until
# the client has said close_notify.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require gnutls-cli openssl certtool python3
plan 12
make_pki
random_file "$T/a" 12
random_file "$T/b" 12
size=$((12 * 1024 * 1024))

# feed FILE OUT [LOG PATTERN]: FILE, then hold the pipe open until OUT is
# complete (and PATTERN is in LOG).
feed() {
	cat "$1"
	wait_for_size "$2" $size 60 >/dev/null
	[ -z "$3" ] || wait_for_line "$3" "$4" 60 >/dev/null
}

# server NAME ARGS...: a one-shot server-role relay; sets spid and port.
# With $wait_log set, its input also waits for that line in its log.
server() {
	local name=$1
	shift
	"$RELAY" -v -s "$@" listen:127.0.0.1:0 - \
	    < <(feed "$T/a" "$T/$name.sout" ${wait_log:+"$T/$name.serr" "$wait_log"}) \
	    >"$T/$name.sout" 2>"$T/$name.serr" &
	spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_line "$T/$name.serr" 'listening on' || bail "relay did not start"
	port=$(listen_port "$T/$name.serr")
}

check() {	# NAME CLIENT-STATUS DESCRIPTION
	wait_pid "$spid" 30
	local src=$?
	is "$2/$src" 0/0 "$3: client and relay exit 0"
	[ "$src" -eq 0 ] || sed 's/^/# relay: /' "$T/$1.serr"
	is "$(sha "$T/$1.cout")" "$(sha "$T/a")" "$3: relay -> client, 12 MiB intact"
	is "$(sha "$T/$1.sout")" "$(sha "$T/b")" "$3: client -> relay, 12 MiB intact"
}

wait_log="sent TLS close_notify" server gcli -v --cert "$PKI/good.pem" \
    --key "$PKI/good.key"
feed "$T/b" "$T/gcli.cout" | timeout 90 gnutls-cli --x509cafile "$PKI/ca.pem" \
    --logfile "$T/gcli.log" -p "$port" localhost >"$T/gcli.cout" 2>"$T/gcli.cerr"
check gcli "${PIPESTATUS[1]}" "gnutls-cli"

server scli --cert "$PKI/good.pem" --key "$PKI/good.key"
timeout 90 openssl s_client -quiet -verify_return_error -CAfile "$PKI/ca.pem" \
    -servername localhost -connect "127.0.0.1:$port" <"$T/b" \
    >"$T/scli.cout" 2>"$T/scli.cerr"
check scli "$?" "openssl s_client"

# --verify-client: a certificate from the CA gets in, none does not.
server vc --cert "$PKI/good.pem" --key "$PKI/good.key" --verify-client \
    --cafile "$PKI/ca.pem"
timeout 90 openssl s_client -quiet -verify_return_error -CAfile "$PKI/ca.pem" \
    -cert "$PKI/client.pem" -key "$PKI/client.key" -servername localhost \
    -connect "127.0.0.1:$port" <"$T/b" >"$T/vc.cout" 2>"$T/vc.cerr"
check vc "$?" "client certificate verified"
grep -q 'peer CN=test client, verified yes' "$T/vc.serr"
ok $? "-v names the verified client"

server novc --cert "$PKI/good.pem" --key "$PKI/good.key" --verify-client \
    --cafile "$PKI/ca.pem"
printf 'x\n' | timeout 30 gnutls-cli --x509cafile "$PKI/ca.pem" \
    --logfile "$T/novc.log" -p "$port" localhost >/dev/null 2>&1
wait_pid "$spid" 30
is "$?" 5 "no client certificate: the relay's session fails with status 5"
grep -qi 'certificate' "$T/novc.serr"
ok $? "and says it was about the certificate"
finish
