/* hooks.h: the lwIP hooks shoal implements (LWIP_HOOK_FILENAME; lwIP's core files
 * include it after their own headers, so lwIP's types are known here). */
#ifndef SHOAL_LWIP_HOOKS_H
#define SHOAL_LWIP_HOOKS_H

#include "lwip/arch.h"
#include "lwip/err.h"

struct tcp_pcb;
struct tcp_hdr;
struct pbuf;

/* Every TCP segment for a known pcb, before lwIP processes it (tcp_input, core lock
 * held): netif.c acknowledges coalesced segments at once and lets connections over a
 * device that segments TCP build 64 KiB segments. Always ERR_OK (never drops). */
err_t port_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
			u8_t *opt2, struct pbuf *p);

#endif
