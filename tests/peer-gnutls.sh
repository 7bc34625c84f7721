#!/bin/bash
# Client role against gnutls-serv (GnuTLS's test server): data both ways
# through its echo mode, TLS 1.2 and 1.3.  Certificate attacks are in
# tests/attacks/certificates.sh.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require gnutls-serv certtool python3
plan 6
make_pki

# serve NAME CERT [ARGS...]: an echo server with CERT; sets port_NAME.
serve() {
	local name=$1 cert=$2 p
	shift 2
	p=$(free_port)
	bg gnutls-serv --echo -p "$p" --x509certfile "$PKI/$cert.pem" \
	    --x509keyfile "$PKI/$cert.key" "$@" >"$T/gs-$name.log" 2>&1
	wait_for_port "$p" || bail "gnutls-serv did not start: $(cat "$T/gs-$name.log")"
	eval "port_$name=$p"
}
serve good good
serve tls12 good --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2'

# Its echo mode is line-oriented: 12 MiB of base64 lines.
random_file "$T/raw" 9
base64 "$T/raw" >"$T/in"

timeout 60 "$RELAY" -v --cafile "$PKI/ca.pem" "localhost:$port_good" \
    <"$T/in" >"$T/out" 2>"$T/err"
ok $? "verified session to gnutls-serv exits 0"
is "$(sha "$T/out")" "$(sha "$T/in")" "12 MiB echoed intact (both directions)"
grep -q 'TLS1.3' "$T/err"
ok $? "-v reports TLS 1.3"
grep -q 'verified yes' "$T/err"
ok $? "-v reports the certificate as verified"

head -c 100000 "$T/in" >"$T/small"
timeout 30 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port_tls12" \
    <"$T/small" >"$T/out12" 2>"$T/err12"
is "$?/$(sha "$T/out12")" "0/$(sha "$T/small")" "TLS 1.2 server: exit 0, echo intact"

dead_port >"$T/dead.port"; dead=$(cat "$T/dead.port")
timeout 30 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$dead" </dev/null \
    >/dev/null 2>"$T/ed"
is "$?" 3 "a dead port: status 3"
finish
