/* lwIP configuration for Ringlet: the raw API only (NO_SYS), IPv4 over
 * Ethernet with ARP, ICMP, UDP and TCP, run by the libOS executor on one core.
 *
 * Sizing: a 1500-byte MTU and ~64 concurrent TCP connections per stack.
 * Received frames are not counted here: they stay in the NIC's DMA buffers,
 * wrapped as custom pbufs (net/netif.cc). What lwIP's own heap (MEM_SIZE)
 * holds is mostly TCP send data, copied by tcp_write until acknowledged. */
#ifndef RINGLET_LWIPOPTS_H
#define RINGLET_LWIPOPTS_H

/* ---- system: no threads, no OS, timers polled by the executor ---- */
#define NO_SYS                          1
#define LWIP_TIMERS                     1
#define SYS_LIGHTWEIGHT_PROT            0 /* one core runs the stack */
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_NETIF_API                  0
/* lwIP's htons macros would collide with <arpa/inet.h> in C++ files. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* ---- memory: static pools in .bss, no malloc ---- */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   8
#define MEM_SIZE                        (1024 * 1024)
/* One lwIP per core (issue 14, net/CMakeLists.txt): in the per-core copies
 * the heap is memory each core maps when it starts, not .bss, so an app's
 * image does not carry a megabyte per possible core. */
#if defined(RINGLET_LWIP_PERCORE)
#ifdef __cplusplus
extern "C" unsigned char* ringlet_lwip_ram_heap;
#else
extern unsigned char* ringlet_lwip_ram_heap;
#endif
#define LWIP_RAM_HEAP_POINTER ringlet_lwip_ram_heap
#endif
#define MEMP_NUM_PBUF                   128 /* PBUF_REF/ROM headers (IP fragments, ...) */
#define MEMP_NUM_UDP_PCB                64
#define MEMP_NUM_TCP_PCB                144 /* 64 connections + 64 half-open (net/queues.h) + closing ones */
#define MEMP_NUM_TCP_PCB_LISTEN         16
#define MEMP_NUM_TCP_SEG                1024
#define MEMP_NUM_REASSDATA              8
#define MEMP_NUM_FRAG_PBUF              32
#define MEMP_NUM_ARP_QUEUE              64
#define PBUF_POOL_SIZE                  32  /* RX does not use the pool */
#define LWIP_SUPPORT_CUSTOM_PBUF        1   /* zero-copy DMA buffers */

/* ---- link: Ethernet + ARP ---- */
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define ARP_TABLE_SIZE                  32
#define ARP_QUEUEING                    1
#define ETHARP_SUPPORT_STATIC_ENTRIES   0
#define ETH_PAD_SIZE                    0
#define LWIP_NETIF_TX_SINGLE_PBUF       0   /* chains go to the NIC as segments */
#define LWIP_SINGLE_NETIF               0   /* tests run two netifs in one stack */
#define LWIP_NETIF_LOOPBACK             0
#define LWIP_HAVE_LOOPIF                0

/* ---- IPv4, ICMP; nothing else ---- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define IP_FORWARD                      0
#define IP_REASSEMBLY                   1
#define IP_FRAG                         1
#define IP_REASS_MAXAGE                 3
#define IP_REASS_MAX_PBUFS              32
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0

/* Source-based routing: a pcb bound to a netif's address leaves through that
 * netif even when several share a subnet (net/netif.cc). */
struct netif;
struct ip4_addr;
#ifdef __cplusplus
extern "C"
#endif
struct netif* ringlet_lwip_route_src(const struct ip4_addr* src, const struct ip4_addr* dest);
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) ringlet_lwip_route_src((src), (dest))

/* ---- UDP ---- */
#define LWIP_UDP                        1
#define LWIP_UDPLITE                    0

/* ---- TCP: 1500-byte MTU ---- */
#define LWIP_TCP                        1
#define TCP_MSS                         1460
#define TCP_WND                         (16 * TCP_MSS)  /* 23360 < 64 KiB: no window scaling */
#define TCP_SND_BUF                     (8 * TCP_MSS)
#define TCP_SND_QUEUELEN                ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define TCP_QUEUE_OOSEQ                 1
/* Remote-input limits (issue 15 item 5): segments past a gap wait in the
 * out-of-order queue in the DMA buffers they arrived in (2 KiB each,
 * whatever their length), so a peer sending 1-byte segments at every other
 * sequence number could pin a buffer per two bytes of window. At most 8
 * buffers and 8 MSS of data per connection; more is dropped (and sent
 * again by an honest peer). */
#define TCP_OOSEQ_MAX_PBUFS             8
#define TCP_OOSEQ_MAX_BYTES             (8 * TCP_MSS)
/* lwIP's backlog counts connections still in the handshake (SYN_RCVD):
 * net/tcp_queue.cc gives each listener kTcpMaxHalfOpen (net/queues.h) and
 * bounds accepted-but-not-popped ones itself; net/tcp_half_open.cc evicts
 * the oldest half-open connection when a SYN finds the listener full, so a
 * SYN flood cannot lock out a real client. */
#define TCP_LISTEN_BACKLOG              1
#define TCP_DEFAULT_LISTEN_BACKLOG      32
struct tcp_pcb;
struct tcp_hdr;
#ifdef __cplusplus
extern "C"
#endif
signed char ringlet_lwip_listen_input(struct tcp_pcb* listener, const struct tcp_hdr* hdr);
/* Called for every segment matched to a pcb; only a listener's costs a call. */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    ((pcb)->state == LISTEN ? ringlet_lwip_listen_input((struct tcp_pcb*)(pcb), (hdr)) : ERR_OK)
#define LWIP_TCP_KEEPALIVE              0
#define LWIP_CALLBACK_API               1
#define LWIP_WND_SCALE                  0
/* Servers restart on a port whose old connections sit in TIME_WAIT. */
#define SO_REUSE                        1

/* ---- checksums: compiled in, switched per interface (net/netif.cc): TCP
 * and UDP ones are left to a NIC that offers checksum offload (virtio-net
 * CSUM: filled in on TX; GUEST_CSUM: frames it marks verified skip the
 * check). IP header and ICMP checksums always stay in software. ---- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF    1
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_GEN_ICMP               1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1
/* Every software sum goes through a 64-bit one's-complement sum (~0.5
 * instructions per byte on rv64, lwIP's generic one ~1.25): net/checksum.h. */
#include "net/checksum.h"
#define LWIP_CHKSUM                     ringlet_chksum
/* Copies of a size known at compile time (MAC addresses, IP headers) inline
 * rather than as memcpy calls: two per Ethernet frame lwIP sends, ~60
 * instructions each as calls (lwIP's default is plain memcpy). */
#define SMEMCPY(dst, src, len)          __builtin_memcpy(dst, src, len)

/* ---- statistics: on, because dropped malformed frames are counted by them
 * (tests and the dataplane note read lwip_stats); nothing is printed. ---- */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define LINK_STATS                      1
#define ETHARP_STATS                    1
#define IP_STATS                        1
#define IPFRAG_STATS                    1
#define ICMP_STATS                      1
#define UDP_STATS                       1
#define TCP_STATS                       1
#define MEM_STATS                       1
#define MEMP_STATS                      1
#define SYS_STATS                       0

/* ---- debugging off (LWIP_DEBUG is tested with #ifdef: leave it undefined) ---- */
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0

#endif /* RINGLET_LWIPOPTS_H */
