// SPDX-License-Identifier: GPL-2.0-or-later
#include <gnutls/gnutls.h>

#include "log.h"
#include "tls_version.h"

#define TLS1_2			0x0303
#define EXT_SUPPORTED_VERSIONS	43

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The greatest version of a supported_versions list, GREASE (0x?a?a,
 * RFC 8701) left out. */
static unsigned list_max(const uint8_t *p, size_t len)
{
	unsigned max = 0;

	if (len < 1 || p[0] + 1u > len || p[0] % 2)
		return 0;
	for (size_t i = 1; i + 1 < (size_t)p[0] + 1; i += 2) {
		unsigned v = be16(p + i);

		if ((v & 0x0f0f) != 0x0a0a && v > max)
			max = v;
	}
	return max;
}

/* Skip a vector with an @n-byte length prefix at *@at; -1 past the end. */
static int skip(const uint8_t *msg, size_t len, size_t *at, unsigned n)
{
	size_t vlen;

	if (*at + n > len)
		return -1;
	vlen = n == 1 ? msg[*at] : be16(msg + *at);
	if (*at + n + vlen > len)
		return -1;
	*at += n + vlen;
	return 0;
}

unsigned tls_version_max(const uint8_t *msg, size_t len)
{
	size_t at = 34, end;	/* client_version, random */

	if (len < at)
		return 0;
	if (skip(msg, len, &at, 1) || skip(msg, len, &at, 2) ||
	    skip(msg, len, &at, 1))	/* session_id, cipher_suites, compression */
		return 0;
	if (at == len)
		return be16(msg);	/* no extensions (SSLv3 style) */
	if (at + 2 > len || at + 2 + be16(msg + at) > len)
		return 0;
	end = at + 2 + be16(msg + at);
	for (at += 2; at + 4 <= end; at += 4 + be16(msg + at + 2)) {
		size_t elen = be16(msg + at + 2);

		if (at + 4 + elen > end)
			return 0;
		if (be16(msg + at) == EXT_SUPPORTED_VERSIONS)
			return list_max(msg + at + 4, elen);
	}
	return be16(msg);
}

static int on_client_hello(gnutls_session_t session, unsigned htype,
			   unsigned when, unsigned incoming,
			   const gnutls_datum_t *msg)
{
	unsigned v;

	(void)htype;
	(void)when;
	if (!incoming)
		return 0;
	v = tls_version_max(msg->data, msg->size);
	if (v >= TLS1_2)
		return 0;
	log_info("tls: refused a ClientHello offering at most version 0x%04x (TLS 1.2 is the least): sent protocol_version",
		 v);
	gnutls_alert_send(session, GNUTLS_AL_FATAL, GNUTLS_A_PROTOCOL_VERSION);
	return GNUTLS_E_UNSUPPORTED_VERSION_PACKET;
}

void tls_version_watch(void *session)
{
	gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_CLIENT_HELLO,
					   GNUTLS_HOOK_PRE, on_client_hello);
}
