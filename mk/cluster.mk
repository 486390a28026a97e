# cluster.mk: host builds of the cluster scheduler core (sched/cluster): unit tests,
# fuzzer, simulator. The kernel compiles sched/cluster/*.c through KSRC.
