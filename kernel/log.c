/* log.c: the kernel log ring and its serial echo. */
#include "kernel/log.h"

#include <stdarg.h>
#include <string.h>

#include "drivers/serial.h"
#include "kernel/printf.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

/* Records are stored back to back in a byte ring; when a new record does not fit the
 * oldest ones are dropped. A record never wraps: if it does not fit before the end the
 * rest of the ring is skipped (marked by a zero-length header). */
struct hdr {
	uint32_t len; /* text bytes, without NUL; 0 = skip to ring start */
	uint32_t level;
	uint64_t seq;
	uint64_t time_ns;
};

static uint8_t ring[LOG_RING_SIZE] __attribute__((aligned(8)));
static size_t head, tail; /* write offset, oldest record offset */
static size_t used;	  /* bytes between tail and head, including skipped space */
static uint64_t next_seq;
static enum log_level console_level = LOG_INFO;
static struct spinlock lock = SPINLOCK_INIT("log");

static size_t rec_size(uint32_t len) { return (sizeof(struct hdr) + len + 7) & ~(size_t)7; }

/* Bytes taken by the record at off, or the skipped end of the ring (NULL record). */
static size_t size_at(size_t off, struct hdr **rec)
{
	struct hdr *h = (struct hdr *)&ring[off];
	*rec = 0;
	if (LOG_RING_SIZE - off < sizeof(struct hdr) || h->len == 0)
		return LOG_RING_SIZE - off;
	*rec = h;
	return rec_size(h->len);
}

static void drop_oldest(void)
{
	struct hdr *h;
	size_t sz = size_at(tail, &h);
	tail = (tail + sz) % LOG_RING_SIZE;
	used -= sz;
}

static void append(enum log_level level, const char *text, size_t len)
{
	size_t sz = rec_size((uint32_t)len);
	if (head + sz > LOG_RING_SIZE) {
		size_t skip = LOG_RING_SIZE - head;
		while (used && LOG_RING_SIZE - used < skip)
			drop_oldest();
		if (skip >= sizeof(struct hdr))
			((struct hdr *)&ring[head])->len = 0;
		used += skip;
		head = 0;
	}
	while (used && LOG_RING_SIZE - used < sz)
		drop_oldest();
	struct hdr *h = (struct hdr *)&ring[head];
	h->len = (uint32_t)len;
	h->level = level;
	h->seq = next_seq++;
	h->time_ns = time_ns();
	memcpy(h + 1, text, len);
	head = (head + sz) % LOG_RING_SIZE;
	used += sz;
}

void klog(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';

	spin_lock(&lock);
	append(level, line, (size_t)n - 1);
	if (level >= console_level)
		serial_write(line, (size_t)n);
	spin_unlock(&lock);
}

void log_set_console_level(enum log_level level) { console_level = level; }

void log_emergency(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	serial_write(line, (size_t)n);
}

int log_read(uint64_t *seq, struct log_record *rec)
{
	int found = 0;
	spin_lock(&lock);
	size_t off = tail, left = used;
	while (left) {
		struct hdr *h;
		size_t sz = size_at(off, &h);
		if (h && h->seq >= *seq) {
			rec->seq = h->seq;
			rec->time_ns = h->time_ns;
			rec->level = (enum log_level)h->level;
			size_t n = h->len < LOG_LINE_MAX - 1 ? h->len : LOG_LINE_MAX - 1;
			memcpy(rec->text, h + 1, n);
			rec->text[n] = 0;
			*seq = h->seq + 1;
			found = 1;
			break;
		}
		off = (off + sz) % LOG_RING_SIZE;
		left -= sz;
	}
	spin_unlock(&lock);
	return found;
}
