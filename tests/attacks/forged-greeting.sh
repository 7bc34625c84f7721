#!/bin/bash
# A man in the middle writes what the server says before TLS (RFC 3207
# 4.2, RFC 2595): an IMAP [ALERT] or [REFERRAL], a POP3 APOP challenge, an
# NNTP 200, escape sequences for the terminal.  Client role, every
# protocol: the plain side gets none of those bytes (a greeting of the
# relay's own, or what the server says inside TLS), and stderr no raw
# control byte, even with -v; the session inside TLS works.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require python3 certtool
plan 32
make_pki
ESC=$(printf '\033')

# forged PROTO INPUT UNTIL: the relay against a forged STARTTLS peer.
forged() {
	start_peer fs starttls "$1" forged "$PKI/good.pem" "$PKI/good.key"
	run_relay "$1" "$port_fs" "$2" "$3"
}

# run_relay PROTO PORT INPUT UNTIL: -v, stdin held open until stdout
# matches UNTIL; then the three checks.
run_relay() {
	local proto=$1 port=$2 input=$3 until=$4
	rm -f "$T/out"
	{ printf '%b' "$input"; wait_for_line "$T/out" "$until" 20; } |
	    timeout 30 "$RELAY" -v -p "$proto" --cafile "$PKI/ca.pem" \
	    --servername localhost "127.0.0.1:$port" >"$T/out" 2>"$T/err"
	is "$?" 0 "$proto: the session inside TLS works" || sed 's/^/# /' "$T/err"
	! grep -q 'EVIL\|evil\|1896\.697170952' "$T/out" &&
	    ! grep -q "$ESC" "$T/out" && grep -Eq "$until" "$T/out"
	ok $? "$proto: the plain side got nothing the server said before TLS" ||
	    sed -n l "$T/out" | sed 's/^/# /'
	! grep -q "$ESC" "$T/err" && grep -q 'EVIL-MARK' "$T/err"
	ok $? "$proto: -v shows what the server said, no control byte raw"
}

forged smtp 'hello\r\n' 'tls-ok'
forged imap 'hello\r\n' 'tls-ok'
forged pop3 'hello\r\n' 'tls-ok'
forged ftp 'hello\r\n' 'hello'
forged http-upgrade 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n' \
    'over TLS you asked for /x'
forged lmtp 'hello\r\n' 'tls-ok'
forged nntp 'hello\r\n' 'hello'
forged sieve 'hello\r\n' 'tls-ok'
forged ldap 'hello\n' 'tls-ok'

# PostgreSQL's answer is one byte: nothing to forge but the byte itself.
# XMPP: no control bytes in XML; the marker sits in the stream header and
# in a feature.
python3 - "$PKI/good.pem" "$PKI/good.key" >"$T/xmpp.port" <<'PY' &
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.settimeout(20)
def until(what, data=b""):
    while what not in data:
        data += c.recv(4096)
until(b"version=")
c.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' id='EVIL-MARK' "
          b"from='evil.example' version='1.0'><stream:features><starttls "
          b"xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><evil-mark "
          b"xmlns='urn:x-evil'>EVIL-MARK</evil-mark></stream:features>")
until(b"<starttls")
c.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
t = ctx.wrap_socket(c, server_side=True)
t.sendall(b"tls-ok\n")
while True:
    d = t.recv(4096)
    if not d:
        break
    t.sendall(d)
t.unwrap()  # close_notify: a bare FIN would be a truncation
PY
bg_pids="$bg_pids $!"
wait_for_line "$T/xmpp.port" '^[0-9]+$' || bail "the xmpp server did not start"
rm -f "$T/out"
{ printf 'hello\n'; wait_for_line "$T/out" 'hello' 20; } |
    timeout 30 "$RELAY" -v -p xmpp --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$(cat "$T/xmpp.port")" >"$T/out" 2>"$T/err"
is "$?" 0 "xmpp: the session inside TLS works" || sed 's/^/# /' "$T/err"
! grep -q 'EVIL\|evil' "$T/out" && grep -q 'tls-ok' "$T/out"
ok $? "xmpp: the plain side got nothing the server said before TLS"

# -q: an error message quoting the peer is escaped too.
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"554 \x1b[2J\x1b]0;owned\x07 go away\r\n")
c.recv(100)
' >"$T/bad.port" &
bg_pids="$bg_pids $!"
wait_for_line "$T/bad.port" '^[0-9]+$' || bail "the bad server did not start"
timeout 30 "$RELAY" -q -p smtp "127.0.0.1:$(cat "$T/bad.port")" </dev/null \
    >"$T/out" 2>"$T/err"
is "$?" 4 "smtp -q: a hostile greeting: status 4"
! grep -q "$ESC" "$T/err" && grep -qF "'554 \\x1b[2J\\x1b]0;owned\\x07 go away'" "$T/err"
ok $? "smtp -q: the one error line quotes it escaped" || sed -n l "$T/err" | sed 's/^/# /'
[ "$(wc -l <"$T/err")" -eq 1 ]
ok $? "smtp -q: in one line"
finish
