#!/bin/bash
# systemd socket activation (Accept=no): the listening socket arrives as
# fd 3 (LISTEN_FDS=1) and the relay accepts on it, many sessions, then exits
# 0 on SIGTERM; the systemd[:NAME] address checks LISTEN_PID and picks a
# socket by LISTEN_FDNAMES.  Here a Python parent plays systemd.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3 certtool
plan 7
make_pki
start_peer echo echo
cat >"$T/activate.py" <<'PY'
import os, signal, socket, ssl, subprocess, sys
relay, cert, key, ca, echo = sys.argv[1:6]
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
port = lsock.getsockname()[1]
if lsock.fileno() != 3:
    os.dup2(lsock.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ, LISTEN_FDS="1")
p = subprocess.Popen([relay, "-s", "--cert", cert, "--key", key, "fd:3",
                      "127.0.0.1:" + echo], pass_fds=(3,), env=env)
if lsock.fileno() != 3:
    os.close(3)
lsock.close()
ctx = ssl.create_default_context(cafile=ca)
good = 0
for i in range(3):
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                        server_hostname="localhost")
    t.sendall(b"session %d\n" % i)
    if t.recv(100) == b"session %d\n" % i:
        good += 1
    t.close()
print(good, "sessions echoed")
p.send_signal(signal.SIGTERM)
print("exit", p.wait(timeout=20))
PY
timeout 60 python3 "$T/activate.py" "$RELAY" "$PKI/good.pem" "$PKI/good.key" \
    "$PKI/ca.pem" "$port_echo" >"$T/out" 2>"$T/err"
rc=$?
ok $rc "the activation script ran"
[ $rc -eq 0 ] || sed "s/^/# /" "$T/err"
is "$(sed -n 1p "$T/out")" "3 sessions echoed" "three sessions accepted on the inherited fd 3"
is "$(sed -n 2p "$T/out")" "exit 0" "SIGTERM: exit 0"

# systemd:NAME: two sockets passed, the relay serves the one named "tls".
# sh -c 'LISTEN_PID=$$ exec ...' sets the PID as systemd does after fork.
cat >"$T/named.py" <<'PY'
import os, signal, socket, ssl, subprocess, sys
relay, cert, key, ca, echo, pid = sys.argv[1:7]
socks = []
for fd in (3, 4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    os.dup2(s.fileno(), fd)
    os.set_inheritable(fd, True)
    socks.append(s)
port = socks[1].getsockname()[1]
env = dict(os.environ, LISTEN_FDS="2", LISTEN_FDNAMES="other:tls")
cmd = 'LISTEN_PID=%s exec "$@"' % ("$$" if pid == "right" else "1")
p = subprocess.Popen(["sh", "-c", cmd, "sh", relay, "-s", "--cert", cert,
                      "--key", key, "systemd:tls", "127.0.0.1:" + echo],
                     pass_fds=(3, 4), env=env)
if pid != "right":
    print("exit", p.wait(timeout=20))
    sys.exit(0)
ctx = ssl.create_default_context(cafile=ca)
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                    server_hostname="localhost")
t.sendall(b"named\n")
print("echo", t.recv(100).decode().strip())
t.close()
p.send_signal(signal.SIGTERM)
print("exit", p.wait(timeout=20))
PY
named() {
	timeout 60 python3 "$T/named.py" "$RELAY" "$PKI/good.pem" "$PKI/good.key" \
	    "$PKI/ca.pem" "$port_echo" "$1" >"$T/out" 2>"$T/err"
}
named right
is "$(tr '\n' ' ' <"$T/out")" "echo named exit 0 " \
    "systemd:tls serves the socket LISTEN_FDNAMES calls tls" ||
    sed "s/^/# /" "$T/err"
named wrong
is "$(cat "$T/out")" "exit 3" "sockets passed to another process (LISTEN_PID): status 3"
grep -q "LISTEN_PID is 1, not this process" "$T/err"
ok $? "and it says so" || sed "s/^/# /" "$T/err"
LISTEN_PID=$$ LISTEN_FDS=1 "$RELAY" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    systemd 127.0.0.1:1 </dev/null >/dev/null 2>"$T/err"
is "$?" 3 "systemd without sockets for this process: status 3"
finish
