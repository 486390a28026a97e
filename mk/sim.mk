# sim.mk: the many-node gossip simulator (tests/sim), built for the host against the real
# net/gossip core. Included by the top Makefile, or used on its own:
#   make -f mk/sim.mk            build/sim/gossip_sim (optimised) and gossip_sim_asan
# The optimised build is what the suites and `make bench` run (10,000 cores must fit in
# minutes); the sanitizer build runs one short scenario in tests/sim/run.sh.
B ?= build
CC ?= gcc

# tests/sim/cluster_*.c are the cluster scheduler's simulator and benchmark (mk/cluster.mk).
SIM_SRC := $(filter-out %/fake_core.c tests/sim/cluster_%.c,$(wildcard tests/sim/*.c)) \
	$(wildcard net/gossip/*.c) tests/host/gossip_port.c
SIM_BASE_CFLAGS := -std=gnu11 -I. -Wall -Wextra -Wno-unused-parameter -MMD -MP
SIM_CFLAGS := $(SIM_BASE_CFLAGS) -O2 -g
SIM_ASAN_CFLAGS := $(SIM_BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
SIM_LIBS := -lmbedcrypto -lm
SIM_OBJ := $(patsubst %.c,$(B)/sim/o/%.o,$(SIM_SRC))
SIM_ASAN_OBJ := $(patsubst %.c,$(B)/sim/asan/%.o,$(SIM_SRC))

sim: $(B)/sim/gossip_sim $(B)/sim/gossip_sim_asan

$(B)/sim/gossip_sim: $(SIM_OBJ)
	@echo "  HOSTLD  $@"
	@$(CC) -o $@ $^ $(SIM_LIBS)

$(B)/sim/gossip_sim_asan: $(SIM_ASAN_OBJ)
	@echo "  HOSTLD  $@"
	@$(CC) -fsanitize=address,undefined -o $@ $^ $(SIM_LIBS)

$(B)/sim/o/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(CC) $(SIM_CFLAGS) -c $< -o $@

$(B)/sim/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (asan)"
	@$(CC) $(SIM_ASAN_CFLAGS) -c $< -o $@

-include $(SIM_OBJ:.o=.d) $(SIM_ASAN_OBJ:.o=.d)

.PHONY: sim
