#!/bin/bash
# Certificate attacks on the client role, with TLS from the first byte
# (gnutls-serv) and after STARTTLS (a scripted SMTP server): an untrusted
# CA, self-signed, a CA-signed certificate for another host, expired, not
# yet valid, a wrong pin.  Each ends with status 6 and one clear line, and
# nothing reaches the plain side (after STARTTLS: not even the greeting).
# RFC 6125 name edge cases are in cert-names.sh.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require gnutls-serv certtool python3
plan 30
make_pki
printf 'hello\n' >"$T/small"  # gnutls-serv echoes lines without CR

# serve NAME CERT: a gnutls-serv echo server and a STARTTLS SMTP server
# with CERT; sets port_NAME and smtp_NAME.
serve() {
	local p
	p=$(free_port)
	bg gnutls-serv --echo -p "$p" --x509certfile "$PKI/$2.pem" \
	    --x509keyfile "$PKI/$2.key" >"$T/gs-$1.log" 2>&1
	wait_for_port "$p" || bail "gnutls-serv did not start: $(cat "$T/gs-$1.log")"
	eval "port_$1=$p"
	start_peer "fs-$1" starttls smtp ok "$PKI/$2.pem" "$PKI/$2.key"
	eval "smtp_$1=$pport"
}
for c in good wrong expired future self; do
	serve "$c" "$c"
done

expect6() {	# DESCRIPTION REGEX RELAY-ARGS...
	local d=$1 re=$2 rc
	shift 2
	timeout 30 "$RELAY" "$@" <"$T/small" >"$T/o6" 2>"$T/e6"
	rc=$?
	is "$rc" 6 "$d: status 6"
	# --insecure's own warning aside.
	if [ "$(grep -vc 'warning: --insecure' "$T/e6")" -eq 1 ] && grep -Eq "$re" "$T/e6" && [ ! -s "$T/o6" ]; then
		ok 0 "$d: one clear line, nothing relayed"
	else
		sed 's/^/# /' "$T/e6"
		ok 1 "$d: one clear line, nothing relayed"
	fi
}
CA=(--cafile "$PKI/ca.pem")
for mode in none smtp; do
	if [ $mode = none ]; then pre=port_; else pre=smtp_; fi
	port() { eval echo "\$$pre$1"; }
	P=(-p "$mode")
	expect6 "$mode: CA not trusted (system store only)" 'NOT trusted|issuer is unknown' \
	    "${P[@]}" "localhost:$(port good)"
	expect6 "$mode: a CA-signed certificate for another host" 'does not match' \
	    "${P[@]}" "${CA[@]}" "localhost:$(port wrong)"
	expect6 "$mode: expired certificate" 'expired' \
	    "${P[@]}" "${CA[@]}" "localhost:$(port expired)"
	expect6 "$mode: not yet valid certificate" 'not yet valid' \
	    "${P[@]}" "${CA[@]}" "localhost:$(port future)"
	expect6 "$mode: self-signed certificate" 'NOT trusted|issuer is unknown' \
	    "${P[@]}" "${CA[@]}" "localhost:$(port self)"
	expect6 "$mode: pin mismatch" 'pin mismatch' \
	    "${P[@]}" "${CA[@]}" --pin="$(pin_of "$PKI/self.pem")" "localhost:$(port good)"
	expect6 "$mode: --insecure still checks a pin" 'pin mismatch' \
	    "${P[@]}" --insecure --pin="$(pin_of "$PKI/self.pem")" "localhost:$(port good)"
done

timeout 30 "$RELAY" -q "${CA[@]}" --pin="$(pin_of "$PKI/good.pem")" \
    "localhost:$port_good" <"$T/small" >"$T/op" 2>"$T/ep"
is "$?/$(sha "$T/op")" "0/$(sha "$T/small")" "the right pin: exit 0, data intact"
timeout 30 "$RELAY" --insecure --pin="$(pin_of "$PKI/self.pem")" \
    "localhost:$port_self" <"$T/small" >"$T/op" 2>"$T/ep"
is "$?/$(sha "$T/op")" "0/$(sha "$T/small")" \
    "--insecure with the self-signed certificate's pin: exit 0"
finish
