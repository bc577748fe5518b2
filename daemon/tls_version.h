/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SU_TLS_VERSION_H
#define SU_TLS_VERSION_H

/*
 * TLS below 1.2 refused with a protocol_version alert. MHD ends a failed
 * handshake by closing the socket, and GnuTLS sends no alert on its own,
 * so an SSLv3, TLS 1.0 or 1.1 client would see a bare close and could
 * not tell why. This looks at the ClientHello before GnuTLS handles it
 * (a handshake hook on the connection's session) and, when the highest
 * version it offers is below TLS 1.2, sends the fatal alert and ends
 * the handshake.
 *
 * tls_version_watch(): @session is MHD's gnutls_session_t of a new TLS
 * connection (MHD_CONNECTION_INFO_GNUTLS_SESSION, at NOTIFY_STARTED).
 * tls_version_max(): the highest version a ClientHello body (@msg, @len:
 * the handshake message without its 4-byte header) offers: the greatest
 * of its supported_versions extension when present (RFC 8446 §4.2.1),
 * else its client_version; 0 when the message is malformed.
 */
#include <stddef.h>
#include <stdint.h>

void tls_version_watch(void *session);
unsigned tls_version_max(const uint8_t *msg, size_t len);

#endif
