#!/bin/sh
# ksyms.sh ELF > ksyms.S: the kernel's text symbols, sorted, for symbolized backtraces.
set -e
{ [ "$1" = /dev/null ] || nm -n "$1"; } | awk '
	BEGIN { n = 0 }
	$2 ~ /^[tTwW]$/ && $3 !~ /^\./ { addr[n] = $1; name[n] = $3; n++ }
	END {
		print "\t.section .ksyms, \"a\""
		print "\t.globl ksym_count, ksym_table, ksym_names"
		print "\t.align 8"
		print "ksym_count:\t.quad " n
		print "ksym_table:"
		off = 0
		for (i = 0; i < n; i++) {
			print "\t.quad 0x" addr[i] "\n\t.long " off ", 0"
			off += length(name[i]) + 1
		}
		print "ksym_names:"
		for (i = 0; i < n; i++) print "\t.asciz \"" name[i] "\""
		print "\t.section .note.GNU-stack, \"\", @progbits"
	}'
