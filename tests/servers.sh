# Real mail servers for the tests, from private configs in $T on loopback:
# Dovecot (IMAP, POP3) and Exim (SMTP).  Sourced after lib.sh and make_pki.

# run_dovecot DIR PORT...: Dovecot from DIR/dovecot.conf, until it listens
# on every PORT.  Its users, reading the test PKI, need the modes.
run_dovecot() {
	local d=$1 p
	shift
	chmod 755 "$T" "$d"
	chmod 644 "$PKI"/*.pem "$PKI"/*.key
	chmod 755 "$PKI"
	chown -R dovecot:dovecot "$d/home" "$d/state"
	bg dovecot -F -c "$d/dovecot.conf"
	for p in "$@"; do
		wait_for_port "$p" 20 ||
		    bail "dovecot did not start: $(cat "$d/dovecot.log" 2>/dev/null)"
	done
}

# start_dovecot [plain]: sets imap_port, pop3_port; user "test", password
# "secret", one message in the inbox.  Its log says "TLS" for each login
# that was.  "plain": no TLS at all, plaintext logins allowed (a backend).
start_dovecot() {
	local d=$T/dovecot ssl=required plainauth=yes
	[ "${1:-}" != plain ] || { ssl=no; plainauth=no; }
	mkdir -p "$d/run" "$d/state" "$d/home/test/Maildir/cur" \
	    "$d/home/test/Maildir/new" "$d/home/test/Maildir/tmp"
	imap_port=$(free_port)
	pop3_port=$(free_port)
	printf 'From: sender@example.org\r\nSubject: hello test\r\n\r\nthe body of the test message\r\n' \
	    >"$d/home/test/Maildir/new/1.test:2,"
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = $ssl
ssl_cert = <$PKI/good.pem
ssl_key = <$PKI/good.key
disable_plaintext_auth = $plainauth
auth_mechanisms = plain login
imap_id_log = *
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$d/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    port = $pop3_port
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
CONF
	run_dovecot "$d" "$imap_port" "$pop3_port"
	DOVECOT_LOG=$d/dovecot.log
}

# start_exim NAME [TLS]: an Exim daemon accepting mail for test.example into
# $T/NAME/inbox; with TLS=no it does not offer STARTTLS; with AUTH=auth it
# offers AUTH PLAIN (user test, password secret), TLS or not.  Sets
# exim_port.
start_exim() {
	local d=$T/$1 adv='*' auth=
	[ "${2:-yes}" = yes ] || adv=
	[ "${3:-}" != auth ] || auth='
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{test}}{eq{$auth3}{secret}}}}
  server_set_id = $auth2'
	mkdir -p "$d/spool" "$d/log"
	exim_port=$(free_port)
	cat >"$d/exim.conf" <<CONF
primary_hostname = mail.test.example
daemon_smtp_ports = $exim_port
local_interfaces = 127.0.0.1
spool_directory = $d/spool
log_file_path = $d/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
tls_advertise_hosts = $adv
tls_certificate = $PKI/good.pem
tls_privatekey = $PKI/good.key
domainlist local_domains = test.example
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept domains = +local_domains
  deny message = relay not permitted

begin routers
local:
  driver = accept
  domains = +local_domains
  transport = to_file

begin transports
to_file:
  driver = appendfile
  file = $d/inbox
  user = Debian-exim
  group = Debian-exim
  mode = 0644
$auth
CONF
	chmod 755 "$T" "$d"
	chmod 644 "$PKI"/*.pem "$PKI"/*.key
	chmod 755 "$PKI"
	chown -R Debian-exim "$d/spool" "$d/log"
	chown Debian-exim "$d"
	bg exim4 -C "$d/exim.conf" -bdf
	wait_for_port "$exim_port" 20 ||
	    bail "exim did not start: $(cat "$d/log/paniclog" 2>/dev/null)"
}

# start_dovecot_line NAME [plain]: a Dovecot in $T/NAME for LMTP and
# ManageSieve; sets lmtp_port and sieve_port.  User "test", password
# "secret"; LMTP delivers to its Maildir.  STARTTLS offered (login only
# inside TLS) with the test PKI; "plain": no TLS at all (a backend).
start_dovecot_line() {
	local d=$T/$1 ssl=yes plainauth=yes
	[ "${2:-}" != plain ] || { ssl=no; plainauth=no; }
	mkdir -p "$d/run" "$d/state" "$d/home/test/Maildir"
	lmtp_port=$(free_port)
	sieve_port=$(free_port)
	cat >"$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
listen = 127.0.0.1
protocols = lmtp sieve
ssl = $ssl
ssl_cert = <$PKI/good.pem
ssl_key = <$PKI/good.key
verbose_ssl = yes
disable_plaintext_auth = $plainauth
auth_mechanisms = plain login
imap_id_log = *
first_valid_uid = 1
mail_location = maildir:~/Maildir
lmtp_user_concurrency_limit = 0
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$d/home/%u
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
service lmtp {
  inet_listener lmtp {
    port = $lmtp_port
  }
  unix_listener lmtp {
    mode = 0
  }
}
service managesieve-login {
  chroot =
  inet_listener sieve {
    port = $sieve_port
  }
}
service anvil {
  chroot =
}
CONF
	run_dovecot "$d" "$lmtp_port" "$sieve_port"
}

# start_inn NAME [plain]: INN's reader, nnrpd, from a private config in
# $T/NAME; sets nntp_port.  One empty group, test.group; posting allowed,
# so it greets 200 (gnutls-cli waits for that).  STARTTLS works with the
# test PKI; with "plain" nnrpd still lists it but cannot start TLS.
start_inn() {
	local d=$T/$1 tls
	tls="tlscapath: $PKI
tlscafile: $PKI/ca.pem
tlscertfile: $PKI/good.pem
tlskeyfile: $d/etc/key.pem"
	[ "${2:-}" != plain ] || tls=
	mkdir -p "$d/etc" "$d/db" "$d/run" "$d/log" "$d/tmp" "$d/over" \
	    "$d/spool/articles" "$d/spool/incoming" "$d/spool/outgoing"
	nntp_port=$(free_port)
	cat >"$d/etc/inn.conf" <<CONF
domain: test.example
pathhost: news.test.example
pathnews: /usr/lib/news
pathbin: /usr/lib/news/bin
mta: /bin/false
pathetc: $d/etc
pathdb: $d/db
pathrun: $d/run
pathlog: $d/log
pathtmp: $d/tmp
pathoverview: $d/over
pathspool: $d/spool
patharticles: $d/spool/articles
pathincoming: $d/spool/incoming
pathoutgoing: $d/spool/outgoing
ovmethod: tradindexed
hismethod: hisv6
readerswhenstopped: true
nnrpdloadlimit: 0
$tls
CONF
	printf 'method timehash {\n  newsgroups: *\n  class: 0\n}\n' \
	    >"$d/etc/storage.conf"
	cat >"$d/etc/readers.conf" <<CONF
auth "all" {
  hosts: "*"
  default: "<all>"
}
access "all" {
  users: "*"
  newsgroups: "*"
  access: RP
}
CONF
	echo 'test.group 0000000000 0000000001 y' >"$d/db/active"
	: >"$d/db/newsgroups"
	chmod 755 "$T" "$d"
	chmod 644 "$PKI"/*.pem "$PKI"/*.key
	chmod 755 "$PKI"
	# nnrpd refuses a key that others may read.
	install -m 600 "$PKI/good.key" "$d/etc/key.pem"
	chown -R news:news "$d"
	# The (empty) overview that nnrpd reads.
	su news -s /bin/sh -c "INNCONF=$d/etc/inn.conf \
	    /usr/lib/news/bin/makehistory -O -x -F" >"$d/makehistory.log" 2>&1 ||
	    bail "makehistory failed: $(cat "$d/makehistory.log")"
	INNCONF=$d/etc/inn.conf bg /usr/lib/news/bin/nnrpd -D -f -b 127.0.0.1 \
	    -p "$nntp_port"
	wait_for_port "$nntp_port" 20 || bail "nnrpd did not start"
}
