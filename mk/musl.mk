# musl.mk: the pure parts of musl (string, ctype, strto*, qsort) compiled with the
# kernel's flags from Debian's musl source package. Nothing here makes system calls,
# touches %fs or uses SSE.
MUSL := $(TP)/musl
MUSL_SRC := \
	string/x86_64/memcpy.s string/x86_64/memmove.s string/x86_64/memset.s \
	string/memchr.c string/memcmp.c string/memrchr.c string/strlen.c string/strnlen.c \
	string/strcmp.c string/strncmp.c string/strchr.c string/strchrnul.c string/strrchr.c \
	string/strstr.c string/strncpy.c string/stpncpy.c string/strlcpy.c string/strspn.c \
	string/strcspn.c \
	ctype/isalnum.c ctype/isalpha.c ctype/isdigit.c ctype/isxdigit.c ctype/isspace.c \
	ctype/isprint.c ctype/isupper.c ctype/islower.c ctype/tolower.c ctype/toupper.c \
	stdlib/strtol.c stdlib/qsort.c stdlib/qsort_nr.c stdlib/abs.c \
	internal/intscan.c internal/shgetc.c stdio/__uflow.c stdio/__toread.c
MUSL_OBJ := $(patsubst %,$(B)/musl/%.o,$(MUSL_SRC))
MUSL_GEN := $(B)/musl/include/bits/alltypes.h $(B)/musl/include/bits/syscall.h
MUSL_CFLAGS := $(KERNEL_BASE_CFLAGS) -std=c99 -D_XOPEN_SOURCE=700 -w \
	-I$(MUSL)/arch/x86_64 -I$(MUSL)/arch/generic -I$(MUSL)/src/include \
	-I$(MUSL)/src/internal -I$(B)/musl/include -I$(MUSL)/include

$(B)/musl/include/bits/alltypes.h:
	@mkdir -p $(dir $@)
	sed -f $(MUSL)/tools/mkalltypes.sed $(MUSL)/arch/x86_64/bits/alltypes.h.in \
		$(MUSL)/include/alltypes.h.in > $@

$(B)/musl/include/bits/syscall.h:
	@mkdir -p $(dir $@)
	cp $(MUSL)/arch/x86_64/bits/syscall.h.in $@
	sed -n -e s/__NR_/SYS_/p < $(MUSL)/arch/x86_64/bits/syscall.h.in >> $@

$(B)/musl/%.c.o: $(MUSL)/src/%.c $(MUSL_GEN)
	@mkdir -p $(dir $@)
	@echo "  CC      musl/$*.c"
	@$(CC) $(MUSL_CFLAGS) -c $< -o $@

$(B)/musl/%.s.o: $(MUSL)/src/%.s
	@mkdir -p $(dir $@)
	$(CC) -Wa,--noexecstack -c $< -o $@
