# console.mk: host builds of the console core (net/console): fuzzer and shoalctl.
# The kernel compiles net/console/*.c through KSRC.
