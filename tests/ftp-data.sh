#!/bin/bash
# FTP data connections with PROT P through the relay, both roles, against
# vsftpd: curl --ssl-reqd, lftp (ftp:ssl-force, ftp:ssl-protect-data) and
# Python's ftplib.FTP_TLS with prot_p() in front of a plaintext vsftpd
# (server role); curl, lftp and ftplib in clear text through the relay to
# a vsftpd that forces TLS on data and requires the control session's
# reuse (client role).  LIST, RETR and STOR of 10 MB, PASV and EPSV, and
# active mode (PORT, EPRT).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require vsftpd curl lftp python3 certtool
plan 45
make_pki
chmod 755 "$T" "$PKI"
chmod 644 "$PKI"/*.pem "$PKI"/*.key

# start_vsftpd NAME TLS: an anonymous vsftpd serving and taking uploads in
# $T/NAME/root/pub; with TLS=yes, TLS forced on logins and data, and data
# connections must resume the control session (require_ssl_reuse).
start_vsftpd() {
	local d=$T/$1 ssl=NO
	[ "$2" = yes ] && ssl=YES
	mkdir -p "$d/root/pub" "$d/empty"
	chmod 755 "$d" "$d/root" "$d/empty"
	chmod 777 "$d/root/pub"
	random_file "$d/root/pub/big" 10
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
write_enable=YES
anon_upload_enable=YES
anon_umask=022
anon_root=$d/root
secure_chroot_dir=$d/empty
pasv_enable=YES
pasv_address=127.0.0.1
connect_from_port_20=NO
seccomp_sandbox=NO
ssl_enable=$ssl
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
require_ssl_reuse=YES
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

random_file "$T/up" 10
up_sha=$(sha "$T/up")

# RETR, STOR and LIST of a client through the relay at PORT, to the vsftpd
# serving ROOT (its pub/, where the uploads land): each with the client's
# own options (its TLS in the server role, none in the client role).
curl_run() {	# curl_run NAME PORT ROOT EPSV-OPT CURL-OPTS...
	local name=$1 port=$2 root=$3 epsv=$4
	shift 4
	timeout 60 curl -sS "$@" $epsv "ftp://localhost:$port/pub/big" \
	    -o "$T/$name.got" 2>"$T/$name.cerr"
	is "$(sha "$T/$name.got")" "$(sha "$root/big")" \
	    "$name: curl $epsv RETR of 10 MB"
	timeout 60 curl -sS "$@" $epsv -T "$T/up" \
	    "ftp://localhost:$port/pub/$name.curl" 2>>"$T/$name.cerr"
	is "$(sha "$root/$name.curl")" "$up_sha" \
	    "$name: curl $epsv STOR of 10 MB"
	timeout 60 curl -sS "$@" $epsv "ftp://localhost:$port/pub/" \
	    >"$T/$name.list" 2>>"$T/$name.cerr"
	grep -q " big$" "$T/$name.list"
	ok $? "$name: curl $epsv LIST"
}

lftp_run() {	# lftp_run NAME PORT ROOT SETTINGS
	local name=$1 port=$2 root=$3 set=$4
	rm -f "$T/$name.lget"
	timeout 60 lftp -e "set cmd:fail-exit yes; set net:max-retries 1; \
	    set ssl:ca-file $PKI/ca.pem; $set; \
	    cls -l pub/; get pub/big -o $T/$name.lget; \
	    put $T/up -o pub/$name.lftp; quit" \
	    -u anonymous, "localhost:$port" >"$T/$name.lout" 2>&1
	grep -q " pub/big$" "$T/$name.lout"
	ok $? "$name: lftp LIST"
	is "$(sha "$T/$name.lget")" "$(sha "$root/big")" "$name: lftp RETR"
	is "$(sha "$root/$name.lftp")" "$up_sha" "$name: lftp STOR"
}

ftplib_run() {	# ftplib_run NAME PORT ROOT TLS [active]
	local name=$1 port=$2 root=$3
	python3 - "$port" "$PKI/ca.pem" "$4" "$T/up" "$name" "${5:-passive}" \
	    >"$T/$name.py" 2>&1 <<'PY'
import ftplib, hashlib, socket, ssl, sys
port, ca, tls, up, name, mode = sys.argv[1:]
if tls == "yes":
    ctx = ssl.create_default_context(cafile=ca)
    f = ftplib.FTP_TLS(context=ctx)
else:
    f = ftplib.FTP()
f.connect("localhost", int(port), timeout=30)
f.login()
if tls == "yes":
    f.prot_p()
f.set_pasv(mode == "passive")
# ftplib sends EPSV only for IPv6: PASV, then EPSV.  Active mode: PORT
# (its EPRT listens on IPv6 only).
for epsv in (False, True) if mode == "passive" else (False,):
    f.af = socket.AF_INET6 if epsv else socket.AF_INET
    print("list", any(n.endswith("big") for n in f.nlst("pub")))
    h = hashlib.sha256()
    f.retrbinary("RETR pub/big", h.update)
    print("retr", h.hexdigest())
    with open(up, "rb") as fp:
        f.storbinary("STOR pub/%s.py%d" % (name, epsv), fp)
f.quit()
PY
	local n=2
	[ "${5:-passive}" = passive ] || n=1
	grep -q "^list True" "$T/$name.py" &&
	    [ "$(grep -c "^retr $(sha "$root/big")" "$T/$name.py")" = $n ]
	ok $? "$name: ftplib LIST and RETR (${5:-passive})"
	[ "$(sha "$root/$name.py0")" = "$up_sha" ] &&
	    { [ $n = 1 ] || [ "$(sha "$root/$name.py1")" = "$up_sha" ]; }
	ok $? "$name: ftplib STOR (${5:-passive})"
}

# Server role: TLS clients, a plaintext vsftpd behind the relay.
start_vsftpd plain no
plain_port=$ftp_port
plain_root=$T/plain/root/pub
start_relay srv -p ftp -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 "127.0.0.1:$ftp_port"
for epsv in --disable-epsv --ftp-pasv; do
	curl_run srv$epsv "$port_srv" "$plain_root" $epsv --ssl-reqd \
	    --cacert "$PKI/ca.pem"
done
! grep -q '"PROT\|"PBSZ' "$T/plain/vsftpd.log"
ok $? "server: PBSZ and PROT never reached the backend"
lftp_run srv-lftp "$port_srv" "$plain_root" \
    "set ftp:ssl-force true; set ftp:ssl-protect-data true"
ftplib_run srv-py "$port_srv" "$plain_root" yes
# Active mode (curl 7.88's is broken with TLS even without the relay).
lftp_run srv-lftp-active "$port_srv" "$plain_root" \
    "set ftp:ssl-force true; set ftp:ssl-protect-data true; \
    set ftp:passive-mode off"
ftplib_run srv-py-active "$port_srv" "$plain_root" yes active

# What ftplib sees: data connections resume the control session; a second
# AUTH gets 534; a data connection from another address is refused, and
# the right one still works.
python3 - "$port_srv" "$PKI/ca.pem" >"$T/srv-by-hand" 2>&1 <<'PY'
import ftplib, socket, ssl, sys
class FTP_TLS(ftplib.FTP_TLS):
    # Python 3.11's ftplib does not offer the control session: we do.
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        return self.context.wrap_socket(conn, server_hostname=self.host,
            session=self.sock.session), size
ctx = ssl.create_default_context(cafile=sys.argv[2])
f = FTP_TLS(context=ctx)
f.connect("localhost", int(sys.argv[1]), timeout=30)
f.login()
f.prot_p()
conn = f.transfercmd("NLST pub")
conn.recv(1024)
print("resumed", conn.session_reused)
conn.unwrap()
conn.close()
f.voidresp()
try:
    f.sendcmd("AUTH TLS")
except ftplib.error_perm as e:
    print("auth", e)
port = int(f.sendcmd("EPSV").split("|||")[1].split("|")[0])
s = socket.socket()
s.bind(("127.0.0.2", 0))
s.connect(("127.0.0.1", port))
s.settimeout(30)
try:
    print("other", s.recv(1) == b"")
except ConnectionResetError:
    print("other", True)
f.sendcmd("PASV")
h = f.transfercmd("NLST pub")
print("again", b"big" in h.recv(1024))
PY
grep -q '^resumed True' "$T/srv-by-hand"
ok $? "server: ftplib's data connection resumed the control session"
grep -q '^auth 534' "$T/srv-by-hand"
ok $? "server: a second AUTH inside TLS gets 534"
grep -q '^other True' "$T/srv-by-hand" &&
    grep -q 'data connection refused: not from the TLS client' "$T/srv.err"
ok $? "server: a data connection from another address is refused"
grep -q '^again True' "$T/srv-by-hand"
ok $? "server: the client's own data connection still works"

# A listener nobody connects to closes after --timeout; the session goes
# on.  (The log is polled with a bound, as wait_for_line does.)
start_relay srvt -p ftp -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    --timeout 5 listen:127.0.0.1:0 "127.0.0.1:$plain_port"
python3 - "$port_srvt" "$PKI/ca.pem" "$T/srvt.err" >"$T/srvt-py" 2>&1 <<'PY'
import ftplib, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
f = ftplib.FTP_TLS(context=ctx)
f.connect("localhost", int(sys.argv[1]), timeout=30)
f.login()
f.prot_p()
port = int(f.sendcmd("EPSV").split("|||")[1].split("|")[0])
deadline = time.monotonic() + 30
while "not made in time" not in open(sys.argv[3]).read():
    if time.monotonic() > deadline:
        sys.exit("no timeout")
    time.sleep(0.1)
try:
    socket.create_connection(("127.0.0.1", port), timeout=10).close()
    print("listener still open")
except ConnectionRefusedError:
    print("listener closed")
print(f.sendcmd("NOOP"))
f.quit()
PY
grep -q '^listener closed' "$T/srvt-py" && grep -q '^200 ' "$T/srvt-py"
ok $? "server: an unused data listener closes after --timeout, the session goes on"

# Client role: plain clients, vsftpd with TLS forced on data and session
# reuse required; the relay speaks PROT P to it.
start_vsftpd tls yes
tls_root=$T/tls/root/pub
start_relay cli -p ftp --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$ftp_port" listen:127.0.0.1:0
for epsv in --disable-epsv --ftp-pasv; do
	curl_run cli$epsv "$port_cli" "$tls_root" $epsv
done
grep -q '"PROT P"' "$T/tls/vsftpd.log" &&
    ! grep -q 'session reuse required' "$T/tls/vsftpd.log"
ok $? "client: the relay sent PROT P and resumed the session on data"
lftp_run cli-lftp "$port_cli" "$tls_root" "set ftp:ssl-allow no"
ftplib_run cli-py "$port_cli" "$tls_root" no
# Active mode: PORT and EPRT.
curl_run cli-port "$port_cli" "$tls_root" "-P 127.0.0.1 --disable-eprt"
curl_run cli-eprt "$port_cli" "$tls_root" "-P 127.0.0.1"
lftp_run cli-lftp-active "$port_cli" "$tls_root" \
    "set ftp:ssl-allow no; set ftp:passive-mode off"
ftplib_run cli-py-active "$port_cli" "$tls_root" no active
finish
