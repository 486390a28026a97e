# lwip.mk: lwIP 2.1.3 (pristine upstream, unpacked by scripts/deps.sh) built with the
# kernel's flags and shoal's options (net/lwip/lwipopts.h) into one archive, NO_SYS=0:
# the stack runs in its own kernel thread (tcpip) and the sockets and netconn APIs are
# there for kernel threads. Linked as an archive, so unused modules drop out.
LWIP := $(TP)/lwip/src
LWIP_PORT := net/lwip
# The files this build needs, written out rather than globbed, so that the pinned source
# package's contents, not whatever a tree happens to hold, decide what is compiled.
LWIP_SRC := \
	core/init.c core/def.c core/dns.c core/inet_chksum.c core/ip.c core/mem.c \
	core/memp.c core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c \
	core/altcp.c core/altcp_alloc.c core/altcp_tcp.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/autoip.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/igmp.c core/ipv4/ip4_frag.c core/ipv4/ip4.c core/ipv4/ip4_addr.c \
	core/ipv6/dhcp6.c core/ipv6/ethip6.c core/ipv6/icmp6.c core/ipv6/inet6.c \
	core/ipv6/ip6.c core/ipv6/ip6_addr.c core/ipv6/ip6_frag.c core/ipv6/mld6.c \
	core/ipv6/nd6.c \
	api/api_lib.c api/api_msg.c api/err.c api/if_api.c api/netbuf.c api/netdb.c \
	api/netifapi.c api/sockets.c api/tcpip.c \
	netif/ethernet.c \
	apps/lwiperf/lwiperf.c
LWIP_OBJ := $(patsubst %.c,$(B)/lwip/%.o,$(LWIP_SRC))
LWIP_LIB := $(B)/liblwip.a
# Shared by the library and by kernel code that includes lwIP headers (-isystem: lwIP's
# headers are not held to the kernel's -Werror warning set). The port directory holds
# lwipopts.h and arch/{cc,sys_arch}.h.
LWIP_CPPFLAGS := -I$(LWIP_PORT) -isystem $(LWIP)/include
LWIP_CFLAGS := $(KERNEL_BASE_CFLAGS) -isystem kernel/include -I. -Ikernel/arch/x86_64/include \
	$(LWIP_CPPFLAGS) -Wall -Wextra -Wno-unused-parameter -MMD -MP
# -MMD leaves out headers reached through -isystem ones, so the port's headers (which
# lwIP's headers include) are named as prerequisites by hand.
LWIP_PORT_HDR := $(LWIP_PORT)/lwipopts.h $(LWIP_PORT)/arch/cc.h $(LWIP_PORT)/arch/sys_arch.h \
	$(LWIP_PORT)/hooks.h

KCFLAGS += $(LWIP_CPPFLAGS)
# The port (sys_arch, the netif glue) and the network layer on top are kernel code proper.
NET_OBJ := $(patsubst %,$(B)/k/%.o,$(wildcard net/*.c net/lwip/*.c))
KOBJ += $(NET_OBJ)
$(NET_OBJ) $(LWIP_OBJ): $(LWIP_PORT_HDR)
# The task socket layer sizes itself by lwIP's options.
$(B)/k/kernel/fs/sock.c.o: $(LWIP_PORT_HDR)

$(B)/lwip/%.o: $(LWIP)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      lwip/$*.c"
	@$(CC) $(LWIP_CFLAGS) -c $< -o $@

$(LWIP_LIB): $(LWIP_OBJ)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcsD $@ $^

clean: clean-lwip
clean-lwip:
	rm -rf $(B)/lwip $(LWIP_LIB)
.PHONY: clean-lwip

-include $(LWIP_OBJ:.o=.d)
