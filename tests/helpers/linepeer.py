#!/usr/bin/env python3
"""Scripted LMTP, NNTP and ManageSieve peers for tests/proto-line.sh.

  linepeer.py PROTO MODE CERT KEY    a STARTTLS server (client-role tests)
  linepeer.py PROTO backend FILE     a plaintext backend (server-role tests)

PROTO: lmtp, nntp, sieve.  Prints its port, then serves connections until
killed.  STARTTLS server MODE:
  ok           offers STARTTLS, answers it, does TLS, then writes "tls-ok"
               (ManageSieve: its capabilities again, RFC 5804 2.2; NNTP:
               nothing, and CAPABILITIES gets its list, with POST) and
               echoes lines until EOF
  notoffered   does not offer STARTTLS
  refuse       offers it, then refuses it
  inject       appends a forged response to the STARTTLS reply, same packet
  inject-later sends the forged response as a segment of its own
  forged       as ok, with EVIL-MARK and escape sequences in what it says
               before TLS
The backend appends every line it receives to FILE and answers it as a
small server would: NNTP with one article in group test.group, posting
accepted; LMTP and ManageSieve with a success for everything.
"""
import socket
import ssl
import sys
import threading
import time

SIEVE_CAPS = (b'"IMPLEMENTATION" "linepeer"\r\n"SASL" "PLAIN"\r\n'
              b'"SIEVE" "fileinto"\r\n"VERSION" "1.0"\r\n')
FORGED = {"lmtp": b"250 INJECTED-RESPONSE\r\n",
          "nntp": b"200 INJECTED-RESPONSE\r\n",
          "sieve": b'OK "INJECTED-RESPONSE"\r\n'}
MARK = b"EVIL-MARK \x1b[2J\x1b]0;owned\x07"
ARTICLE = (b"From: poster@example.org\r\nNewsgroups: test.group\r\n"
           b"Subject: hello news\r\nMessage-ID: <1@linepeer>\r\n\r\n"
           b"the body of the test article\r\n..a dot-stuffed line\r\n")


def readline(f):
    line = f.readline(8192)
    if not line:
        raise EOFError
    return line


def opening(proto, mode, c, f):
    """The clear-text part; returns True when STARTTLS was answered."""
    offer = mode != "notoffered"
    evil = MARK if mode == "forged" else b"linepeer"
    if proto == "lmtp":
        c.sendall(b"220 " + evil + b" LMTP ready\r\n")
        readline(f)
        c.sendall(b"250-linepeer\r\n" + (b"250-STARTTLS\r\n" if offer else b"") +
                  b"250 PIPELINING\r\n")
        ok, no = b"220 2.0.0 go\r\n", b"454 4.7.0 not now\r\n"
    elif proto == "nntp":
        c.sendall(b"200 " + evil + b" news ready\r\n")
        readline(f)
        c.sendall(b"101 Capability list:\r\nVERSION 2\r\nREADER\r\n" +
                  (b"STARTTLS\r\n" if offer else b"") + b".\r\n")
        ok, no = b"382 Continue with TLS negotiation\r\n", b"580 no TLS\r\n"
    else:
        c.sendall(SIEVE_CAPS + (b'"STARTTLS"\r\n' if offer else b"") +
                  b'"X-EVIL" "' + evil + b'"\r\nOK "linepeer ready"\r\n')
        ok, no = b'OK "go"\r\n', b'NO "not now"\r\n'
    if not offer:
        return False
    readline(f)
    if mode == "refuse":
        c.sendall(no)
        return False
    if mode == "inject":
        c.sendall(ok + FORGED[proto])
    elif mode == "inject-later":
        c.sendall(ok)
        time.sleep(0.05)
        c.sendall(FORGED[proto])
    else:
        c.sendall(ok)
    return True


def starttls_server(proto, mode, cert, key, c):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    f = c.makefile("rb")
    if not opening(proto, mode, c, f) or mode not in ("ok", "forged"):
        # Leave the relay time to see what it got, then go.
        c.settimeout(10)
        while c.recv(4096):
            pass
        return
    t = ctx.wrap_socket(c, server_side=True)
    f = t.makefile("rb")
    if proto != "nntp":
        t.sendall(SIEVE_CAPS + b'OK "tls-ok"\r\n' if proto == "sieve" else
                  b"tls-ok\r\n")
    try:
        while True:
            line = readline(f)
            if proto == "nntp" and line.upper().startswith(b"CAPABILITIES"):
                line = nntp_answer(line)
            t.sendall(line)
    except (EOFError, OSError, ssl.SSLError):
        pass
    try:
        t.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass


def nntp_answer(line):
    words = line.split()
    cmd = words[0].upper() if words else b""
    if cmd == b"CAPABILITIES":
        return (b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\n"
                b"AUTHINFO USER\r\nLIST ACTIVE NEWSGROUPS\r\n.\r\n")
    if cmd == b"MODE":
        return b"200 reader mode, posting allowed\r\n"
    if cmd == b"AUTHINFO" and len(words) > 1 and words[1].upper() == b"USER":
        return b"381 password please\r\n"
    if cmd == b"AUTHINFO":
        return b"281 authentication accepted\r\n"
    if cmd == b"GROUP":
        return b"211 1 1 1 test.group\r\n"
    if cmd == b"LISTGROUP":
        return b"211 1 1 1 test.group list follows\r\n1\r\n.\r\n"
    if cmd == b"LIST":
        return b"215 list follows\r\ntest.group 1 1 y\r\n.\r\n"
    if cmd in (b"ARTICLE", b"BODY", b"HEAD"):
        return b"220 1 <1@linepeer> article\r\n" + ARTICLE + b".\r\n"
    if cmd == b"DATE":
        return b"111 20260101000000\r\n"
    if cmd == b"POST":
        return b"340 send the article\r\n"
    if cmd == b"QUIT":
        return b"205 bye\r\n"
    return b"500 unknown command\r\n"


def backend(proto, path, c):
    f = c.makefile("rb")
    c.sendall({"lmtp": b"220 linepeer LMTP ready\r\n",
               "nntp": b"200 linepeer news ready, posting allowed\r\n",
               "sieve": SIEVE_CAPS + b'OK "linepeer ready"\r\n'}[proto])
    with open(path, "ab", buffering=0) as log:
        for line in f:
            log.write(line)
            word = line.split(b" ")[0].strip().upper()
            if proto == "lmtp":
                c.sendall(b"250-linepeer\r\n250 PIPELINING\r\n"
                          if word == b"LHLO" else b"250 ok\r\n")
            elif proto == "sieve":
                c.sendall(SIEVE_CAPS + b"OK\r\n" if word == b"CAPABILITY"
                          else b"OK\r\n")
            else:
                c.sendall(nntp_answer(line))
                if word == b"POST":
                    for body in f:
                        log.write(body)
                        if body in (b".\r\n", b".\n"):
                            break
                    c.sendall(b"240 article posted\r\n")
                elif word == b"QUIT":
                    break


def serve(c, fn, *args):
    try:
        fn(*args, c)
    except (EOFError, OSError, ssl.SSLError):
        pass        # clients that reset are part of the tests
    finally:
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        c.close()


def main():
    proto, mode = sys.argv[1], sys.argv[2]
    if mode == "backend":
        fn, args = backend, (proto, sys.argv[3])
    else:
        fn, args = starttls_server, (proto, mode, sys.argv[3], sys.argv[4])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print(srv.getsockname()[1], flush=True)
    for _ in range(1000):
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c, fn) + args,
                         daemon=True).start()


main()
