/* virtio.c: virtio 1.x modern PCI transport (capabilities, status, features, queues)
 * and split virtqueues.
 *
 * The modern interface lives in memory BARs that vendor-specific PCI capabilities point
 * at: the common configuration (features, status, queue setup), the notification area
 * (queue q is notified by a 16-bit write at cap offset + notify_off(q) * multiplier),
 * the ISR status byte and the device-specific configuration. All fields are little
 * endian, as x86 is. 64-bit fields are written as two 32-bit halves, which the
 * specification allows.
 *
 * Ordering: the device reads the available ring and writes the used ring by DMA into
 * ordinary cached memory (x86 DMA is coherent). Entries must be visible before the
 * index that publishes them, and the index before the notification check; x86 keeps
 * stores in order, so a compiler barrier suffices for the first and a full fence for
 * the store-then-load of the second. */
#include "drivers/virtio.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/cpu.h"
#include "kernel/log.h"
#include "kernel/pmm.h"
#include "kernel/time.h"
#include "kernel/vmm.h"

/* virtio_pci_cap */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16
#define CAP_BAR_MAX 5

#define CFG_TYPE_COMMON 1
#define CFG_TYPE_NOTIFY 2
#define CFG_TYPE_ISR 3
#define CFG_TYPE_DEVICE 4

/* virtio_pci_common_cfg */
#define COMMON_DFSELECT 0
#define COMMON_DF 4
#define COMMON_GFSELECT 8
#define COMMON_GF 12
#define COMMON_MSIX 16
#define COMMON_NUMQ 18
#define COMMON_STATUS 20
#define COMMON_CFGGEN 21
#define COMMON_Q_SELECT 22
#define COMMON_Q_SIZE 24
#define COMMON_Q_MSIX 26
#define COMMON_Q_ENABLE 28
#define COMMON_Q_NOFF 30
#define COMMON_Q_DESCLO 32
#define COMMON_Q_DESCHI 36
#define COMMON_Q_AVAILLO 40
#define COMMON_Q_AVAILHI 44
#define COMMON_Q_USEDLO 48
#define COMMON_Q_USEDHI 52
#define COMMON_SIZE 56

#define RESET_TIMEOUT_NS 1000000000UL
#define USED_ALIGN 4
#define CFG_READ_RETRIES 16

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mfence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

static uint8_t c8(struct virtio_dev *vd, uint32_t off) { return vd->common[off]; }
static uint16_t c16(struct virtio_dev *vd, uint32_t off)
{
	return *(volatile uint16_t *)(vd->common + off);
}
static uint32_t c32(struct virtio_dev *vd, uint32_t off)
{
	return *(volatile uint32_t *)(vd->common + off);
}
static void w8(struct virtio_dev *vd, uint32_t off, uint8_t v) { vd->common[off] = v; }
static void w16(struct virtio_dev *vd, uint32_t off, uint16_t v)
{
	*(volatile uint16_t *)(vd->common + off) = v;
}
static void w32(struct virtio_dev *vd, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(vd->common + off) = v;
}
static void w64(struct virtio_dev *vd, uint32_t off, uint64_t v)
{
	w32(vd, off, (uint32_t)v);
	w32(vd, off + 4, (uint32_t)(v >> 32));
}

static void set_status(struct virtio_dev *vd, uint8_t bits)
{
	w8(vd, COMMON_STATUS, c8(vd, COMMON_STATUS) | bits);
}

/* The region one capability describes, or NULL when its BAR is unusable. */
static volatile uint8_t *cap_region(struct pci_dev *d, uint8_t cap, uint32_t min_len,
				    uint32_t *len_out)
{
	uint8_t bar = pci_read8(d, cap + CAP_BAR);
	uint32_t off = pci_read32(d, cap + CAP_OFFSET);
	uint32_t len = pci_read32(d, cap + CAP_LENGTH);
	if (bar > CAP_BAR_MAX || len < min_len || d->bar[bar].io ||
	    (uint64_t)off + len > d->bar[bar].size)
		return NULL;
	uint8_t *base = pci_map_bar(d, bar);
	if (!base)
		return NULL;
	if (len_out)
		*len_out = len;
	return base + off;
}

int virtio_pci_init(struct virtio_dev *vd, struct pci_dev *d)
{
	memset(vd, 0, sizeof *vd);
	vd->pci = d;
	bool found_common = false, found_notify = false, found_isr = false;
	/* The first capability of each type that this driver can use wins. */
	for (uint8_t cap = pci_find_cap(d, PCI_CAP_VENDOR, 0); cap;) {
		uint8_t type = pci_read8(d, cap + CAP_CFG_TYPE);
		if (type == CFG_TYPE_COMMON && !found_common) {
			vd->common = cap_region(d, cap, COMMON_SIZE, NULL);
			found_common = vd->common != NULL;
		} else if (type == CFG_TYPE_NOTIFY && !found_notify) {
			vd->notify_base = cap_region(d, cap, sizeof(uint16_t), NULL);
			vd->notify_mult = pci_read32(d, cap + CAP_NOTIFY_MULT);
			found_notify = vd->notify_base != NULL;
		} else if (type == CFG_TYPE_ISR && !found_isr) {
			vd->isr = cap_region(d, cap, 1, NULL);
			found_isr = vd->isr != NULL;
		} else if (type == CFG_TYPE_DEVICE && !vd->device_cfg) {
			vd->device_cfg = cap_region(d, cap, 1, &vd->device_cfg_len);
		}
		uint8_t next = pci_read8(d, cap + 1);
		cap = next ? pci_find_cap(d, PCI_CAP_VENDOR, next) : 0;
	}
	if (!found_common || !found_notify || !found_isr)
		return -ENODEV;

	w8(vd, COMMON_STATUS, 0);
	uint64_t t0 = time_ns();
	while (c8(vd, COMMON_STATUS) != 0) {
		if (time_ns() - t0 > RESET_TIMEOUT_NS)
			return -ETIMEDOUT;
		cpu_relax();
	}
	set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(vd, VIRTIO_STATUS_DRIVER);
	return 0;
}

uint64_t virtio_offered(struct virtio_dev *vd)
{
	w32(vd, COMMON_DFSELECT, 0);
	uint64_t offered = c32(vd, COMMON_DF);
	w32(vd, COMMON_DFSELECT, 1);
	return offered | (uint64_t)c32(vd, COMMON_DF) << 32;
}

int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted)
{
	uint64_t offered = virtio_offered(vd);
	if (!(offered >> VIRTIO_F_VERSION_1 & 1))
		return -ENODEV;
	uint64_t f = (wanted | 1UL << VIRTIO_F_VERSION_1) & offered;
	w32(vd, COMMON_GFSELECT, 0);
	w32(vd, COMMON_GF, (uint32_t)f);
	w32(vd, COMMON_GFSELECT, 1);
	w32(vd, COMMON_GF, (uint32_t)(f >> 32));
	set_status(vd, VIRTIO_STATUS_FEATURES_OK);
	if (!(c8(vd, COMMON_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -EIO;
	vd->features = f;
	return 0;
}

int virtio_set_config_vector(struct virtio_dev *vd, uint16_t entry)
{
	w16(vd, COMMON_MSIX, entry);
	return c16(vd, COMMON_MSIX) == entry ? 0 : -EIO;
}

int virtio_queue_setup(struct virtio_dev *vd, struct virtq *q, uint16_t index, uint16_t max_size,
		       uint16_t entry)
{
	memset(q, 0, sizeof *q);
	if (index >= c16(vd, COMMON_NUMQ))
		return -ENOENT;
	w16(vd, COMMON_Q_SELECT, index);
	uint16_t size = c16(vd, COMMON_Q_SIZE);
	if (size == 0)
		return -ENOENT;
	while (size > max_size) /* sizes are powers of two: halving keeps that */
		size /= 2;
	if (size == 0)
		return -EINVAL;

	uint64_t desc_bytes = sizeof(struct virtq_desc) * size;
	uint64_t avail_bytes = sizeof(struct virtq_avail) + sizeof(uint16_t) * (size + 1);
	uint64_t used_off = (desc_bytes + avail_bytes + USED_ALIGN - 1) & ~(USED_ALIGN - 1UL);
	uint64_t used_bytes = sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * size +
			      sizeof(uint16_t);
	q->mem_size = used_off + used_bytes;
	q->mem = pmm_alloc_kva(q->mem_size);
	if (!q->mem)
		return -ENOMEM;
	uint8_t *m = q->mem;
	q->index = index;
	q->size = size;
	q->desc = (volatile struct virtq_desc *)m;
	q->avail = (volatile struct virtq_avail *)(m + desc_bytes);
	q->used = (volatile struct virtq_used *)(m + used_off);

	w16(vd, COMMON_Q_SIZE, size);
	w64(vd, COMMON_Q_DESCLO, V2P(m));
	w64(vd, COMMON_Q_AVAILLO, V2P(m + desc_bytes));
	w64(vd, COMMON_Q_USEDLO, V2P(m + used_off));
	w16(vd, COMMON_Q_MSIX, entry);
	if (c16(vd, COMMON_Q_MSIX) != entry) {
		pmm_free_kva(q->mem, q->mem_size);
		q->mem = NULL;
		return -EIO;
	}
	uint16_t noff = c16(vd, COMMON_Q_NOFF);
	q->notify = (volatile uint16_t *)(vd->notify_base + (uint32_t)noff * vd->notify_mult);
	w16(vd, COMMON_Q_ENABLE, 1);
	return 0;
}

void virtio_driver_ok(struct virtio_dev *vd) { set_status(vd, VIRTIO_STATUS_DRIVER_OK); }

void virtio_fail(struct virtio_dev *vd)
{
	if (vd->common)
		set_status(vd, VIRTIO_STATUS_FAILED);
}

uint8_t virtio_isr(struct virtio_dev *vd) { return *vd->isr; }

void virtio_cfg_read(struct virtio_dev *vd, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *out = buf;
	if (!vd->device_cfg || (uint64_t)off + len > vd->device_cfg_len) {
		memset(buf, 0, len);
		return;
	}
	/* Byte reads are enough for the few small fields drivers read, and the generation
	 * counter makes a multi-byte value consistent. */
	for (int tries = 0; tries < CFG_READ_RETRIES; tries++) {
		uint8_t gen = c8(vd, COMMON_CFGGEN);
		for (uint32_t i = 0; i < len; i++)
			out[i] = vd->device_cfg[off + i];
		if (c8(vd, COMMON_CFGGEN) == gen)
			return;
	}
}

void virtq_push(struct virtq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
}

void virtq_publish(struct virtq *q)
{
	barrier(); /* ring entries before the index that makes them visible */
	q->avail->idx = q->avail_idx;
}

void virtq_kick(struct virtq *q)
{
	mfence(); /* the index store before the load of the device's flags */
	if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY))
		*q->notify = q->index;
}

bool virtq_pop(struct virtq *q, uint32_t *head, uint32_t *len)
{
	if (q->last_used == q->used->idx)
		return false;
	barrier(); /* the index before the entry it covers */
	volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
	*head = e->id;
	*len = e->len;
	q->last_used++;
	return true;
}
