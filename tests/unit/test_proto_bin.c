/*
 * The binary STARTTLS state machines, both roles: PostgreSQL (SSLRequest)
 * and LDAP (StartTLS extended operation), and the BER reader; the harness
 * is dialogue.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto/ber.h"
#include "dialogue.h"

#define LDAP_STARTTLS_REQ "0\x1d\x02\x01\x01w\x18\x80\x16" "1.3.6.1.4.1.1466.20037"
#define LDAP_STARTTLS_REQ300 "0\x1e\x02\x02\x01,w\x18\x80\x16" "1.3.6.1.4.1.1466.20037"
#define LDAP_OK "0$\x02\x01\x01x\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16" "1.3.6.1.4.1.1466.20037"
#define LDAP_OK300 "0%\x02\x02\x01,x\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16" "1.3.6.1.4.1.1466.20037"
#define LDAP_OK_NONAME "0\x0c\x02\x01\x01x\x07\x0a\x01\x00\x04\x00\x04\x00"
#define LDAP_OK_LONGFORM "0\x81\x9d\x02\x01\x01x\x81\x97\x0a\x01\x00\x04\x00\x04xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x8a\x16" "1.3.6.1.4.1.1466.20037"
#define LDAP_PROTOERR "0*\x02\x01\x01x%\x0a\x01\x02\x04\x00\x04\x1eunsupported extended operation"
#define LDAP_UNAVAIL "0\x1e\x02\x01\x01x\x19\x0a\x01" "4\x04\x00\x04\x12TLS not configured"
#define LDAP_NOTICE "0.\x02\x01\x00x)\x0a\x01" "4\x04\x00\x04\x0agoing away\x8a\x16" "1.3.6.1.4.1.1466.20036"
#define LDAP_OK_ID2 "0$\x02\x01\x02x\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16" "1.3.6.1.4.1.1466.20037"
#define LDAP_OK_OTHERNAME "0\x13\x02\x01\x01x\x0e\x0a\x01\x00\x04\x00\x04\x00\x8a\x05" "1.2.3"
#define LDAP_BIND "0%\x02\x01\x02` \x02\x01\x03\x04\x13" "cn=admin,dc=example\x80\x06secret"
#define LDAP_BIND_REFUSED "0\x1d\x02\x01\x02" "a\x18\x0a\x01\x0d\x04\x00\x04\x11StartTLS required"
#define LDAP_SEARCH "0%\x02\x01\x03" "c \x04\x00\x0a\x01\x00\x0a\x01\x00\x02\x01\x00\x02\x01\x00\x01\x01\x00\x87\x0bobjectClass0\x00"
#define LDAP_SEARCH_ONE "0%\x02\x01\x03" "c \x04\x00\x0a\x01\x01\x0a\x01\x00\x02\x01\x00\x02\x01\x00\x01\x01\x00\x87\x0bobjectClass0\x00"
#define LDAP_ANON_BIND "0\x0c\x02\x01\x01`\x07\x02\x01\x03\x04\x00\x80\x00"
#define LDAP_ANON_OK "0\x0c\x02\x01\x01" "a\x07\x0a\x01\x00\x04\x00\x04\x00"
#define LDAP_ROOT_DSE "0\x56\x02\x01\x03" "d\x51\x04\x00" "0\x4d" \
	"0\x2e\x04\x12supportedExtension" "1\x18\x04\x16" "1.3.6.1.4.1.1466.20037" \
	"0\x1b\x04\x14supportedLDAPVersion" "1\x03\x04\x01" "3"
#define LDAP_ROOT_DONE "0\x0c\x02\x01\x03" "e\x07\x0a\x01\x00\x04\x00\x04\x00"
#define LDAP_SEARCH_REFUSED "0\x1d\x02\x01\x03" "e\x18\x0a\x01\x0d\x04\x00\x04\x11StartTLS required"
#define LDAP_WHOAMI "0\x1e\x02\x01\x04w\x19\x80\x17" "1.3.6.1.4.1.4203.1.11.3"
#define LDAP_WHOAMI_REFUSED "0\x1d\x02\x01\x04x\x18\x0a\x01\x0d\x04\x00\x04\x11StartTLS required"
#define LDAP_UNBIND "0\x05\x02\x01\x05" "B\x00"
#define LDAP_UNKNOWN "0\x05\x02\x01\x06G\x00"
#define LDAP_INDEF "0\x80\x02\x01\x01x\x07\x0a\x01\x00\x04\x00\x04\x00\x00\x00"
#define LDAP_TOOBIG "0\x82@\x01"
#define LDAP_LEN5 "0\x85\x00\x00\x00\x00\x05"
#define LDAP_NOTSEQ "1\x03\x02\x01\x01"
#define PG_SSLREQ "\x00\x00\x00\x08\x04\xd2\x16/"
#define PG_GSSREQ "\x00\x00\x00\x08\x04\xd2\x16" "0"
#define PG_STARTUP "\x00\x00\x00)\x00\x03\x00\x00user\x00postgres\x00" "database\x00postgres\x00\x00"
#define PG_CANCEL "\x00\x00\x00\x10\x04\xd2\x16.\x00\x00\x04\xd2\x00\x00\x16."
#define PG_ERR "E\x00\x00\x00\x17SFATAL\x00" "C28000\x00Mno\x00\x00"
#define PG_SSL_REQUIRED "E\x00\x00\x00(SFATAL\x00VFATAL\x00" "C28000\x00MSSL required\x00\x00"
#define PG_TOOLONG "\x00\x00'\x11\x00\x03\x00\x00"
#define PG_TOOSHORT "\x00\x00\x00\x04\x00\x03\x00\x00"
#define PG_CANCEL20 "\x00\x00\x00\x14\x04\xd2\x16.\x00\x00\x04\xd2\x00\x00\x16.\x00\x00\x00\x00"
#define PG_HELLO "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03"
#define PG_SASL "R\x00\x00\x00*\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00"
#define PG_SASL_NOPLUS "R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"
#define PG_SASL_PLUSONLY "R\x00\x00\x00\x1c\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00\x00"
#define PG_SASL_BAD "R\x00\x00\x00\x10\x00\x00\x00\x0aSCRAMSHA"
#define PG_SASL_CONT "R\x00\x00\x00\x0d\x00\x00\x00\x0br=abc"
#define PG_SASL_RESP "p\x00\x00\x00\x08r=ab"
#define PG_AUTHOK "R\x00\x00\x00\x08\x00\x00\x00\x00"
#define PG_READY "Z\x00\x00\x00\x05I"
#define PG_HUGE "R\x00\x01\x00\x00"

static void
postgres_client(void)
{
	static const struct step good[] = { T("S"), END },
	    no[] = { T("N"), END },
	    err[] = { T(PG_ERR), END },
	    odd[] = { T("X"), END },
	    inject[] = { T("S" PG_ERR), END },
	    inject_later[] = { T("S"), T("Z"), END },
	    no_more[] = { T("NZ"), T("Y"), END };
	const enum proto pg = PROTO_POSTGRES;

	dialogue("postgres client: SSLRequest, 'S'", pg, ROLE_CLIENT, 0, good,
	    (struct want){ SWITCH, B(PG_SSLREQ), B(""), NULL });
	dialogue("postgres client: 'N' fails closed", pg, ROLE_CLIENT, 0, no,
	    (struct want){ FAIL, ANY, B(""), "does not offer SSL" });
	dialogue("postgres client: 'N' with --opportunistic: clear text", pg,
	    ROLE_CLIENT, 1, no, (struct want){ FALLBACK, ANY, B(""),
	    "CLEAR TEXT" });
	dialogue("postgres client: an ErrorResponse", pg, ROLE_CLIENT, 0, err,
	    (struct want){ FAIL, ANY, ANY, "error" });
	dialogue("postgres client: another byte", pg, ROLE_CLIENT, 1, odd,
	    (struct want){ FAIL, ANY, ANY, "0x58" });
	dialogue("postgres client: bytes after 'S', same read (CVE-2021-23222)",
	    pg, ROLE_CLIENT, 0, inject, (struct want){ FAIL, ANY, B(""),
	    "injection" });
	dialogue("postgres client: bytes after 'S', a later read", pg,
	    ROLE_CLIENT, 0, inject_later, (struct want){ FAIL, ANY, B(""),
	    "injection" });
	dialogue("postgres client: --opportunistic relays what follows 'N'", pg,
	    ROLE_CLIENT, 1, no_more, (struct want){ FALLBACK, ANY, B("ZY"),
	    "CLEAR TEXT" });
}

/* Client role inside TLS: the login, read until AuthenticationOk. */
static void
postgres_client_login(void)
{
	static const struct step scram[] = { T("S"), H, P(PG_STARTUP),
		T(PG_SASL), P(PG_SASL_RESP), T(PG_SASL_CONT),
		T(PG_AUTHOK PG_READY PG_SASL), P("Q"), END },
	    prefer[] = { T("S"), H, P(PG_SSLREQ), T("N"), P(PG_STARTUP),
		T(PG_SASL), END },
	    plusonly[] = { T("S"), H, P(PG_STARTUP), T(PG_SASL_PLUSONLY),
		END },
	    bad[] = { T("S"), H, P(PG_STARTUP), T(PG_SASL_BAD), END },
	    huge[] = { T("S"), H, P(PG_STARTUP), T(PG_HUGE), END },
	    refused[] = { T("S"), H, P(PG_STARTUP), T(PG_ERR PG_SASL), END },
	    first[] = { T("S"), H, P("hel"), T("tls-ok\n"), P("lo"), END };
	const enum proto pg = PROTO_POSTGRES;

	dialogue("postgres client: SCRAM, -PLUS withheld, then untouched", pg,
	    ROLE_CLIENT, 0, scram, (struct want){ SWITCH,
	    B(PG_SSLREQ PG_STARTUP PG_SASL_RESP "Q"),
	    B(PG_SASL_NOPLUS PG_SASL_CONT PG_AUTHOK PG_READY PG_SASL), NULL });
	dialogue("postgres client: the plain client's own SSLRequest gets 'N'",
	    pg, ROLE_CLIENT, 0, prefer, (struct want){ SWITCH,
	    B(PG_SSLREQ PG_SSLREQ PG_STARTUP), B("N" PG_SASL_NOPLUS), NULL });
	dialogue("postgres client: only -PLUS mechanisms fail", pg,
	    ROLE_CLIENT, 0, plusonly, (struct want){ FAIL, ANY, B(""),
	    "only SASL mechanisms with channel binding" });
	dialogue("postgres client: a malformed AuthenticationSASL fails", pg,
	    ROLE_CLIENT, 0, bad, (struct want){ FAIL, ANY, B(""),
	    "malformed AuthenticationSASL" });
	dialogue("postgres client: a message over 64 KiB in the login fails",
	    pg, ROLE_CLIENT, 0, huge, (struct want){ FAIL, ANY, B(""),
	    "length 65536" });
	dialogue("postgres client: an ErrorResponse hands over", pg,
	    ROLE_CLIENT, 0, refused, (struct want){ SWITCH, ANY,
	    B(PG_ERR PG_SASL), NULL });
	dialogue("postgres client: a server that speaks first: as it is", pg,
	    ROLE_CLIENT, 0, first, (struct want){ SWITCH,
	    B(PG_SSLREQ "hello"), B("tls-ok\n"), NULL });
}

static void
postgres_server(void)
{
	static const struct step good[] = { T(PG_SSLREQ), END },
	    gss[] = { T(PG_GSSREQ), T(PG_SSLREQ), END },
	    startup[] = { T(PG_STARTUP), END },
	    cancel[] = { T(PG_CANCEL), END },
	    cancel_more[] = { T(PG_CANCEL "Q"), END },
	    cancel_later[] = { T(PG_CANCEL), T("Q"), END },
	    cancel_backend[] = { T(PG_CANCEL), P("E"), END },
	    cancel20[] = { T(PG_CANCEL20), END },
	    direct[] = { T("\x16"), END },
	    direct_late[] = { T(PG_GSSREQ), T(PG_HELLO), END },
	    plain[] = { T(PG_STARTUP "Q"), END },
	    inject[] = { T(PG_SSLREQ PG_STARTUP), END },
	    inject_later[] = { T(PG_SSLREQ), T(PG_STARTUP), END },
	    toolong[] = { T(PG_TOOLONG), END },
	    tooshort[] = { T(PG_TOOSHORT), END },
	    backend[] = { P("R"), END };
	const enum proto pg = PROTO_POSTGRES;

	dialogue("postgres server: SSLRequest gets 'S'", pg, ROLE_SERVER, 0,
	    good, (struct want){ SWITCH, B("S"), B(""), NULL });
	dialogue("postgres server: GSSENCRequest gets 'N', then SSLRequest",
	    pg, ROLE_SERVER, 0, gss, (struct want){ SWITCH, B("NS"), B(""),
	    NULL });
	dialogue("postgres server: a StartupMessage in clear text is refused",
	    pg, ROLE_SERVER, 0, startup, (struct want){ FAIL,
	    B(PG_SSL_REQUIRED), B(""), "SSL required" });
	dialogue("postgres server: a CancelRequest goes to the backend", pg,
	    ROLE_SERVER, 0, cancel, (struct want){ PENDING, B(""),
	    B(PG_CANCEL), NULL });
	dialogue("postgres server: the same with --allow-plain", pg,
	    ROLE_SERVER, 1, cancel, (struct want){ PENDING, B(""),
	    B(PG_CANCEL), NULL });
	dialogue("postgres server: bytes behind a CancelRequest end it", pg,
	    ROLE_SERVER, 0, cancel_more, (struct want){ FAIL, B(""),
	    B(PG_CANCEL), "1 bytes from the client after a CancelRequest" });
	dialogue("postgres server: the same, a later read", pg, ROLE_SERVER,
	    0, cancel_later, (struct want){ FAIL, B(""), B(PG_CANCEL),
	    "after a CancelRequest" });
	dialogue("postgres server: the backend answering a CancelRequest", pg,
	    ROLE_SERVER, 0, cancel_backend, (struct want){ FAIL, B(""),
	    B(PG_CANCEL), "the backend after a CancelRequest" });
	dialogue("postgres server: a CancelRequest of 20 bytes", pg,
	    ROLE_SERVER, 0, cancel20, (struct want){ FAIL, B(""), B(""),
	    "not 16" });
	dialogue("postgres server: a TLS record first is direct TLS", pg,
	    ROLE_SERVER, 0, direct, (struct want){ SWITCH, B(""), B(""),
	    NULL });
	dialogue("postgres server: direct TLS only as the first bytes", pg,
	    ROLE_SERVER, 0, direct_late, (struct want){ FAIL, B("N"), B(""),
	    "not a PostgreSQL startup packet" });
	dialogue("postgres server: --allow-plain relays the StartupMessage on",
	    pg, ROLE_SERVER, 1, plain, (struct want){ FALLBACK, B(""),
	    B(PG_STARTUP "Q"), "CLEAR TEXT" });
	dialogue("postgres server: a StartupMessage behind SSLRequest, same "
	    "read", pg, ROLE_SERVER, 0, inject, (struct want){ FAIL, ANY, B(""),
	    "injection" });
	dialogue("postgres server: a StartupMessage behind SSLRequest, later",
	    pg, ROLE_SERVER, 0, inject_later, (struct want){ FAIL, ANY, B(""),
	    "injection" });
	dialogue("postgres server: a length over 10000", pg, ROLE_SERVER, 0,
	    toolong, (struct want){ FAIL, B(""), B(""), "length 10001" });
	dialogue("postgres server: a length under 8", pg, ROLE_SERVER, 0,
	    tooshort, (struct want){ FAIL, B(""), B(""), "length 4" });
	dialogue("postgres server: the backend may not speak first", pg,
	    ROLE_SERVER, 0, backend, (struct want){ FAIL, B(""), B(""),
	    "backend" });
}

/*
 * Direct TLS hands over what the client sent so far, whole, as the start
 * of the TLS session, with the ALPN protocol it must ask for.
 */
static void
postgres_direct(void)
{
	struct proto_cfg	 pc = { PROTO_POSTGRES, ROLE_SERVER,
				    "localhost", "localhost", 0, 0, 0 };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;

	proto_out_init(&out);
	proto_from_tls(p, B(PG_HELLO), &out);
	ok(out.start_tls && !out.fail,
	    "postgres server: direct TLS starts TLS");
	ok(out.tls_first.len == sizeof(PG_HELLO) - 1 &&
	    memcmp(out.tls_first.data, PG_HELLO, out.tls_first.len) == 0,
	    "  with the ClientHello's bytes as the TLS session's first");
	ok(out.alpn != NULL && strcmp(out.alpn, "postgresql") == 0,
	    "  and ALPN postgresql required");
	ok(out.to_tls.len == 0 && out.to_plain.len == 0,
	    "  and nothing for either side");
	proto_out_free(&out);
	proto_free(p);
}

static void
ldap_client(void)
{
	static const struct step good[] = { T(LDAP_OK), END },
	    noname[] = { T(LDAP_OK_NONAME), END },
	    longform[] = { T(LDAP_OK_LONGFORM), END },
	    protoerr[] = { T(LDAP_PROTOERR), END },
	    unavail[] = { T(LDAP_UNAVAIL), END },
	    notice[] = { T(LDAP_NOTICE), END },
	    otherid[] = { T(LDAP_OK_ID2), END },
	    othername[] = { T(LDAP_OK_OTHERNAME), END },
	    inject[] = { T(LDAP_OK LDAP_OK_ID2), END },
	    inject_later[] = { T(LDAP_OK), T(LDAP_OK_ID2), END },
	    refuse_more[] = { T(LDAP_PROTOERR LDAP_OK), END },
	    indef[] = { T(LDAP_INDEF), END },
	    toobig[] = { T(LDAP_TOOBIG), END },
	    len5[] = { T(LDAP_LEN5), END },
	    notseq[] = { T(LDAP_NOTSEQ), END };
	const enum proto l = PROTO_LDAP;

	dialogue("ldap client: StartTLS, success", l, ROLE_CLIENT, 0, good,
	    (struct want){ SWITCH, B(LDAP_STARTTLS_REQ), B(""), NULL });
	dialogue("ldap client: success without responseName", l, ROLE_CLIENT,
	    0, noname, (struct want){ SWITCH, ANY, B(""), NULL });
	dialogue("ldap client: a long-form length", l, ROLE_CLIENT, 0, longform,
	    (struct want){ SWITCH, ANY, B(""), NULL });
	dialogue("ldap client: protocolError fails closed", l, ROLE_CLIENT, 0,
	    protoerr, (struct want){ FAIL, ANY, B(""), "resultCode 2" });
	dialogue("ldap client: protocolError with --opportunistic", l,
	    ROLE_CLIENT, 1, protoerr, (struct want){ FALLBACK, ANY, B(""),
	    "CLEAR TEXT" });
	dialogue("ldap client: unavailable", l, ROLE_CLIENT, 0, unavail,
	    (struct want){ FAIL, ANY, B(""), "does not offer StartTLS" });
	dialogue("ldap client: a Notice of Disconnection", l, ROLE_CLIENT, 0,
	    notice, (struct want){ FAIL, ANY, B(""), "closing" });
	dialogue("ldap client: another messageID", l, ROLE_CLIENT, 0, otherid,
	    (struct want){ FAIL, ANY, B(""), "messageID 2" });
	dialogue("ldap client: another responseName", l, ROLE_CLIENT, 0,
	    othername, (struct want){ FAIL, ANY, B(""), "another operation" });
	dialogue("ldap client: a response behind success, same read", l,
	    ROLE_CLIENT, 0, inject, (struct want){ FAIL, ANY, B(""),
	    "injection" });
	dialogue("ldap client: a response behind success, later", l,
	    ROLE_CLIENT, 0, inject_later, (struct want){ FAIL, ANY, B(""),
	    "injection" });
	dialogue("ldap client: --opportunistic relays what follows a refusal",
	    l, ROLE_CLIENT, 1, refuse_more, (struct want){ FALLBACK, ANY,
	    B(LDAP_OK), "CLEAR TEXT" });
	dialogue("ldap client: an indefinite length", l, ROLE_CLIENT, 0, indef,
	    (struct want){ FAIL, ANY, B(""), "definite-length" });
	dialogue("ldap client: a message over 16 KiB", l, ROLE_CLIENT, 0,
	    toobig, (struct want){ FAIL, ANY, B(""), "at most 16384" });
	dialogue("ldap client: a 5-byte length", l, ROLE_CLIENT, 0, len5,
	    (struct want){ FAIL, ANY, B(""), "definite-length" });
	dialogue("ldap client: not a SEQUENCE", l, ROLE_CLIENT, 0, notseq,
	    (struct want){ FAIL, ANY, B(""), "not an LDAP message" });
}

static void
ldap_server(void)
{
	static const struct step good[] = { T(LDAP_STARTTLS_REQ), END },
	    id300[] = { T(LDAP_STARTTLS_REQ300), END },
	    bind[] = { T(LDAP_BIND), T(LDAP_SEARCH_ONE LDAP_WHOAMI),
		T(LDAP_UNBIND), T(LDAP_STARTTLS_REQ), END },
	    plain[] = { T(LDAP_BIND LDAP_SEARCH), END },
	    rootdse[] = { T(LDAP_ANON_BIND LDAP_SEARCH),
		T(LDAP_STARTTLS_REQ), END },
	    inject[] = { T(LDAP_STARTTLS_REQ LDAP_BIND), END },
	    inject_later[] = { T(LDAP_STARTTLS_REQ), T(LDAP_BIND), END },
	    notice[] = { P(LDAP_NOTICE), END },
	    unknown[] = { T(LDAP_UNKNOWN), END },
	    indef[] = { T(LDAP_INDEF), END },
	    toobig[] = { T(LDAP_TOOBIG), END };
	const enum proto l = PROTO_LDAP;

	dialogue("ldap server: StartTLS gets success", l, ROLE_SERVER, 0, good,
	    (struct want){ SWITCH, B(LDAP_OK), B(""), NULL });
	dialogue("ldap server: the same messageID (300)", l, ROLE_SERVER, 0,
	    id300, (struct want){ SWITCH, B(LDAP_OK300), B(""), NULL });
	dialogue("ldap server: Bind, Search, WhoAmI get confidentialityRequired",
	    l, ROLE_SERVER, 0, bind, (struct want){ SWITCH,
	    B(LDAP_BIND_REFUSED LDAP_SEARCH_REFUSED LDAP_WHOAMI_REFUSED LDAP_OK),
	    B(""), NULL });
	dialogue("ldap server: an anonymous Bind and the root DSE are ours",
	    l, ROLE_SERVER, 0, rootdse, (struct want){ SWITCH,
	    B(LDAP_ANON_OK LDAP_ROOT_DSE LDAP_ROOT_DONE LDAP_OK), B(""),
	    NULL });
	dialogue("ldap server: --allow-plain relays the Bind on", l,
	    ROLE_SERVER, 1, plain, (struct want){ FALLBACK, B(""),
	    B(LDAP_BIND LDAP_SEARCH), "CLEAR TEXT" });
	dialogue("ldap server: a Bind behind StartTLS, same read", l,
	    ROLE_SERVER, 0, inject, (struct want){ FAIL, B(LDAP_OK), B(""),
	    "injection" });
	dialogue("ldap server: a Bind behind StartTLS, later", l, ROLE_SERVER,
	    0, inject_later, (struct want){ FAIL, B(LDAP_OK), B(""),
	    "injection" });
	dialogue("ldap server: the backend's Notice goes to the client", l,
	    ROLE_SERVER, 0, notice, (struct want){ PENDING, B(LDAP_NOTICE),
	    B(""), NULL });
	dialogue("ldap server: an unknown operation", l, ROLE_SERVER, 0,
	    unknown, (struct want){ FAIL, B(""), B(""), "unknown" });
	dialogue("ldap server: an indefinite length", l, ROLE_SERVER, 0, indef,
	    (struct want){ FAIL, B(""), B(""), "definite-length" });
	dialogue("ldap server: a message over 16 KiB", l, ROLE_SERVER, 0,
	    toobig, (struct want){ FAIL, B(""), B(""), "at most 16384" });
}

/* The dead-backend messages parse as what they claim to be. */
static void
unavailable(void)
{
	const char	*pg = proto_unavailable(PROTO_POSTGRES);
	const char	*l = proto_unavailable(PROTO_LDAP);
	size_t		 pglen = proto_unavailable_len(PROTO_POSTGRES);
	size_t		 llen = proto_unavailable_len(PROTO_LDAP), total = 0;
	struct ldap_msg	 m;
	unsigned long	 n;

	n = (unsigned long)(unsigned char)pg[1] << 24 |
	    (unsigned long)(unsigned char)pg[2] << 16 |
	    (unsigned long)(unsigned char)pg[3] << 8 | (unsigned char)pg[4];
	ok(pg[0] == 'E' && n == pglen - 1 && pg[pglen - 1] == '\0' &&
	    pg[pglen - 2] == '\0' && memmem(pg, pglen, "C08006", 7) != NULL,
	    "postgres: the dead backend's ErrorResponse (08006) is well formed");
	ok(ber_msg_len(l, llen, &total) == 1 && total == llen &&
	    ber_ldap_msg(l, llen, &m) == 0 && m.id == 0 && m.op == 0x78 &&
	    memcmp(l + llen - 22, "1.3.6.1.4.1.1466.20036", 22) == 0,
	    "ldap: the dead backend's Notice of Disconnection is well formed");
	is_int((long)proto_unavailable_len(PROTO_SMTP),
	    (long)strlen(proto_unavailable(PROTO_SMTP)),
	    "text protocols: the length of the text");
}

int
main(void)
{
	postgres_client();
	postgres_client_login();
	postgres_server();
	postgres_direct();
	ldap_client();
	ldap_server();
	unavailable();
	return done_testing();
}
