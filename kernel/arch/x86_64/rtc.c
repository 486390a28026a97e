/* rtc.c: reading the CMOS real-time clock. The clock is read twice until two reads
 * agree, so an update in the middle of a read cannot tear it; BCD and 12-hour modes are
 * converted as status register B says. */
#include "arch/rtc.h"

#include <stdbool.h>

#include "arch/cpu.h"
#include "kernel/spinlock.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define NMI_DISABLE 0x80
#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_CENTURY 0x32 /* the ACPI FADT's usual century register */
#define A_UPDATING 0x80
#define B_24H 0x02
#define B_BINARY 0x04
#define HOUR_PM 0x80
#define TRIES 1000
#define NS_PER_S 1000000000UL
#define SECS_PER_DAY 86400UL

static struct spinlock lock = SPINLOCK_INIT("rtc");

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_INDEX, NMI_DISABLE | reg);
	return inb(CMOS_DATA);
}

struct rtc_time {
	uint8_t sec, min, hour, day, month, year, century;
};

static void read_raw(struct rtc_time *t)
{
	for (int i = 0; i < TRIES && (cmos(REG_A) & A_UPDATING); i++)
		cpu_relax();
	t->sec = cmos(REG_SEC);
	t->min = cmos(REG_MIN);
	t->hour = cmos(REG_HOUR);
	t->day = cmos(REG_DAY);
	t->month = cmos(REG_MONTH);
	t->year = cmos(REG_YEAR);
	t->century = cmos(REG_CENTURY);
}

static bool same(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
	       a->month == b->month && a->year == b->year && a->century == b->century;
}

static unsigned bcd(uint8_t v) { return (v & 0x0f) + (v >> 4) * 10; }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	unsigned era = y / 400, yoe = y - era * 400;
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;
}

uint64_t rtc_read_ns(void)
{
	struct rtc_time a, b;
	spin_lock(&lock);
	read_raw(&a);
	for (int i = 0; i < TRIES; i++) {
		read_raw(&b);
		if (same(&a, &b))
			break;
		a = b;
	}
	uint8_t regb = cmos(REG_B);
	spin_unlock(&lock);

	bool pm = a.hour & HOUR_PM;
	unsigned hour = a.hour & ~HOUR_PM, sec = a.sec, min = a.min, day = a.day, month = a.month,
		 year = a.year, century = a.century;
	if (!(regb & B_BINARY)) {
		sec = bcd((uint8_t)sec);
		min = bcd((uint8_t)min);
		hour = bcd((uint8_t)hour);
		day = bcd((uint8_t)day);
		month = bcd((uint8_t)month);
		year = bcd((uint8_t)year);
		century = bcd((uint8_t)century);
	}
	if (!(regb & B_24H))
		hour = hour % 12 + (pm ? 12 : 0);
	year += century >= 19 && century <= 99 ? century * 100 : 2000;
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 || month < 1 || month > 12)
		return 0;
	uint64_t days = days_from_civil(year, month, day);
	return ((days * SECS_PER_DAY) + hour * 3600UL + min * 60UL + sec) * NS_PER_S;
}
