#!/bin/bash
# No login invited before TLS (RFC 3207 5, RFC 2595 3.2): in front of a
# plaintext Exim and Dovecot that offer AUTH in clear text, the server role
# offers no login method before STARTTLS, so swaks --auth never sends the
# password in clear; inside TLS the login is offered and works.  A client
# that sends credentials anyway is refused, and the -v transcript never
# shows them.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/servers.sh"
require exim4 swaks dovecot python3 certtool
plan 9
make_pki
start_exim authexim no auth
start_dovecot plain
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")
start_relay smtp "${SRV[@]}" -p smtp listen:127.0.0.1:0 "127.0.0.1:$exim_port"
start_relay imap "${SRV[@]}" -p imap listen:127.0.0.1:0 "127.0.0.1:$imap_port"
start_relay pop3 "${SRV[@]}" -p pop3 listen:127.0.0.1:0 "127.0.0.1:$pop3_port"

timeout 30 swaks --server 127.0.0.1 --port "$port_smtp" --auth PLAIN \
    --auth-user test --auth-password secret --from a@example.org \
    --to user@test.example >"$T/swaks.clear" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qi 'not advertise' "$T/swaks.clear" &&
    ! grep -q 'AUTH PLAIN' "$T/swaks.clear"
ok $? "smtp: before TLS no AUTH is offered: swaks --auth sends no password (status $rc)" ||
    sed 's/^/# /' "$T/swaks.clear"
timeout 30 swaks --tls --server 127.0.0.1 --port "$port_smtp" --auth PLAIN \
    --auth-user test --auth-password secret --tls-ca-path "$PKI/ca.pem" \
    --from a@example.org --to user@test.example --body 'after login' \
    >"$T/swaks.tls" 2>&1
is "$?" 0 "smtp: inside TLS AUTH is offered and the login works"
grep -q 'A=plain:test' "$T/authexim/log/mainlog"
ok $? "smtp: Exim logged the authenticated message"

python3 - "$port_smtp" >"$T/blind" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
f.readline()
s.sendall(b"AUTH PLAIN AHRlc3QAc2VjcmV0\r\n")
print(f.readline().decode().strip())
PY
is "$(cat "$T/blind")" '530 5.7.0 Must issue a STARTTLS command first' \
    "smtp: credentials sent anyway before TLS are refused"
wait_for_line "$T/smtp.err" 'C: AUTH PLAIN \*\*\*' 10 &&
    ! grep -q 'AHRlc3QAc2VjcmV0' "$T/smtp.err"
ok $? "smtp: the transcript shows 'C: AUTH PLAIN ***', not the credentials"

python3 - "$port_imap" "$port_pop3" >"$T/caps" 2>&1 <<'PY'
import imaplib, poplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
print("imap:", " ".join(m.capabilities))
try:
    m.login("test", "secret")
    print("imap login: yes")
except imaplib.IMAP4.error:
    print("imap login: refused")
p = poplib.POP3("127.0.0.1", int(sys.argv[2]), timeout=20)
print("pop3:", " ".join(sorted(p.capa())))
PY
caps=$(sed -n 's/^imap: //p' "$T/caps")
! echo "$caps" | grep -Eqw 'AUTH=[A-Z0-9-]+|SASL-IR|LITERAL\+' &&
    echo "$caps" | grep -qw STARTTLS && echo "$caps" | grep -qw LOGINDISABLED
ok $? "imap: no login method before TLS, STARTTLS and LOGINDISABLED ($caps)"
grep -q '^imap login: refused' "$T/caps"
ok $? "imap: LOGIN before TLS is refused"
pcaps=$(sed -n 's/^pop3: //p' "$T/caps")
! echo "$pcaps" | grep -Eqw 'USER|SASL' && echo "$pcaps" | grep -qw STLS
ok $? "pop3: no USER or SASL before TLS, STLS offered ($pcaps)"
# Dovecot itself offers them: without the relay the list has them.
python3 - "$imap_port" >"$T/direct" 2>&1 <<'PY'
import imaplib, sys
print(" ".join(imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20).capabilities))
PY
grep -q 'AUTH=PLAIN' "$T/direct"
ok $? "(the backend does offer AUTH=PLAIN in clear text: the relay removed it)"
finish
