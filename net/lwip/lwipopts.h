/* lwipopts.h: shoal's lwIP 2.1.3 configuration (everything not set here keeps lwIP's
 * default from lwip/opt.h).
 *
 * The stack runs with an OS (NO_SYS 0): one tcpip thread owns the core, kernel threads
 * use the sockets or netconn API, and with core locking those calls take the core lock
 * instead of a message round trip through the tcpip thread. NIC receive threads hand
 * frames to the tcpip thread's mailbox (tcpip_input), which never blocks them.
 *
 * Memory, sized for one fast TCP stream per direction and a few dozen connections on a
 * node with as little as 32 MiB (all of it static, in .bss):
 *   lwIP heap (MEM_SIZE)                   512 KiB  TX segments (PBUF_RAM), ARP queue
 *   PBUF_POOL 512 x 1560 B                 780 KiB  receive frames (copied ones)
 *   TCP segments 718, ROM/REF pbufs 512, PCBs 32+8, netconns 40, tcpip messages
 *   256+32: ~75 KiB
 * 1.35 MiB in all (measured: lwIP's .bss is 1409 KB), 4% of a 32 MiB node. A TCP
 * connection may hold 256 KiB of unacknowledged data each way: over virtio-net, whose
 * host hands over 64 KiB segments and takes 64 KiB ones to cut (net/lwip/netif.c), a
 * window must hold several such segments to keep the stream going. (virtio-net lends
 * its own receive buffers, so its frames mostly stay out of the pool.) For a driver
 * whose frames are copied, the pool holds such a window, plus what a reader has taken
 * but not yet freed (netconn opens the window when it hands data over), plus the
 * frames in the tcpip mailbox: with 256 buffers a 64 MiB echo over copied virtio-net
 * frames lost some to an empty pool (TCP sent them again), with 512 none. Beyond that,
 * received frames are dropped and counted, and TCP sends them again. */
#ifndef SHOAL_LWIPOPTS_H
#define SHOAL_LWIPOPTS_H

/* The OS glue: threads, semaphores, mailboxes (sys_arch.c). */
#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1 /* pools are touched by NIC threads and socket callers */
#define LWIP_TCPIP_CORE_LOCKING 1
/* Receive threads only post frames to the tcpip mailbox. Running the stack on each frame
 * in the receive thread instead (1) halves a ping's round trip under TCG, but a copying
 * driver's thread then retakes the core lock frame after frame while the reader of the
 * connection waits for it: a 64 MiB echo over e1000 fell from 4.9 to 0.3 MB/s on a busy
 * host. */
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0
#define LWIP_NETCONN_SEM_PER_THREAD 0
#define LWIP_TIMERS 1
/* Every raw-API entry point checks that its caller holds the core lock (sys_arch.c):
 * a kernel thread calling tcp_* or netif_* without LOCK_TCPIP_CORE panics at once
 * instead of corrupting the stack's state later. */
void sys_arch_check_core_locked(void);
#define LWIP_ASSERT_CORE_LOCKED() sys_arch_check_core_locked()

/* Thread parameters: kernel threads have a fixed stack (THREAD_STACK_SIZE) and one
 * priority, so the sizes and priorities lwIP passes are ignored. */
#define TCPIP_THREAD_NAME "tcpip"
#define TCPIP_THREAD_STACKSIZE 0
#define TCPIP_THREAD_PRIO 0
#define DEFAULT_THREAD_STACKSIZE 0
#define DEFAULT_THREAD_PRIO 0

/* Mailbox depths: the tcpip mailbox takes every received frame, so it is deep. */
#define TCPIP_MBOX_SIZE 1024
/* A connection's queue of received segments for its reader holds a full window of
 * MSS-sized ones: TCP drops a data segment it cannot queue, and the sender must send it
 * again (a 16 MiB echo over e1000 did so thousands of times with 64 entries). */
#define DEFAULT_TCP_RECVMBOX_SIZE (TCP_WND / TCP_MSS + 16)
#define DEFAULT_UDP_RECVMBOX_SIZE 64
#define DEFAULT_RAW_RECVMBOX_SIZE 16
#define DEFAULT_ACCEPTMBOX_SIZE 16

/* Memory. lwIP's own heap and pools, protected by sys_arch_protect. */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (512 * 1024)
#define MEMP_OVERFLOW_CHECK 0
#define PBUF_POOL_SIZE 512
#define MEMP_NUM_PBUF 512 /* PBUF_REF/ROM headers: lwiperf sends one per 1460 bytes */
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_UDP_PCB 16
#define MEMP_NUM_TCP_PCB 64
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_TCP_SEG TCP_SND_QUEUELEN
#define MEMP_NUM_REASSDATA 8
#define MEMP_NUM_FRAG_PBUF 16
#define MEMP_NUM_ARP_QUEUE 32
#define MEMP_NUM_NETBUF 32
#define MEMP_NUM_NETCONN 40 /* also the number of sockets */
#define MEMP_NUM_SELECT_CB 8
#define MEMP_NUM_TCPIP_MSG_API 32
#define MEMP_NUM_TCPIP_MSG_INPKT 512 /* one per frame queued to the tcpip thread */
#define MEMP_NUM_NETDB 4
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* Protocols. */
#define LWIP_ARP 1
#define ARP_TABLE_SIZE 64 /* a cluster's nodes share one L2 segment */
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_IPV6_AUTOCONFIG 1
#define IPV6_FRAG_COPYHEADER 1 /* 64-bit pointers do not fit in the fragment header */
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0 /* an ARP probe costs ~1 s of boot; slirp/dnsmasq check */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 1
#define LWIP_DNS 1
#define DNS_MAX_SERVERS 2
#define LWIP_UDP 1
#define LWIP_TCP 1
#define TCP_MSS 1460
/* Windows beyond 64 KiB (RFC 7323 scaling): a device that coalesces received segments
 * hands up 64 KiB at a time, and a window must hold several. */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 3
#define TCP_WND (256 * 1024)
#define TCP_SND_BUF (256 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
/* lwIP's default (half the buffer) would overflow its u16 checks. */
#define TCP_SNDLOWAT (16 * TCP_MSS)
#define TCP_LISTEN_BACKLOG 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_ALTCP 0

/* Interfaces: status and link callbacks drive the address log line; the loopback
 * interface (127.0.0.1) serves local connections and the self-tests. */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_EXT_STATUS_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 64
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define LWIP_NUM_NETIF_CLIENT_DATA 1
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1 /* NETIF_SET_CHECKSUM_CTRL per device */

/* APIs for kernel threads. No POSIX names: the kernel calls lwip_socket() etc. */
#define LWIP_NETCONN 1
#define LWIP_SOCKET 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_OFFSET 0
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_SO_RCVBUF 1
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1
#define LWIP_NETIF_API 1
#define LWIP_TIMEVAL_PRIVATE 1

/* errno: lwIP defines the codes (the same values as kernel/include/errno.h); the
 * variable is per thread (sys_arch.c), so a failed socket call's errno is the caller's own
 * whatever other threads do meanwhile. */
#define LWIP_PROVIDE_ERRNO 1
int *sys_arch_errno(void);
#define errno (*sys_arch_errno())

/* Statistics: the drop and error counters are read by the metrics endpoint. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define TCP_STATS 1
#define UDP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 1

/* Hooks (net/lwip/hooks.h). */
#define LWIP_HOOK_FILENAME "net/lwip/hooks.h"
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p)                             \
	port_tcp_inpacket(pcb, hdr, optlen, opt1len, opt2, p)

/* No libc headers beyond the kernel's own. */
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_LIMITS_H 0

#endif
