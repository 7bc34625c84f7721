#!/bin/bash
# --allow-plain in the server role, tried as a clear-text user would:
# Python's imaplib, poplib and smtplib through `-s --allow-plain` to a
# plaintext Dovecot and Exim.  Once the relay forwards a command it would
# have refused, it relays in clear text for good (with a warning): 300
# messages fetched and retrieved, a 300 kB message sent, none of it bound
# by the opening's limits.  An IMAP literal is data, never a command: an
# APPEND {N+} whose payload reads "x CREATE Injected" appends a message
# and creates nothing.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/servers.sh"
require dovecot exim4 python3 certtool
plan 9
make_pki
start_dovecot plain
d=$T/dovecot/home/test/Maildir
for i in $(seq 1 300); do
	printf 'From: a@example.org\r\nSubject: message %d\r\n\r\nbody of message %d\r\n' \
	    "$i" "$i" >"$d/new/$i.test:2,"
done
chown -R dovecot:dovecot "$d"
start_exim plainexim no
SRV=(-s --allow-plain --cert "$PKI/good.pem" --key "$PKI/good.key")
start_relay imap "${SRV[@]}" -p imap listen:127.0.0.1:0 "127.0.0.1:$imap_port"
start_relay pop3 "${SRV[@]}" -p pop3 listen:127.0.0.1:0 "127.0.0.1:$pop3_port"
start_relay smtp "${SRV[@]}" -p smtp listen:127.0.0.1:0 "127.0.0.1:$exim_port"

python3 - "$port_imap" >"$T/imap.out" 2>&1 <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=30)
m.login("test", "secret")
m.select("INBOX")
n = 0
for num in m.search(None, "ALL")[1][0].split():
    if b"body of message" in m.fetch(num, "(RFC822)")[1][0][1]:
        n += 1
print("fetched", n)
# LITERAL+: the payload is the message, not a command (RFC 7888).
tag = m._new_tag().decode()
m.send(("%s APPEND INBOX {17+}\r\nx CREATE Injected\r\n" % tag).encode())
while True:
    line = m.readline()
    if line.startswith(tag.encode()):
        print("append:", line.decode().strip())
        break
print("list:", [x.decode() for x in m.list()[1]])
m.logout()
PY
grep -q '^fetched 300$' "$T/imap.out"
ok $? "imap: imaplib in clear text fetches all 300 messages" || sed 's/^/# /' "$T/imap.out"
grep -q '^append: .* OK' "$T/imap.out" && ! grep -q 'Injected' <(grep '^list:' "$T/imap.out") &&
    [ ! -d "$d/.Injected" ]
ok $? "imap: an APPEND {N+} literal reading 'x CREATE Injected' creates nothing" ||
    sed 's/^/# /' "$T/imap.out"
grep -q "'LOGIN' before STARTTLS: --allow-plain, so relaying in CLEAR TEXT" "$T/imap.err"
ok $? "imap: the relay warns that the session is in clear text"

python3 - "$port_pop3" >"$T/pop3.out" 2>&1 <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user("test")
p.pass_("secret")
count = p.stat()[0]
n = sum(1 for i in range(1, count + 1)
        if any(b"body of message" in l for l in p.retr(i)[1]))
print("retrieved", n)
p.quit()
PY
grep -q '^retrieved 30[01]$' "$T/pop3.out"
ok $? "pop3: poplib in clear text retrieves every message" || sed 's/^/# /' "$T/pop3.out"
grep -q "'USER' before STLS: --allow-plain" "$T/pop3.err"
ok $? "pop3: the relay warns that the session is in clear text"

python3 - "$port_smtp" >"$T/smtp.out" 2>&1 <<'PY'
import smtplib, sys
body = "".join("line %06d of a long message\r\n" % i for i in range(10000))
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.example")
s.sendmail("a@example.org", ["user@test.example"],
           "Subject: big\r\n\r\n" + body + "THE END\r\n")
s.quit()
print("sent", len(body))
PY
grep -q '^sent 3[0-9][0-9][0-9][0-9][0-9]$' "$T/smtp.out"
ok $? "smtp: smtplib in clear text sends a 300 kB message" || sed 's/^/# /' "$T/smtp.out"
wait_for_line "$T/plainexim/inbox" 'THE END' 10 &&
    [ "$(grep -c 'of a long message' "$T/plainexim/inbox")" = 10000 ]
ok $? "smtp: Exim delivered all of it"
grep -qi "'MAIL' before STARTTLS: --allow-plain" "$T/smtp.err"
ok $? "smtp: the relay warns that the session is in clear text"
# Without --allow-plain the same client is refused before it can log in.
start_relay strict -s --cert "$PKI/good.pem" --key "$PKI/good.key" -p imap \
    listen:127.0.0.1:0 "127.0.0.1:$imap_port"
python3 - "$port_strict" >"$T/strict.out" 2>&1 <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=30)
try:
    m.login("test", "secret")
    print("logged in")
except imaplib.IMAP4.error as e:
    print("refused:", e)
PY
grep -q '^refused:' "$T/strict.out"
ok $? "imap: without --allow-plain a clear-text LOGIN is refused"
finish
