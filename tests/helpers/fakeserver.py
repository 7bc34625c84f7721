#!/usr/bin/env python3
"""Scripted STARTTLS servers for the client-role tests, honest or hostile.

  fakeserver.py PROTO MODE CERT KEY [CLEARTEXT-LOG]

PROTO: smtp, imap, pop3, http-upgrade, ftp.  Prints its port, then serves
connections one after another until killed, writing each line it read in
clear text to CLEARTEXT-LOG.  Its capabilities include X-STALE-CAP, which
must never reach the plain side.  MODE:
  ok           offers the switch, answers it, does TLS, then (http-upgrade:
               answers one HTTP request, RFC 2817) or writes "tls-ok" and
               echoes lines until EOF
  notoffered   does not offer the switch
  refuse       offers it, then refuses the switch command
  close        offers it, then closes the connection at the switch command
  inject       appends a forged response to the switch reply, same packet
  inject-later sends the forged response as a segment of its own
  forged       as ok, with EVIL-MARK, escape sequences, an [ALERT], a
               [REFERRAL] or an APOP challenge in what it says before TLS
"""
import socket
import ssl
import sys
import time

FORGED = {
    "smtp": b"250 INJECTED-RESPONSE\r\n",
    "imap": b"* OK INJECTED-RESPONSE\r\n",
    "pop3": b"+OK INJECTED-RESPONSE\r\n",
    "http-upgrade": b"HTTP/1.1 200 INJECTED-RESPONSE\r\n\r\n",
    "ftp": b"230 INJECTED-RESPONSE\r\n",
}


CLEARTEXT = None
MARK = b"EVIL-MARK \x1b[2J\x1b]0;owned\x07"


def readline(f, clear=True):
    line = f.readline(8192)
    if not line:
        raise EOFError
    if clear and CLEARTEXT:
        with open(CLEARTEXT, "ab") as log:
            log.write(line)
    return line


def opening(proto, mode, c, f):
    """The clear-text part; returns True when the switch was answered."""
    offer = mode != "notoffered"
    evil = mode == "forged"
    if proto == "smtp":
        c.sendall(b"220-fake.test ESMTP\r\n220 " + (MARK if evil else b"ready") +
                  b"\r\n")
        readline(f)
        c.sendall(b"250-fake.test\r\n250-PIPELINING\r\n" +
                  (b"250-STARTTLS\r\n" if offer else b"") + b"250 SIZE 1000\r\n")
        if not offer:
            return False
        readline(f)
        reply = b"454 4.7.0 not now\r\n" if mode == "refuse" else b"220 2.0.0 go\r\n"
    elif proto == "imap":
        caps = b"IMAP4rev1 X-STALE-CAP" + (b" STARTTLS" if offer else b"")
        if evil:
            c.sendall(b"* OK [ALERT] Your password expired, see "
                      b"evil.example " + MARK + b"\r\n")
        else:
            c.sendall(b"* OK [CAPABILITY " + caps + b"] fake ready\r\n")
        line = readline(f)
        if b"CAPABILITY" in line:
            c.sendall(b"* CAPABILITY " + caps + b"\r\na1 OK done\r\n")
            if not offer:
                return False
            line = readline(f)
        tag = line.split(b" ")[0]
        reply = tag + (b" NO not now\r\n" if mode == "refuse" else
                       b" OK [REFERRAL imap://evil/] begin TLS\r\n" if evil else
                       b" OK begin TLS\r\n")
    elif proto == "pop3":
        c.sendall(b"+OK " + (MARK + b" <1896.697170952@evil.example>" if evil
                             else b"fake ready") + b"\r\n")
        readline(f)
        c.sendall(b"+OK\r\nUSER\r\nX-STALE-CAP\r\n" + (b"STLS\r\n" if offer else b"") + b".\r\n")
        if not offer:
            return False
        readline(f)
        reply = b"-ERR not now\r\n" if mode == "refuse" else b"+OK begin TLS\r\n"
    elif proto == "ftp":
        c.sendall(b"220 " + (MARK if evil else b"fake") + b"\r\n")
        readline(f)
        c.sendall(b"211-Features:\r\n" + (b" AUTH TLS\r\n" if offer else b"") +
                  b" X-STALE-CAP\r\n211 End\r\n")
        if not offer:
            return False
        readline(f)
        reply = b"431 not now\r\n" if mode == "refuse" else b"234 go\r\n"
    else:
        while readline(f) not in (b"\r\n", b"\n"):
            pass
        if not offer or mode == "refuse":
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        reply = (b"HTTP/1.1 101 Switching Protocols\r\n" +
                 (b"X-Evil: " + MARK + b"\r\n" if evil else b"") +
                 b"Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n")
    if mode == "close":
        return False
    if mode == "inject":
        c.sendall(reply + FORGED[proto])
    elif mode == "inject-later":
        c.sendall(reply)
        time.sleep(0.05)
        c.sendall(FORGED[proto])
    else:
        c.sendall(reply)
    return True


def after(proto, mode, c, ctx):
    if mode not in ("ok", "forged"):
        # Leave the relay time to see the forged bytes, then go.
        c.settimeout(10)
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass
        return
    t = ctx.wrap_socket(c, server_side=True)
    f = t.makefile("rb")
    if proto == "http-upgrade":
        # RFC 2817 3.2: after OPTIONS * is upgraded, requests come over TLS.
        request = readline(f, False)
        while readline(f, False) not in (b"\r\n", b"\n"):
            pass
        body = b"over TLS you asked for " + request.split(b" ")[1] + b"\n"
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
    else:
        t.sendall(b"tls-ok\r\n")
        try:
            while True:
                t.sendall(readline(f, False))
        except (EOFError, OSError, ssl.SSLError):
            pass
    try:
        t.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass


def main():
    global CLEARTEXT
    proto, mode, cert, key = sys.argv[1:5]
    CLEARTEXT = sys.argv[5] if len(sys.argv) > 5 else None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print(srv.getsockname()[1], flush=True)
    for _ in range(1000):
        c, _ = srv.accept()
        f = c.makefile("rb")
        try:
            if opening(proto, mode, c, f):
                after(proto, mode, c, ctx)
            elif mode != "close":
                c.settimeout(10)
                while c.recv(4096):
                    pass
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            f.close()
            c.close()


if __name__ == "__main__":
    main()
