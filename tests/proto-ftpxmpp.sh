#!/bin/bash
# ftp (AUTH TLS) and xmpp (STARTTLS) in both roles, against real peers:
# vsftpd with and without TLS (client role: curl and Python's ftplib
# through the relay; server role: curl --ftp-ssl-control, openssl s_client,
# gnutls-cli in front of a plaintext vsftpd) and Prosody with and without
# TLS (client role: a Python client logging in through the relay; server
# role: openssl s_client, gnutls-cli and the program's own client role);
# refusals, a dead backend, and command and response injection.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require vsftpd prosody prosodyctl curl gnutls-cli openssl python3 certtool
plan 40
make_pki
chmod 755 "$T" "$PKI"
chmod 644 "$PKI"/*.pem "$PKI"/*.key

# start_vsftpd NAME TLS: an anonymous vsftpd serving $T/NAME/root, with
# AUTH TLS required for logins (TLS=yes) or without TLS; sets ftp_port.
# Its log ($T/NAME/vsftpd.log) has every command and reply.
start_vsftpd() {
	local d=$T/$1 ssl=NO
	[ "$2" = yes ] && ssl=YES
	mkdir -p "$d/root" "$d/empty"
	echo "a file served by vsftpd ($1)" >"$d/root/file.txt"
	chmod 755 "$d" "$d/root" "$d/empty"
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
ssl_enable=$ssl
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=NO
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
}

SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")

# FTP, client role: plaintext clients through the relay to a vsftpd that
# refuses logins without TLS.
start_vsftpd ftps yes
ftps_port=$ftp_port
timeout 30 curl -sS "ftp://127.0.0.1:$ftps_port/file.txt" >"$T/out" 2>&1
grep -q '530 Anonymous sessions must use encryption' "$T/ftps/vsftpd.log"
ok $? "ftp client: vsftpd refuses a login in clear text"
start_relay ftpc -p ftp --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$ftps_port" listen:127.0.0.1:0
timeout 30 curl -sS "ftp://127.0.0.1:$port_ftpc/file.txt" >"$T/out" 2>&1
is "$(cat "$T/out")" "a file served by vsftpd (ftps)" \
    "ftp client: curl ftp:// through the relay fetches a file (passive, data in clear)"
python3 - "$port_ftpc" >"$T/out" 2>&1 <<'PY'
import ftplib, sys
f = ftplib.FTP()
f.connect("127.0.0.1", int(sys.argv[1]), timeout=20)
print(f.getwelcome())
f.login()
print(f.nlst())
f.quit()
PY
grep -q "^220 " "$T/out" && grep -q "\['file.txt'\]" "$T/out"
ok $? "ftp client: Python's ftplib gets the greeting, logs in, lists"
grep -q 'FTP command: Client "127.0.0.1", "AUTH TLS"' "$T/ftps/vsftpd.log" &&
    grep -q 'OK LOGIN: Client "127.0.0.1", anon' "$T/ftps/vsftpd.log"
ok $? "ftp client: vsftpd saw AUTH TLS and the logins succeeded"
grep -q 'TLS established' "$T/ftpc.err"
ok $? "ftp client: the relay logs the TLS session"

start_vsftpd ftpplain no
ftpplain_port=$ftp_port
timeout 30 "$RELAY" -p ftp --cafile "$PKI/ca.pem" "127.0.0.1:$ftpplain_port" \
    - </dev/null >"$T/out" 2>"$T/err"
is "$?" 4 "ftp client: a server without AUTH TLS: status 4"
grep -q 'does not offer AUTH TLS' "$T/err"
ok $? "ftp client: and says so"

# Response injection: a forged reply in the 234's packet, or after it.
for how in same later; do
	mode=inject
	[ $how = same ] || mode=inject-later
	start_peer "fake-$how" starttls ftp $mode "$PKI/good.pem" "$PKI/good.key"
	timeout 30 "$RELAY" -p ftp --cafile "$PKI/ca.pem" \
	    "127.0.0.1:$pport" - </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	if [ $how = same ]; then
		is "$rc" 4 "ftp client: a reply behind 234 in its packet: status 4"
	else
		[ "$rc" = 4 ] || [ "$rc" = 5 ]
		ok $? "ftp client: a reply behind 234 later: status 4 or 5 (got $rc)"
	fi
	! grep -q INJECTED "$T/out"
	ok $? "ftp client: the forged reply never reached the plain side ($how)"
done

# FTP, server role, in front of the plaintext vsftpd.
start_relay ftps -p ftp "${SRV[@]}" listen:127.0.0.1:0 "127.0.0.1:$ftpplain_port"
timeout 30 curl -sS --ftp-ssl-control --cacert "$PKI/ca.pem" \
    "ftp://localhost:$port_ftps/file.txt" >"$T/out" 2>&1
is "$(cat "$T/out")" "a file served by vsftpd (ftpplain)" \
    "ftp server: curl --ftp-ssl-control fetches a file (AUTH SSL 504, AUTH TLS 234)"
grep -q 'AUTH SSL' "$T/ftps.err" && grep -q 'S: 234 AUTH TLS successful' "$T/ftps.err"
ok $? "ftp server: the relay answered AUTH TLS itself"
! grep -q '"AUTH' "$T/ftpplain/vsftpd.log"
ok $? "ftp server: the backend never saw AUTH"

until='^221'
for client in s_client gnutls-cli; do
	client_run $client ftp "$port_ftps" 'USER anonymous' 'PASS x' SYST QUIT
	is "$rc" 0 "ftp server: $client exits 0"
	grep -q '^230 ' "$T/out" && grep -q '^215 UNIX' "$T/out"
	ok $? "ftp server: $client logs in through the relay"
done

# The FEAT reply, refusals before TLS and command injection, by hand.
python3 - "$port_ftps" >"$T/out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply():
    lines = [f.readline().decode()]
    while lines[-1][3:4] == "-":
        lines.append(f.readline().decode())
        while lines[-1][:4] != lines[0][:3] + " ":
            lines.append(f.readline().decode())
    print("".join(lines), end="")
reply()
for cmd in (b"FEAT", b"USER anonymous", b"PASS x"):
    s.sendall(cmd + b"\r\n")
    reply()
s.sendall(b"AUTH TLS\r\nUSER injected\r\n")
reply()
print("closed" if f.read() == b"" else "open")
PY
grep -q '^ AUTH TLS' "$T/out" && [ "$(grep -c '^530 Must issue AUTH TLS first' "$T/out")" = 2 ]
ok $? "ftp server: FEAT lists AUTH TLS; USER and PASS get 530"
wait_for_line "$T/ftps.err" 'injection' 10 && grep -q '^closed' "$T/out" &&
    ! grep -q 'injected' "$T/ftpplain/vsftpd.log"
ok $? "ftp server: USER behind AUTH TLS ends the session, never reaches vsftpd"

# A dead backend: 421.
dead_port >"$T/dead.port"; dead=$(cat "$T/dead.port")
start_relay ftpdead -p ftp "${SRV[@]}" listen:127.0.0.1:0 "127.0.0.1:$dead"
timeout 30 curl -v "ftp://127.0.0.1:$port_ftpdead/" >"$T/out" 2>&1
grep -q '^< 421 Service not available' "$T/out"
ok $? "ftp server: a dead backend: 421"

# start_prosody NAME TLS: a Prosody for the host "localhost" with the user
# test/secret, STARTTLS required (TLS=yes) or no TLS at all; sets
# xmpp_port.  Its log ($T/NAME/prosody.log) says "Stream encrypted".
start_prosody() {
	local d=$T/$1 tls='"tls"' req=true
	[ "$2" = yes ] || { tls=; req=false; }
	mkdir -p "$d/data"
	xmpp_port=$(free_port)
	cat >"$d/prosody.cfg.lua" <<CONF
pidfile = "$d/prosody.pid"
data_path = "$d/data"
log = { info = "$d/prosody.log" }
interfaces = { "127.0.0.1" }
c2s_ports = { $xmpp_port }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
modules_enabled = { "roster", "saslauth", "disco", "ping", $tls }
modules_disabled = { "s2s", "offline", "c2s_csi", "posix" }
c2s_require_encryption = $req
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
run_as_root = true
ssl = { certificate = "$PKI/good.pem", key = "$PKI/good.key" }
VirtualHost "localhost"
CONF
	prosodyctl --config "$d/prosody.cfg.lua" register test localhost secret \
	    >"$d/register.out" 2>&1 </dev/null || bail "prosodyctl register failed"
	bg prosody --config "$d/prosody.cfg.lua" -F </dev/null >"$d/out" 2>&1
	wait_for_port "$xmpp_port" 20 || bail "prosody did not start: $(cat "$d/out")"
}

# xmpp_login PORT: a plaintext XMPP client: stream, features, SASL PLAIN.
xmpp_login() {
	python3 - "$1" <<'PY'
import base64, re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
def until(pat):
    buf = b""
    while not re.search(pat, buf):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    print(buf.decode(errors="replace"))
s.sendall(b"<?xml version='1.0'?><stream:stream to='localhost' "
          b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
          b"version='1.0'>")
until(rb"</stream:features>")
s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
          + base64.b64encode(b"\0test\0secret") + b"</auth>")
until(rb"<success|<failure")
s.sendall(b"</stream:stream>")
PY
}

# XMPP, client role: a plaintext client through the relay to a Prosody
# that requires STARTTLS.
start_prosody xmpptls yes
xmpptls_port=$xmpp_port
xmpp_login "$xmpptls_port" >"$T/out" 2>&1
grep -q '<starttls' "$T/out" && ! grep -q '<success' "$T/out"
ok $? "xmpp client: Prosody requires STARTTLS from a clear-text client"
start_relay xmppc -p xmpp --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$xmpptls_port" listen:127.0.0.1:0
xmpp_login "$port_xmppc" >"$T/out" 2>&1
grep -q 'PLAIN</mechanism>' "$T/out" && grep -q '<success' "$T/out"
ok $? "xmpp client: a plaintext client logs in through the relay (SASL after TLS)"
grep -q 'Stream encrypted' "$T/xmpptls/prosody.log" &&
    grep -q 'Authenticated as test@localhost' "$T/xmpptls/prosody.log"
ok $? "xmpp client: Prosody logs the encrypted stream and the login"
grep -q 'S: <proceed' "$T/xmppc.err" && grep -q 'TLS established' "$T/xmppc.err"
ok $? "xmpp client: the relay logs <proceed/> and the TLS session"

# Hostile or old servers, scripted.
xmpp_fake() {	# MODE: notoffered, inject, inject-later
	start_peer xmpp-fake starttls xmpp "$1" "$PKI/good.pem" "$PKI/good.key"
	timeout 30 "$RELAY" -p xmpp --cafile "$PKI/ca.pem" "127.0.0.1:$pport" - \
	    </dev/null >"$T/out" 2>"$T/err"
}
xmpp_fake notoffered
is "$?" 4 "xmpp client: a server without STARTTLS: status 4"
grep -q 'does not offer STARTTLS' "$T/err"
ok $? "xmpp client: and says so"
xmpp_fake inject
is "$?" 4 "xmpp client: a stanza behind <proceed/> in its packet: status 4"
xmpp_fake inject-later
rc=$?
[ "$rc" = 4 ] || [ "$rc" = 5 ]
ok $? "xmpp client: a stanza after <proceed/>: status 4 or 5 (got $rc)"
! grep -q INJECTED "$T/out"
ok $? "xmpp client: the forged stanza never reached the plain side"

# XMPP, server role, in front of a Prosody without TLS.
start_prosody xmppplain no
xmppplain_port=$xmpp_port
start_relay xmpps -p xmpp "${SRV[@]}" listen:127.0.0.1:0 "127.0.0.1:$xmppplain_port"
until='<success|<failure'
HDR="<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
AUTH="<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>$(printf '\0test\0secret' | base64)</auth>"
for client in s_client gnutls-cli; do
	rm -f "$T/out"
	if [ $client = s_client ]; then
		in_tls "$HDR" "$AUTH" |
		    timeout 30 openssl s_client -quiet -starttls xmpp \
		    -xmpphost localhost -verify_return_error -CAfile "$PKI/ca.pem" \
		    -servername localhost -connect "127.0.0.1:$port_xmpps" \
		    >"$T/out" 2>"$T/err"
	else
		in_tls "$HDR" "$AUTH" |
		    timeout 30 gnutls-cli --starttls-proto=xmpp \
		    --x509cafile "$PKI/ca.pem" --logfile "$T/gcli.log" \
		    -p "$port_xmpps" localhost >"$T/out" 2>"$T/err"
	fi
	grep -q '<success' "$T/out"
	ok $? "xmpp server: $client logs in to Prosody through the relay"
done
start_relay xmppchain -p xmpp --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$port_xmpps" listen:127.0.0.1:0
xmpp_login "$port_xmppchain" >"$T/out" 2>&1
grep -q '<success' "$T/out"
ok $? "xmpp server: the program's client role through its server role logs in"
[ "$(grep -c 'Authenticated as test@localhost' "$T/xmppplain/prosody.log")" = 3 ]
ok $? "xmpp server: the backend saw three logins, each after TLS"
grep -q "S: <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" "$T/xmpps.err"
ok $? "xmpp server: the relay answered <starttls/> itself"

# SASL before TLS, and a stanza behind <starttls/>, by hand.
python3 - "$port_xmpps" "$HDR" "$AUTH" >"$T/out" 2>&1 <<'PY'
import socket, sys
for extra in (sys.argv[3], "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
              + sys.argv[3]):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
    s.sendall(sys.argv[2].encode())
    buf = b""
    while b"</stream:features>" not in buf:
        buf += s.recv(4096)
    s.sendall(extra.encode())
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    print(buf.decode(errors="replace"))
PY
grep -q '<policy-violation' "$T/out"
ok $? "xmpp server: SASL before TLS gets a policy-violation stream error"
wait_for_line "$T/xmpps.err" 'injection' 10
ok $? "xmpp server: a stanza behind <starttls/> ends the session (injection)"
[ "$(grep -c 'Authenticated as' "$T/xmppplain/prosody.log")" = 3 ]
ok $? "xmpp server: neither login reached Prosody"

# White space is no injection: CRLF behind <starttls/> (sslscan sends it)
# and more before the ClientHello, then a login inside TLS.
python3 - "$port_xmpps" "$HDR" "$AUTH" "$PKI/ca.pem" >"$T/out" 2>&1 <<'PY'
import socket, ssl, sys
port, hdr, auth, ca = sys.argv[1:]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
s.sendall(hdr.encode())
buf = b""
while b"</stream:features>" not in buf:
    buf += s.recv(4096)
s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\r\n")
while b"<proceed" not in buf:
    buf += s.recv(4096)
s.sendall(b" \r\n")
t = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost")
t.sendall(hdr.encode())
buf = b""
while b"</stream:features>" not in buf:
    buf += t.recv(4096)
t.sendall(auth.encode())
while b"<success" not in buf and b"<failure" not in buf:
    buf += t.recv(4096)
print(buf.decode(errors="replace"))
PY
grep -q '<success' "$T/out"
ok $? "xmpp server: white space behind <starttls/> and before the ClientHello is let go" ||
    sed 's/^/# /' "$T/out"

start_relay xmppdead -p xmpp "${SRV[@]}" listen:127.0.0.1:0 "127.0.0.1:$dead"
timeout 20 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
print(s.recv(4096).decode())' "$port_xmppdead" >"$T/out" 2>&1
grep -q '<remote-connection-failed' "$T/out"
ok $? "xmpp server: a dead backend: a remote-connection-failed stream error"

finish
