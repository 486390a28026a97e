/* virtio.h: the virtio 1.x modern PCI transport and split virtqueues, shared by the
 * virtio device drivers.
 *
 * A driver brings a device up in the order the specification requires:
 *   pci_enable; virtio_pci_init (finds the common, notify, ISR and device-config
 *   capabilities, resets the device, sets ACKNOWLEDGE and DRIVER); virtio_negotiate
 *   (VIRTIO_F_VERSION_1 is always asked for and required; sets FEATURES_OK and checks
 *   the device kept it); pci_irq_setup; virtio_set_config_vector and one
 *   virtio_queue_setup per queue; fill receive queues; virtio_driver_ok.
 * Any failure after virtio_pci_init should end with virtio_fail, which tells the device
 * the driver gave up.
 *
 * Legacy-only devices (no modern capabilities) are not supported: transitional devices
 * (PCI ids 0x1000-0x103f) that also offer the capabilities are driven through them.
 *
 * A virtqueue here keeps a one-to-one mapping from descriptor to buffer: the driver
 * owns which descriptors are free, puts descriptor heads on the available ring with
 * virtq_push, makes them visible with virtq_publish and wakes the device with
 * virtq_kick; virtq_pop takes completed heads off the used ring. One thread (or one
 * lock) per queue: nothing here is locked. */
#ifndef DRIVERS_VIRTIO_H
#define DRIVERS_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pci.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_TRANSITIONAL_FIRST 0x1000
#define VIRTIO_TRANSITIONAL_LAST 0x103f
#define VIRTIO_MODERN_BASE 0x1040 /* + device type */
#define VIRTIO_NET_TRANSITIONAL_ID 0x1000
#define VIRTIO_NET_MODERN_ID (VIRTIO_MODERN_BASE + 1)

#define VIRTIO_F_VERSION_1 32

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* ISR status bits (read clears; only meaningful without MSI-X) */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

#define VIRTIO_NO_VECTOR 0xffff

/* Descriptor flags */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
/* Available ring flags: the driver does not want interrupts */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
/* Used ring flags: the device does not want notifications */
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

struct virtq {
	uint16_t index, size;
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	volatile uint16_t *notify;
	uint16_t avail_idx; /* next free slot of the available ring (shadow of avail->idx) */
	uint16_t last_used; /* next used entry to look at */
	void *mem;	    /* descriptor table and both rings, one DMA block */
	uint64_t mem_size;
};

struct virtio_dev {
	struct pci_dev *pci;
	volatile uint8_t *common, *isr, *device_cfg, *notify_base;
	uint32_t device_cfg_len, notify_mult;
	uint64_t features; /* negotiated */
};

/* Find and map the modern capabilities, reset the device and say a driver is here.
 * -ENODEV when the device has no modern interface, -ENOMEM when a BAR cannot be mapped,
 * -ETIMEDOUT when the device does not finish its reset. */
int virtio_pci_init(struct virtio_dev *vd, struct pci_dev *d);
/* The features the device offers (before virtio_negotiate). */
uint64_t virtio_offered(struct virtio_dev *vd);
/* Accept the features in `wanted` that the device offers, plus VIRTIO_F_VERSION_1
 * (required: -ENODEV without it); -EIO when the device refuses the set. */
int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted);
static inline bool virtio_has(const struct virtio_dev *vd, int bit)
{
	return vd->features >> bit & 1;
}
/* Route configuration-change interrupts to MSI-X table entry `entry` (VIRTIO_NO_VECTOR:
 * none); -EIO when the device refuses it. */
int virtio_set_config_vector(struct virtio_dev *vd, uint16_t entry);
/* Set up queue `index` with at most max_size entries (a power of two), interrupts on
 * MSI-X table entry `entry` (or VIRTIO_NO_VECTOR), and enable it. -ENOENT when the
 * device has no such queue, -ENOMEM, -EIO when the device refuses the vector. */
int virtio_queue_setup(struct virtio_dev *vd, struct virtq *q, uint16_t index, uint16_t max_size,
		       uint16_t entry);
void virtio_driver_ok(struct virtio_dev *vd);
void virtio_fail(struct virtio_dev *vd);
/* Read and clear the ISR status (VIRTIO_ISR_*): tells a shared INTx line's handler
 * whether this device interrupted, and lowers the line. */
uint8_t virtio_isr(struct virtio_dev *vd);
/* Device-specific configuration, read consistently (retried across generation
 * changes). Out-of-range reads return 0. */
void virtio_cfg_read(struct virtio_dev *vd, uint32_t off, void *buf, uint32_t len);

void virtq_push(struct virtq *q, uint16_t head);
void virtq_publish(struct virtq *q);
void virtq_kick(struct virtq *q);
/* Next completed head and the bytes the device wrote into it; false when none. */
bool virtq_pop(struct virtq *q, uint32_t *head, uint32_t *len);

#endif
