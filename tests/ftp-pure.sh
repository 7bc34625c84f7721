#!/bin/bash
# FTP with PROT P against a second real server, pure-ftpd: it conflicts
# with vsftpd in Debian, so .ci/run unpacks it (dpkg-deb -x) into
# /opt/pure-ftpd instead of installing it.  Client role: plain curl and
# ftplib through the relay to a pure-ftpd that requires TLS on control and
# data (-Y 3); server role: curl --ssl-reqd and ftplib prot_p() through
# the relay to a pure-ftpd without TLS.  RETR and STOR of 10 MB, LIST,
# PASV and EPSV.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
PURE=${PURE_FTPD_ROOT:-/opt/pure-ftpd}
require "$PURE/usr/sbin/pure-ftpd" "$PURE/usr/bin/pure-pw" curl python3 \
    certtool
plan 13
make_pki
chmod 755 "$T"
cat "$PKI/good.pem" "$PKI/good.key" >"$T/pure.pem"
chmod 600 "$T/pure.pem"
mkdir -p "$T/home"
random_file "$T/home/big" 10
random_file "$T/up" 10
chown -R nobody:nogroup "$T/home"
chmod 755 "$T/home"
# A virtual user "test", password "secret", living in $T/home as nobody.
printf 'secret\nsecret\n' | "$PURE/usr/bin/pure-pw" useradd test -u nobody \
    -d "$T/home" -f "$T/passwd" -m -F "$T/pdb" >/dev/null 2>&1 ||
    bail "pure-pw failed"

# start_pure TLS-LEVEL: pure-ftpd on loopback (-Y 0: no TLS, 3: TLS on
# control and data required); sets ftp_port.
start_pure() {
	ftp_port=$(free_port)
	bg "$PURE/usr/sbin/pure-ftpd" -S "127.0.0.1,$ftp_port" \
	    -l "puredb:$T/pdb" -Y "$1" -2 "$T/pure.pem" -E -A
	wait_for_port "$ftp_port" 20 || bail "pure-ftpd did not start"
}

# ftplib NAME PORT TLS EPSV: RETR big, STOR up as NAME.up, LIST; prints
# what it did.
ftplib() {
	timeout 60 python3 - "$@" <<'PY'
import ftplib, ssl, sys
name, port, tls, epsv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if tls == "tls":
    ctx = ssl.create_default_context(cafile=sys.argv[5])
    f = ftplib.FTP_TLS(context=ctx, timeout=30)
else:
    f = ftplib.FTP(timeout=30)
f.connect("localhost" if tls == "tls" else "127.0.0.1", port)
f.login("test", "secret")
if tls == "tls":
    f.prot_p()
if epsv == "epsv":	# ftplib asks EPSV only over IPv6
    f.makepasv = lambda: ftplib.parse229(f.sendcmd("EPSV"),
                                         f.sock.getpeername())
with open(sys.argv[6], "wb") as out:
    f.retrbinary("RETR big", out.write)
with open(sys.argv[7], "rb") as src:
    f.storbinary("STOR %s.up" % name, src)
print(" ".join(sorted(f.nlst())))
f.quit()
PY
}

# Client role: the plain side in clear text, pure-ftpd forcing TLS.
start_pure 3
start_relay cli -p ftp --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$ftp_port" listen:127.0.0.1:0
timeout 60 curl -s -u test:secret -o "$T/cli.curl" \
    "ftp://127.0.0.1:$port_cli/big"
is "$?/$(sha "$T/cli.curl")" "0/$(sha "$T/home/big")" \
    "client role: plain curl RETR of 10 MB (EPSV) from pure-ftpd -Y 3"
timeout 60 curl -s --disable-epsv -u test:secret -T "$T/up" \
    "ftp://127.0.0.1:$port_cli/cli.curl.up"
is "$?/$(sha "$T/home/cli.curl.up")" "0/$(sha "$T/up")" \
    "client role: plain curl STOR of 10 MB (PASV)"
for mode in pasv epsv; do
	out=$(ftplib cli-$mode "$port_cli" plain $mode - \
	    "$T/cli.$mode" "$T/up" 2>&1)
	is "$?/$(sha "$T/cli.$mode")/$(sha "$T/home/cli-$mode.up")" \
	    "0/$(sha "$T/home/big")/$(sha "$T/up")" \
	    "client role: plain ftplib ($mode) RETR and STOR of 10 MB"
	case $out in *big*cli-$mode.up*) r=0 ;; *) r=1 ;; esac
	ok $r "client role: and LIST ($mode)"
done
# (pure-ftpd -Y 3 refuses data connections without it: the transfers
# above went through TLS.)
grep -q 'C: PROT P' "$T/cli.err"
ok $? "client role: the relay asked for PROT P"


# Server role: TLS clients in front of a pure-ftpd without TLS.
start_pure 0
start_relay srv -s --cert "$PKI/good.pem" --key "$PKI/good.key" -p ftp \
    listen:127.0.0.1:0 "127.0.0.1:$ftp_port"
timeout 60 curl -s --ssl-reqd --cacert "$PKI/ca.pem" -u test:secret \
    -o "$T/srv.curl" "ftp://localhost:$port_srv/big"
is "$?/$(sha "$T/srv.curl")" "0/$(sha "$T/home/big")" \
    "server role: curl --ssl-reqd RETR of 10 MB (EPSV) through to pure-ftpd"
timeout 60 curl -s --ssl-reqd --disable-epsv --cacert "$PKI/ca.pem" \
    -u test:secret -T "$T/up" "ftp://localhost:$port_srv/srv.curl.up"
is "$?/$(sha "$T/home/srv.curl.up")" "0/$(sha "$T/up")" \
    "server role: curl --ssl-reqd STOR of 10 MB (PASV)"
for mode in pasv epsv; do
	out=$(ftplib srv-$mode "$port_srv" tls $mode "$PKI/ca.pem" \
	    "$T/srv.$mode" "$T/up" 2>&1)
	is "$?/$(sha "$T/srv.$mode")/$(sha "$T/home/srv-$mode.up")" \
	    "0/$(sha "$T/home/big")/$(sha "$T/up")" \
	    "server role: ftplib prot_p() ($mode) RETR and STOR of 10 MB"
	case $out in *big*srv-$mode.up*) r=0 ;; *) r=1 ;; esac
	ok $r "server role: and LIST ($mode)"
done
finish
