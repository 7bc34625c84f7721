#!/usr/bin/env python3
"""A plaintext backend that writes down every line it receives.

  recorder.py PROTO FILE      PROTO: smtp, lmtp, imap, pop3, nntp, sieve,
                              ftp, http-upgrade

Prints its port, then for each connection greets as PROTO would, answers
every line with a generic success (IMAP's CAPABILITY with its untagged
response first, as a scanner expects), and appends each line to FILE.
"""
import socket
import sys
import threading

GREETING = {"smtp": b"220 recorder ESMTP\r\n", "imap": b"* OK recorder\r\n",
            "pop3": b"+OK recorder\r\n", "http-upgrade": b"",
            "lmtp": b"220 recorder LMTP\r\n", "nntp": b"200 recorder\r\n",
            "sieve": b'"IMPLEMENTATION" "recorder"\r\nOK\r\n',
            "ftp": b"220 recorder\r\n"}
REPLY = {"smtp": b"250 ok\r\n", "lmtp": b"250 ok\r\n", "pop3": b"+OK\r\n",
         "nntp": b"200 ok\r\n", "sieve": b"OK\r\n", "ftp": b"200 ok\r\n"}


def serve(c, proto, path):
    try:
        record(c, proto, path)
    except OSError:
        pass        # clients that reset are part of the tests
    c.close()


def record(c, proto, path):
    f = c.makefile("rb")
    c.sendall(GREETING[proto])
    with open(path, "ab", buffering=0) as log:
        for line in f:
            log.write(line)
            if proto in REPLY:
                c.sendall(REPLY[proto])
            elif proto == "imap":
                tag, _, cmd = line.partition(b" ")
                # RFC 3501 7.2.1: the capabilities before the tagged OK.
                if cmd.strip().upper() == b"CAPABILITY":
                    c.sendall(b"* CAPABILITY IMAP4rev1\r\n")
                c.sendall(tag + b" OK done\r\n")
            elif line in (b"\r\n", b"\n"):
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nrecorded\n")


def main():
    proto, path = sys.argv[1], sys.argv[2]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print(srv.getsockname()[1], flush=True)
    for _ in range(1000):
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c, proto, path), daemon=True).start()


main()
