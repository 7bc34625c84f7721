#!/bin/bash
# A second STARTTLS inside TLS, server role (RFC 3207 4.2, RFC 2595 4,
# RFC 4217 and RFC 2228, RFC 4642 2.2.2, RFC 5804 2.2): the relay in front
# of real backends that offer the switch themselves in clear text, so that
# inside TLS their capability lists do list it and the relay must take it
# out: Dovecot (POP3 and IMAP with ssl = required, ManageSieve with
# ssl = yes), Exim (tls_advertise_hosts = *), vsftpd (ssl_enable=YES) and
# INN's nnrpd (with its TLS files).  The clients are real ones: Python's
# poplib, imaplib, smtplib and ftplib, and openssl s_client for nntp and
# sieve.  For each protocol: inside TLS the capabilities do not offer the
# switch, a second one gets the relay's refusal (in its turn among the
# backend's replies), it never reaches the backend (a wire tap in front of
# each, tests/helpers/peer.py tap; vsftpd's own log too), and the session
# goes on: a login, then a message, an article or a listing, whose lines
# that look like the switch pass untouched.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/servers.sh"
require dovecot exim4 vsftpd openssl python3 certtool
[ -x /usr/lib/dovecot/lmtp ] && [ -x /usr/lib/dovecot/managesieve ] &&
    [ -x /usr/lib/news/bin/nnrpd ] || {
	[ "${CI:-}" != true ] || bail "dovecot-lmtpd, dovecot-managesieved or inn2 is missing"
	echo "1..0 # SKIP dovecot-lmtpd, dovecot-managesieved or inn2 is not installed"
	exit 0
}
plan 30
make_pki
CA=$PKI/ca.pem
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")

# front NAME PROTO PORT: the server role (-p PROTO) in front of a wire tap
# in front of the backend on PORT; what reached the backend is in
# $T/NAME.rec.  Sets port (the relay's).
front() {
	start_peer "$1-tap" tap "$3" "$T/$1.rec"
	start_relay "$1" "${SRV[@]}" -p "$2" listen:127.0.0.1:0 \
	    "127.0.0.1:$pport"
}

# line_of FILE REGEX: the number of the first line (CR removed) matching.
line_of() { tr -d '\r' <"$1" | grep -n -m 1 -E -- "$2" | cut -d: -f1; }

# in_order FILE REGEX...: each REGEX matches a line after the previous one's.
in_order() {
	local f=$1 last=0 n
	shift
	for re in "$@"; do
		n=$(tr -d '\r' <"$f" | awk -v from="$last" -v re="$re" \
		    'NR > from && $0 ~ re { print NR; exit }')
		[ -n "$n" ] || { diag "no /$re/ after line $last of $f"; return 1; }
		last=$n
	done
}

# A message with lines like the switch, for Dovecot to serve.
start_dovecot
msg=$T/switch.eml
printf '%s\r\n' 'From: sender@example.org' 'Subject: switch' '' STLS '+OK' \
    . CAPA '* CAPABILITY IMAP4rev1 STARTTLS' 'a STARTTLS' >"$msg"
install -o dovecot -g dovecot -m 600 "$msg" \
    "$T/dovecot/home/test/Maildir/new/2.switch:2,"

# --- POP3: Dovecot lists STLS in its CAPA.
front pop3 pop3 "$pop3_port"
timeout 60 python3 - "$port" "$CA" "$msg" >"$T/pop3.out" 2>&1 <<'PY'
import poplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=20)
p.stls(context=ctx)
print("caps:", " ".join(sorted(p.capa())))
try:
    print("second:", p._shortcmd("STLS").decode())
except poplib.error_proto as e:
    print("second:", e.args[0].decode())
p.user("test")
p.pass_("secret")
want = open(sys.argv[3], "rb").read().split(b"\r\n")[:-1]
got = [p.retr(i)[1] for i in range(1, len(p.list()[1]) + 1)]
print("message:", "untouched" if want in got else "altered: %r" % got)
print(p.quit().decode())
PY
is "$?" 0 "pop3: poplib, STLS, then inside TLS CAPA, STLS again, RETR"
sed -n 's/^caps: //p' "$T/pop3.out" | grep -qw TOP &&
    ! sed -n 's/^caps: //p' "$T/pop3.out" | grep -qw STLS
ok $? "pop3: Dovecot's CAPA inside TLS, without STLS"
is "$(sed -n 's/^second: //p' "$T/pop3.out")" "-ERR TLS already active" \
    "pop3: a second STLS gets -ERR from the relay"
grep -q '^message: untouched' "$T/pop3.out" && grep -q '^+OK Logging out' "$T/pop3.out"
ok $? "pop3: then a login, and RETR of a message with an STLS line, untouched"
! grep -qi '^STLS' "$T/pop3.rec" && grep -q '^PASS secret' "$T/pop3.rec"
ok $? "pop3: Dovecot never received STLS"

# --- IMAP: Dovecot lists STARTTLS in its CAPABILITY.
front imap imap "$imap_port"
timeout 60 python3 - "$port" "$CA" "$msg" >"$T/imap.out" 2>&1 <<'PY'
import imaplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
m.starttls(ssl_context=ctx)
print("caps:", " ".join(m.capabilities))
try:
    print("second:", m._simple_command("STARTTLS"))
except m.error as e:
    print("second:", e)
m.login("test", "secret")
print("caps after login:", m.capability()[1][0].decode())
m.select("INBOX")
num = m.search(None, "SUBJECT", "switch")[1][0].split()[0]
body = m.fetch(num, "(BODY.PEEK[])")[1][0][1]
print("message:", "untouched" if body == open(sys.argv[3], "rb").read()
      else "altered: %r" % body)
print(m.logout()[0])
PY
is "$?" 0 "imap: imaplib, STARTTLS, then inside TLS CAPABILITY, STARTTLS again, FETCH"
sed -n 's/^caps: //p' "$T/imap.out" | grep -qw AUTH=PLAIN &&
    ! grep -q '^caps.*STARTTLS' "$T/imap.out"
ok $? "imap: Dovecot's capabilities inside TLS, before and after login, without STARTTLS"
grep -q "^second: STARTTLS command error: BAD \[b'TLS is already active'\]" "$T/imap.out"
ok $? "imap: a second STARTTLS gets BAD from the relay"
grep -q '^message: untouched' "$T/imap.out" && grep -q '^BYE' "$T/imap.out"
ok $? "imap: then a login, and FETCH of a message with STARTTLS lines, untouched"
! grep -qi '^[^ ]* STARTTLS' "$T/imap.rec" && grep -q ' LOGIN ' "$T/imap.rec"
ok $? "imap: Dovecot never received STARTTLS"

# --- SMTP: Exim offers STARTTLS in its EHLO reply.
start_exim exim
front smtp smtp "$exim_port"
timeout 60 python3 - "$port" "$CA" >"$T/smtp.out" 2>&1 <<'PY'
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.example",
                 timeout=20)
s.starttls(context=ctx)
s.ehlo()
print("caps:", " ".join(sorted(s.esmtp_features)))
code, text = s.docmd("STARTTLS")
print("second:", code, text.decode())
print("refused:", s.sendmail("a@example.org", ["test@test.example"],
      b"From: a@example.org\r\nTo: test@test.example\r\nSubject: switch\r\n"
      b"\r\nSTARTTLS\r\n250-STARTTLS\r\n.\r\nQUIT\r\n"))
print(*s.quit())
PY
is "$?" 0 "smtp: smtplib, STARTTLS, then inside TLS EHLO, STARTTLS again, a message"
sed -n 's/^caps: //p' "$T/smtp.out" | grep -qw pipelining &&
    ! sed -n 's/^caps: //p' "$T/smtp.out" | grep -qw starttls
ok $? "smtp: Exim's EHLO reply inside TLS, without STARTTLS"
is "$(sed -n 's/^second: //p' "$T/smtp.out")" "554 5.5.1 Error: TLS already active" \
    "smtp: a second STARTTLS gets 554 from the relay"
wait_for_line "$T/exim/inbox" '^QUIT' 10 && grep -q '^refused: {}' "$T/smtp.out" &&
    tr -d '\r' <"$T/exim/inbox" | sed -n '/^Subject: switch/,$p' |
    grep -qx STARTTLS
ok $? "smtp: then a message with STARTTLS lines, delivered untouched"
[ "$(sed '/^DATA\r$/I,/^\.\r$/d' "$T/smtp.rec" | grep -ci '^STARTTLS')" = 0 ] &&
    grep -qi '^MAIL FROM' "$T/smtp.rec"
ok $? "smtp: Exim never received STARTTLS (but in the message)"

# --- FTP: vsftpd lists AUTH SSL and AUTH TLS in its FEAT reply.
d=$T/vsftpd
mkdir -p "$d/root" "$d/empty"
echo "a file served by vsftpd" >"$d/root/file.txt"
chmod 755 "$T" "$PKI" "$d" "$d/root" "$d/empty"
chmod 644 "$PKI"/*.pem "$PKI"/*.key
ftp_port=$(free_port)
cat >"$d/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$ftp_port
background=NO
anonymous_enable=YES
no_anon_password=YES
local_enable=NO
write_enable=NO
anon_root=$d/root
secure_chroot_dir=$d/empty
pasv_enable=YES
pasv_address=127.0.0.1
connect_from_port_20=NO
seccomp_sandbox=NO
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
require_ssl_reuse=NO
rsa_cert_file=$PKI/good.pem
rsa_private_key_file=$PKI/good.key
vsftpd_log_file=$d/vsftpd.log
log_ftp_protocol=YES
xferlog_enable=YES
dual_log_enable=YES
xferlog_file=$d/xfer.log
syslog_enable=NO
CONF
bg vsftpd "$d/vsftpd.conf"
wait_for_port "$ftp_port" 20 || bail "vsftpd did not start"
front ftp ftp "$ftp_port"
timeout 60 python3 - "$port" "$CA" >"$T/ftp.out" 2>&1 <<'PY'
import ftplib, ssl, sys
f = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=sys.argv[2]),
                   timeout=20)
f.connect("127.0.0.1", int(sys.argv[1]))
f.auth()
print("feat:", f.sendcmd("FEAT").replace("\n", "|"))
for cmd in ("AUTH TLS", "AUTH SSL"):
    try:
        print("second:", f.sendcmd(cmd))
    except ftplib.error_perm as e:
        print("second:", e)
f.login()
print("syst:", f.sendcmd("SYST"))
print("nlst:", f.nlst())
print(f.quit())
PY
is "$?" 0 "ftp: ftplib, AUTH TLS, then inside TLS FEAT, AUTH again, a login and a listing"
grep -q '^feat: 211-.*| PBSZ|.*211 End' "$T/ftp.out" && ! grep -qi '^feat:.*| *AUTH' "$T/ftp.out"
ok $? "ftp: vsftpd's FEAT reply inside TLS, without AUTH"
is "$(sed -n 's/^second: //p' "$T/ftp.out" | tr '\n' '|')" \
    "534 TLS already active|534 TLS already active|" \
    "ftp: AUTH TLS and AUTH SSL get 534 from the relay"
grep -q '^syst: 215 UNIX' "$T/ftp.out" && grep -q "^nlst: \['file.txt'\]" "$T/ftp.out"
ok $? "ftp: then a login, SYST and NLST"
grep -q '"FEAT"' "$d/vsftpd.log" && ! grep -q '"AUTH' "$d/vsftpd.log"
ok $? "ftp: vsftpd's log: FEAT, never AUTH"
! grep -qi '^AUTH' "$T/ftp.rec" && grep -q '^SYST' "$T/ftp.rec"
ok $? "ftp: nor did the wire tap see AUTH"

# --- NNTP: nnrpd with TLS files lists STARTTLS in CAPABILITIES.
start_inn inn
front nntp nntp "$nntp_port"
until='^205'
client_run s_client nntp "$port" CAPABILITIES STARTTLS 'GROUP test.group' QUIT
is "$rc" 0 "nntp: s_client -starttls nntp, then CAPABILITIES, STARTTLS, GROUP, QUIT at once"
tr -d '\r' <"$T/out" | sed -n '/^101/,/^\.$/p' >"$T/nntp.caps"
grep -q '^READER' "$T/nntp.caps" && ! grep -qi '^STARTTLS' "$T/nntp.caps"
ok $? "nntp: INN's capabilities inside TLS, without STARTTLS"
in_order "$T/out" '^101' '^\.$' '^502 TLS already active$' '^211 0 1 0 test.group' '^205'
ok $? "nntp: the relay's 502 comes in its turn, between INN's responses"
grep -q '^GROUP test.group' "$T/nntp.rec" && ! grep -qi '^STARTTLS' "$T/nntp.rec"
ok $? "nntp: INN never received STARTTLS"
cp "$T/out" "$T/nntp.out"

# --- ManageSieve: Dovecot lists "STARTTLS" in its capabilities.
start_dovecot_line sieve
front sieve sieve "$sieve_port"
until='^OK "Logout'
auth=$(printf '\0test\0secret' | base64)
client_run s_client sieve "$port" CAPABILITY STARTTLS \
    "AUTHENTICATE \"PLAIN\" \"$auth\"" LISTSCRIPTS LOGOUT
is "$rc" 0 "sieve: s_client -starttls sieve, then CAPABILITY, STARTTLS, AUTHENTICATE at once"
[ "$(grep -c '^"IMPLEMENTATION" "Dovecot' "$T/out")" = 2 ] &&
    ! grep -qi '^"STARTTLS"' "$T/out"
ok $? "sieve: our capabilities and Dovecot's inside TLS, without \"STARTTLS\""
in_order "$T/out" '^OK "TLS negotiation successful"' '^"IMPLEMENTATION"' \
    '^OK' '^NO "TLS is already active"$' '^OK "Logged in' '^OK "Logout'
ok $? "sieve: the relay's NO comes in its turn, between Dovecot's responses"
grep -q '^LISTSCRIPTS' "$T/sieve.rec" && ! grep -qi '^STARTTLS' "$T/sieve.rec"
ok $? "sieve: Dovecot never received STARTTLS"
grep -q 'managesieve-login: Info: Login: user=<test>' "$T/sieve/dovecot.log"
ok $? "sieve: Dovecot logged the login"

finish
