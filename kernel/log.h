/* log.h: the kernel log. Every message goes to a ring buffer with its level and a
 * monotonic timestamp; messages at or above the console level also go to the serial
 * line, as written (the serial line contract in ARCHITECTURE.md depends on that).
 *
 * The ring holds the most recent LOG_RING_SIZE bytes of records; readers (the network
 * console, /metrics, tests) walk it by sequence number and learn when they fell behind. */
#ifndef KERNEL_LOG_H
#define KERNEL_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_RING_SIZE (64 * 1024)
#define LOG_LINE_MAX 256

void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define kdebug(...) klog(LOG_DEBUG, __VA_ARGS__)
#define kinfo(...) klog(LOG_INFO, __VA_ARGS__)
#define kwarn(...) klog(LOG_WARN, __VA_ARGS__)
#define kerror(...) klog(LOG_ERROR, __VA_ARGS__)

/* Serial output below this level is suppressed (the ring keeps everything). */
void log_set_console_level(enum log_level level);

/* Write straight to the serial line, bypassing lock and ring: for panic only. */
void log_emergency(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct log_record {
	uint64_t seq;
	uint64_t time_ns;
	enum log_level level;
	char text[LOG_LINE_MAX];
};

/* Copy the oldest record with sequence >= *seq into rec and set *seq past it.
 * Returns 1 if a record was copied, 0 if none is newer; rec->seq > the asked-for
 * sequence means records were overwritten before the reader got to them. */
int log_read(uint64_t *seq, struct log_record *rec);

#endif
