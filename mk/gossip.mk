# gossip.mk: cluster membership in the kernel. The sans-IO core (net/gossip/*.c, also
# built for the host by tests.mk, sim.mk and fuzz.mk) is compiled with the kernel's flags
# (it uses mbedTLS for AES-GCM, whose headers and configuration mbedtls.mk puts in
# KCFLAGS) and linked into the kernel beside its glue, net/members.c, which lwip.mk's
# net/*.c already compiles. Every file of the core is linked: the core is shoal's own
# code, so its directory, not a list, says what it is.
GOSSIP_OBJ := $(patsubst %,$(B)/k/%.o,$(wildcard net/gossip/*.c))
KOBJ += $(filter-out $(KOBJ),$(GOSSIP_OBJ))

# `make cluster N=5`: boot N nodes on one test bridge (scripts/cluster.sh; needs root).
# `make cluster-down` stops them.
N ?= 3
cluster: all
	./scripts/cluster.sh up $(N)

cluster-down:
	./scripts/cluster.sh down

.PHONY: cluster cluster-down
