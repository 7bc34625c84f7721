#!/bin/bash
# Client role against gnutls-serv (GnuTLS's test server): data both ways
# through its echo mode, and every way a certificate can fail to verify.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require gnutls-serv certtool python3
plan 19
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
serve wrong wrong
serve expired expired
serve future future
serve self self
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

expect6() {	# DESCRIPTION REGEX RELAY-ARGS...
	local d=$1 re=$2 rc
	shift 2
	timeout 30 "$RELAY" "$@" <"$T/small" >"$T/o6" 2>"$T/e6"
	rc=$?
	is "$rc" 6 "$d: status 6"
	if [ "$(wc -l <"$T/e6")" -eq 1 ] && grep -Eq "$re" "$T/e6" && [ ! -s "$T/o6" ]; then
		ok 0 "$d: one clear line, nothing relayed"
	else
		sed 's/^/# /' "$T/e6"
		ok 1 "$d: one clear line, nothing relayed"
	fi
}
expect6 "CA not trusted (system store only)" 'NOT trusted|issuer is unknown' \
    "localhost:$port_good"
expect6 "wrong host name" 'does not match' \
    --cafile "$PKI/ca.pem" "localhost:$port_wrong"
expect6 "expired certificate" 'expired' \
    --cafile "$PKI/ca.pem" "localhost:$port_expired"
expect6 "not yet valid certificate" 'not yet valid' \
    --cafile "$PKI/ca.pem" "localhost:$port_future"
expect6 "self-signed certificate" 'NOT trusted|issuer is unknown' \
    --cafile "$PKI/ca.pem" "localhost:$port_self"
expect6 "pin mismatch" 'pin mismatch' \
    --cafile "$PKI/ca.pem" --pin="$(pin_of "$PKI/self.pem")" "localhost:$port_good"

timeout 30 "$RELAY" -q --cafile "$PKI/ca.pem" --pin="$(pin_of "$PKI/good.pem")" \
    "localhost:$port_good" <"$T/small" >"$T/op" 2>"$T/ep"
is "$?/$(sha "$T/op")" "0/$(sha "$T/small")" "the right pin: exit 0"

dead=$(free_port)
timeout 30 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$dead" </dev/null \
    >/dev/null 2>"$T/ed"
is "$?" 3 "a dead port: status 3"
finish
