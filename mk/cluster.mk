# cluster.mk: host builds of the cluster scheduler core (sched/cluster): unit tests,
# fuzzer, simulator. The kernel compiles sched/cluster/*.c through KSRC.
#   build/sim/cluster_sim        the many-node simulator (tests/sim/cluster_sim.c), optimised
#   build/sim/cluster_sim_asan   the same with ASan and UBSan (short runs in the suite)
#   build/sim/cluster_bench      placement throughput, C1M's setting (tests/sim/cluster_bench.c)
#   build/fuzz/fuzz_cluster      libFuzzer over the core's inputs (tests/fuzz/fuzz_cluster.c)
# Unit tests (tests/unit/sched/cluster/test_*.c) are built by mk/tests.mk like the others.
# Usable on its own too: make -f mk/cluster.mk cluster-sim
B ?= build
CC ?= gcc
CLUSTER_SRC := $(addprefix sched/cluster/,cluster.c table.c merge.c place.c view.c wire.c mem.c gc.c)
CLUSTER_HDR := sched/cluster/cluster.h sched/cluster/internal.h sched/cluster/core.h
CLUSTER_SIM_SRC := tests/sim/cluster_sim.c tests/sim/queue.c $(CLUSTER_SRC)
CLUSTER_CFLAGS := -std=gnu11 -I. -Wall -Wextra -Wno-unused-parameter
CLUSTER_ASAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all

$(B)/sim/cluster_sim: $(CLUSTER_SIM_SRC) $(CLUSTER_HDR) tests/sim/queue.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(CLUSTER_CFLAGS) -O2 -g -o $@ $(CLUSTER_SIM_SRC)

$(B)/sim/cluster_sim_asan: $(CLUSTER_SIM_SRC) $(CLUSTER_HDR) tests/sim/queue.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(CLUSTER_CFLAGS) $(CLUSTER_ASAN) -o $@ $(CLUSTER_SIM_SRC)

$(B)/sim/cluster_bench: tests/sim/cluster_bench.c $(CLUSTER_SRC) $(CLUSTER_HDR)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(CLUSTER_CFLAGS) -O2 -g -o $@ tests/sim/cluster_bench.c $(CLUSTER_SRC)

$(B)/fuzz/fuzz_cluster: tests/fuzz/fuzz_cluster.c $(CLUSTER_SRC) $(CLUSTER_HDR)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@clang $(CLUSTER_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ tests/fuzz/fuzz_cluster.c $(CLUSTER_SRC)

cluster-sim: $(B)/sim/cluster_sim $(B)/sim/cluster_sim_asan $(B)/sim/cluster_bench

.PHONY: cluster-sim
fuzz: $(B)/fuzz/fuzz_cluster
