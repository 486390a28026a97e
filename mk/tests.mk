# tests.mk: host unit tests. Each tests/unit/**/test_*.c is a standalone cmocka program
# whose first line is `/* sources: a.c b.c */`, naming the shoal sources it links. It is
# built with the sanitizers into build/tests/unit/**/test_* (`make unit` builds them all;
# tests/run.sh builds and runs them one by one).
UNIT_SRC := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | LC_ALL=C sort)
UNIT_BIN := $(patsubst %.c,$(B)/%,$(UNIT_SRC))
UNIT_CFLAGS := -std=gnu11 -g -O1 -I. -Ikernel/arch/x86_64/include -Wall -Wextra \
	-Wno-unused-parameter -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_LIBS := -lcmocka -lmbedcrypto

# The sources a test names on its first line (empty when the line is missing).
unit_sources = $(shell sed -n '1s|^/\* *sources: *\(.*[^ ]\) *\*/.*|\1|p' $(1))

.SECONDEXPANSION:
$(B)/tests/unit/%: tests/unit/%.c $$(call unit_sources,tests/unit/$$*.c)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(UNIT_CFLAGS) -o $@ $< $(call unit_sources,$<) $(UNIT_LIBS)

unit: $(UNIT_BIN)

.PHONY: unit
