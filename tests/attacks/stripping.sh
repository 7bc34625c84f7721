#!/bin/bash
# STARTTLS stripping (client role): the capability removed, the switch
# refused, the connection closed at the switch.  The relay fails closed with
# status 4 and relays nothing; only --opportunistic falls back to clear text
# when the switch is not offered (and says so loudly), never when it was
# offered and then refused or cut.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require python3 certtool
plan 31
make_pki

attempt() {	# PROTO MODE [RELAY-ARGS...]: sets rc, $T/out, $T/err
	local proto=$1 mode=$2
	shift 2
	start_peer fs starttls "$proto" "$mode" "$PKI/good.pem" "$PKI/good.key"
	printf 'SECRET\r\n' | timeout 30 "$RELAY" -p "$proto" --cafile "$PKI/ca.pem" \
	    "$@" "localhost:$port_fs" >"$T/out" 2>"$T/err"
	rc=$?
}

for proto in smtp imap pop3 http-upgrade; do
	for mode in notoffered refuse close; do
		attempt "$proto" "$mode"
		case $mode in
		notoffered) re='does not offer|refused the upgrade' ;;
		refuse) re='refused' ;;
		close) re='closed the connection' ;;
		esac
		if [ $rc -eq 4 ] && grep -Eq "$re" "$T/err" && [ ! -s "$T/out" ]; then
			ok 0 "$proto $mode: status 4, said why, nothing relayed"
		else
			ok 1 "$proto $mode: status 4 (got $rc), said why, nothing relayed"
			sed 's/^/# /' "$T/err"
		fi
		[ "$mode" = notoffered ] || continue
		attempt "$proto" "$mode" --opportunistic
		if [ "$proto" = http-upgrade ]; then
			# The server's answer was not 101: nothing to fall back to.
			is "$rc" 4 "$proto $mode --opportunistic: still status 4"
			continue
		fi
		is "$rc" 0 "$proto $mode --opportunistic: relays in clear text"
		grep -q 'CLEAR TEXT' "$T/err"
		ok $? "$proto $mode --opportunistic: warns on stderr"
		# -q keeps quiet, but not about clear text.
		attempt "$proto" "$mode" --opportunistic -q
		grep -q 'warning: .*CLEAR TEXT' "$T/err"
		ok $? "$proto $mode --opportunistic -q: warns all the same"
	done
	for mode in refuse close; do
		attempt "$proto" "$mode" --opportunistic
		is "$rc" 4 "$proto $mode --opportunistic: offered then $mode: status 4"
	done
done
# --insecure is said whatever -q.
start_peer fs starttls smtp ok "$PKI/good.pem" "$PKI/good.key"
printf 'QUIT\r\n' | timeout 30 "$RELAY" -q -p smtp --insecure \
    "localhost:$port_fs" >"$T/out" 2>"$T/err"
grep -q 'warning: --insecure: .*NOT verified' "$T/err"
ok $? "--insecure -q: the warning is printed all the same"
finish
