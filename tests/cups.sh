#!/bin/bash
# http-upgrade (RFC 2817) against CUPS, the one mainstream implementation:
# libcups clients (ipptool -E, lpstat -E, lp -E) upgrade with OPTIONS * and
# then wait for its response inside TLS (3.3); behind the client role,
# cupsd answers that OPTIONS inside TLS, and the plain client must not see
# it.  cupsd runs from private configs in $T.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require cupsd ipptool lpstat lp curl certtool
plan 18
make_pki
# libcups keeps what it learns of servers' certificates under $HOME.
export HOME=$T/home
mkdir -p "$HOME"
head -c 300000 /dev/urandom >"$T/job.bin"

# start_cupsd NAME [HOST]: cupsd on HOST (127.0.0.1), with a "null" queue
# (file:///dev/null), a page at /index.html and the test certificate for
# localhost; sets cups_port.
start_cupsd() {
	local d=$T/$1 host=${2:-127.0.0.1}
	mkdir -p "$d/spool" "$d/tmp" "$d/cache" "$d/state" "$d/log" \
	    "$d/ssl" "$d/doc"
	chown root:lp "$d/spool"
	chmod 0775 "$d/spool"
	chmod 755 "$T" "$d"
	cp "$PKI/good.pem" "$d/ssl/localhost.crt"
	cp "$PKI/good.key" "$d/ssl/localhost.key"
	chgrp lp "$d/ssl/localhost.key"
	chmod 640 "$d/ssl/localhost.key"
	echo '<html>hello from cupsd</html>' >"$d/doc/index.html"
	chmod -R a+rX "$d/doc" "$d/ssl"
	cups_port=$(free_port)
	cat >"$d/cupsd.conf" <<CONF
Listen $host:$cups_port
ServerName localhost
DefaultEncryption IfRequested
LogLevel info
WebInterface Yes
Browsing No
<Location />
  Order allow,deny
  Allow all
</Location>
CONF
	cat >"$d/cups-files.conf" <<CONF
ServerRoot $d
RequestRoot $d/spool
TempDir $d/tmp
CacheDir $d/cache
StateDir $d/state
DocumentRoot $d/doc
AccessLog $d/log/access_log
ErrorLog $d/log/error_log
PageLog $d/log/page_log
ServerKeychain $d/ssl
CreateSelfSignedCerts no
FileDevice Yes
User lp
Group lp
CONF
	cat >"$d/printers.conf" <<CONF
<Printer null>
Info null
DeviceURI file:///dev/null
State Idle
Accepting Yes
Shared No
</Printer>
CONF
	bg cupsd -f -c "$d/cupsd.conf" -s "$d/cups-files.conf"
	wait_for_port "$cups_port" 20 ||
	    bail "cupsd did not start: $(cat "$d/log/error_log" 2>/dev/null)"
}

# relay NAME ARGS...: a listening relay, logging to $T/NAME.err; sets
# relay_port.
relay() {
	local name=$1
	shift
	bg "$RELAY" -v -p http-upgrade "$@"
	wait_for_line "$T/$name.err" 'listening on' ||
	    bail "relay did not start"
	relay_port=$(listen_port "$T/$name.err")
}

# ipptool's test: the queue's state, by its name.
attrs=$T/state.test
cat >"$attrs" <<'TEST'
{
	NAME "Get-Printer-Attributes: printer-state"
	OPERATION Get-Printer-Attributes
	GROUP operation-attributes-tag
	ATTR charset attributes-charset utf-8
	ATTR naturalLanguage attributes-natural-language en
	ATTR uri printer-uri $uri
	ATTR keyword requested-attributes printer-state,printer-name
	STATUS successful-ok
	EXPECT printer-state
	EXPECT printer-name WITH-VALUE "null"
}
TEST

# Server role: a plaintext cupsd behind the relay; libcups asks for TLS.
start_cupsd plain
backend=$cups_port
relay srv -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 "127.0.0.1:$backend" 2>"$T/srv.err"
uri=ipp://127.0.0.1:$relay_port/printers/null
# A libcups client waits for the answer to its OPTIONS * inside TLS; one
# that gives up on it leaves without a byte of data, and the relay says so.
timeout 30 ipptool -E -T 5 -t "$uri" "$attrs" >"$T/ipptool.out" 2>&1
r=$?
ok $r "ipptool -E through the server role: the test passes"
[ $r -eq 0 ] || sed 's/^/# /' "$T/ipptool.out"
grep -q 'S: HTTP/1.1 200 OK' "$T/srv.err"
ok $? "and got our answer to its OPTIONS * inside TLS"
out=$(timeout 30 lpstat -E -h "127.0.0.1:$relay_port" -r 2>&1)
is "$out" "scheduler is running" "lpstat -E -r through the server role"
out=$(timeout 60 lp -E -h "127.0.0.1:$relay_port" -d null "$T/job.bin" 2>&1)
case $out in "request id is null-"*) r=0 ;; *) r=1 ;; esac
ok $r "lp -E of a 300 kB job: '$out'"
# The clients are gone: their sessions' last words are due.
n=$(grep -c 'TLS established' "$T/srv.err")
[ "$n" -ge 3 ] && wait_for_count "$T/srv.err" 'summary:' "$n"
ok $? "every client session went through TLS and ended ($n)"
! grep -q 'left right after the handshake' "$T/srv.err"
ok $? "no libcups client gave up waiting for the OPTIONS response"
grep -q "OPTIONS \* HTTP/1.1" "$T/srv.err"
ok $? "the clients upgraded with OPTIONS *"
status=$(curl -s -m 10 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$relay_port/")
is "$status" 426 "a request without the upgrade gets 426"

# Client role: plain clients in front, cupsd upgrades on request.
start_cupsd tls
relay cli --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$cups_port" listen:127.0.0.1:0 2>"$T/cli.err"
uri=ipp://127.0.0.1:$relay_port/printers/null
timeout 30 ipptool -T 5 -t "$uri" "$attrs" >"$T/ipptool2.out" 2>&1
r=$?
ok $r "plain ipptool through the client role: the test passes"
[ $r -eq 0 ] || sed 's/^/# /' "$T/ipptool2.out"
out=$(timeout 30 lpstat -h "127.0.0.1:$relay_port" -r 2>&1)
is "$out" "scheduler is running" "plain lpstat -r through the client role"
out=$(timeout 60 lp -h "127.0.0.1:$relay_port" -d null "$T/job.bin" 2>&1)
case $out in "request id is null-"*) r=0 ;; *) r=1 ;; esac
ok $r "plain lp of a 300 kB job through the client role: '$out'"
page=$(curl -s -m 10 "http://127.0.0.1:$relay_port/index.html")
is "$page" "<html>hello from cupsd</html>" \
    "curl gets the page, not the OPTIONS answer"
page=$(curl -s -m 10 "http://127.0.0.1:$relay_port/index.html" \
    "http://127.0.0.1:$relay_port/index.html")
is "$page" "$(printf '%s\n%s' "<html>hello from cupsd</html>" \
    "<html>hello from cupsd</html>")" \
    "two requests on one connection: each gets its own answer"
grep -q 'verified yes' "$T/cli.err"
ok $? "cupsd's certificate was verified"
grep -q 'S: HTTP/1.1 200 OK' "$T/cli.err"
ok $? "cupsd answered the relay's OPTIONS * inside TLS with 200"
wait_for_count "$T/cli.err" 'summary:.*verified yes' 5
ok $? "every plain client went through TLS to cupsd, verified"

# Host: for an IPv6 literal, in brackets and with the port (RFC 7230 5.4);
# cupsd takes "::1" for no name of the local host and answers 400.
has_ipv6() {
	python3 -c 'import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}
if has_ipv6; then
	start_cupsd v6 '[::1]'
	relay v6 --cafile "$PKI/ca.pem" "[::1]:$cups_port" \
	    listen:127.0.0.1:0 2>"$T/v6.err"
	page=$(curl -s -m 10 "http://127.0.0.1:$relay_port/index.html")
	is "$page" "<html>hello from cupsd</html>" \
	    "to cupsd on [::1], named by its address: curl gets the page"
	grep -qF "C: Host: [::1]:$cups_port" "$T/v6.err"
	ok $? "the OPTIONS * said Host: [::1]:$cups_port"
else
	skip "no IPv6 loopback here"
	skip "no IPv6 loopback here"
fi
finish
