/* log_test.c: self-tests of the log ring: order, wrap-around, and readers that fall
 * behind learn it from the sequence numbers. */
#include <string.h>

#include "kernel/log.h"
#include "kernel/printf.h"
#include "kernel/selftest.h"

SELFTEST(log_ring)
{
	struct log_record rec;
	uint64_t seq = 0;

	/* Find the newest record, then log past it at debug level (kept off the console). */
	while (log_read(&seq, &rec))
		;
	uint64_t first = seq;
	kdebug("log_test: marker 0");
	CHECK(log_read(&seq, &rec) == 1);
	CHECK(rec.seq == first && rec.level == LOG_DEBUG);
	CHECK(!strcmp(rec.text, "log_test: marker 0"));
	CHECK(log_read(&seq, &rec) == 0);

	/* Overfill the ring: more than LOG_RING_SIZE bytes of records. */
	int n = 2 * LOG_RING_SIZE / 64;
	for (int i = 1; i <= n; i++)
		kdebug("log_test: line %d of a ring overfill test", i);
	uint64_t from = first;
	CHECK(log_read(&from, &rec) == 1);
	CHECK(rec.seq > first); /* the oldest ones were dropped, and the reader can tell */

	/* What is left is contiguous, in order, and ends with the last line written. */
	uint64_t prev = rec.seq;
	int count = 1;
	while (log_read(&from, &rec)) {
		CHECK(rec.seq == prev + 1);
		prev = rec.seq;
		count++;
	}
	char want[64];
	ksnprintf(want, sizeof want, "log_test: line %d of a ring overfill test", n);
	CHECK(!strcmp(rec.text, want));
	CHECK(count > LOG_RING_SIZE / 128); /* the ring still holds a good share */

	/* A line longer than LOG_LINE_MAX is cut, not overflowed. */
	char big[LOG_LINE_MAX * 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	kdebug("%s", big);
	CHECK(log_read(&from, &rec) == 1);
	CHECK(strlen(rec.text) < LOG_LINE_MAX && rec.text[0] == 'x');
	return 0;
}
