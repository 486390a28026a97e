/* e1000.h: the Intel 8254x (e1000) driver's registers and device state, shared by the
 * driver and its self-test. The stack sees these NICs only through drivers/netdev.h.
 *
 * Register offsets and bits are from Intel's PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual (8254x), chapter 13, and the descriptor layouts
 * from chapter 3 (legacy descriptors only). The 82574L (e1000e) keeps the same registers
 * and legacy descriptors; what differs is marked "82574". */
#ifndef DRIVERS_E1000_H
#define DRIVERS_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/netdev.h"
#include "kernel/spinlock.h"
#include "kernel/sync.h"

/* Registers (byte offsets in BAR 0). */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_CTRL_EXT 0x0018
#define E1000_ICR 0x00c0
#define E1000_ITR 0x00c4
#define E1000_IMS 0x00d0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_RDTR 0x2820
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_TIDV 0x3820
#define E1000_TXDCTL 0x3828
#define E1000_IVAR 0x00e4 /* 82574: MSI-X vector of each interrupt cause */
#define E1000_MPC 0x4010  /* missed packets (no free receive descriptor); clears on read */
#define E1000_RXCSUM 0x5000
#define E1000_MTA 0x5200 /* multicast table, E1000_MTA_WORDS 32-bit words */
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404

#define E1000_MTA_WORDS 128

#define E1000_CTRL_FD (1u << 0)
#define E1000_CTRL_LRST (1u << 3)
#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_ILOS (1u << 7)
#define E1000_CTRL_RST (1u << 26)
#define E1000_CTRL_VME (1u << 30)
#define E1000_CTRL_PHY_RST (1u << 31)

#define E1000_STATUS_LU (1u << 1)

/* EERD: start bit 0, data 31:16; the done bit and the word address differ: 8254x done
 * bit 4, address 15:8; 82574 done bit 1, address 15:2. */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EERD_DONE_8254X (1u << 4)
#define E1000_EERD_ADDR_SHIFT_8254X 8
#define E1000_EERD_DONE_82574 (1u << 1)
#define E1000_EERD_ADDR_SHIFT_82574 2

#define E1000_CTRL_EXT_PBA_CLR (1u << 31) /* 82574: MSI-X pending bits clear with ICR */

/* Interrupt causes (ICR, IMS, IMC). */
#define E1000_INT_TXDW (1u << 0)
#define E1000_INT_LSC (1u << 2)
#define E1000_INT_RXO (1u << 6)
#define E1000_INT_RXT0 (1u << 7)
/* 82574 with MSI-X: per-queue causes and "other" (link change, overrun) instead. */
#define E1000_INT_RXQ0 (1u << 20)
#define E1000_INT_TXQ0 (1u << 22)
#define E1000_INT_OTHER (1u << 24)

/* 82574 IVAR: a 3-bit vector and a valid bit per cause: RxQ0 bits 3:0, TxQ0 11:8,
 * other 19:16. Here every cause goes to vector 0. */
#define E1000_IVAR_VALID 0x8u
#define E1000_IVAR_RXQ0_SHIFT 0
#define E1000_IVAR_TXQ0_SHIFT 8
#define E1000_IVAR_OTHER_SHIFT 16

/* 82574 TXDCTL: write back every descriptor (WTHRESH 1, granularity in descriptors) and
 * count descriptors, as the 82571-family initialisation requires. */
#define E1000_TXDCTL_WTHRESH_MASK (0x3fu << 16)
#define E1000_TXDCTL_FULL_TX_DESC_WB 0x01010000u
#define E1000_TXDCTL_COUNT_DESC (1u << 22)

#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_MPE (1u << 4)
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_BSIZE_2048 (0u << 16) /* with BSEX clear */
#define E1000_RCTL_SECRC (1u << 26)

#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)
#define E1000_TCTL_CT_SHIFT 4
#define E1000_TCTL_COLD_SHIFT 12
#define E1000_TCTL_CT 0x0f   /* collision threshold: the manual's recommended 16 tries */
#define E1000_TCTL_COLD 0x40 /* collision distance for full duplex (64 byte times) */
#define E1000_TCTL_RTLC (1u << 24)

/* Inter-packet gap for copper parts (the manual's recommended values). */
#define E1000_TIPG_IPGT 10
#define E1000_TIPG_IPGR1 8
#define E1000_TIPG_IPGR2 6
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR2_SHIFT 20

#define E1000_RAH_AV (1u << 31) /* address valid */

/* Legacy receive descriptor. */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

#define E1000_RXD_STAT_DD (1u << 0)
#define E1000_RXD_STAT_EOP (1u << 1)
/* Frame errors: CRC/alignment, symbol, sequence, carrier extension, RX data error. (The
 * IP/TCP checksum error bits are not frame errors, and checksum offload stays off.) */
#define E1000_RXD_ERR_FRAME 0x97

/* Legacy transmit descriptor. */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

#define E1000_TXD_CMD_EOP (1u << 0)
#define E1000_TXD_CMD_IFCS (1u << 1)
#define E1000_TXD_CMD_RS (1u << 3)
#define E1000_TXD_STAT_DD (1u << 0)
#define E1000_TXD_STAT_EC (1u << 1) /* excess collisions */
#define E1000_TXD_STAT_LC (1u << 2) /* late collision */

/* Ring sizes: multiples of 8 descriptors (the 128-byte length granularity). */
#define E1000_RX_RING 256
#define E1000_TX_RING 256
#define E1000_BUF_SIZE 2048

struct pci_dev;
struct thread;

enum e1000_family {
	E1000_8254X, /* 82540, 82544, 82545, 82546 */
	E1000_82574, /* PCIe, e1000e: MSI-X, ICR not cleared by reading under MSI-X */
};

struct e1000 {
	struct netdev nd;
	struct pci_dev *pci;
	enum e1000_family family;
	volatile uint32_t *regs;
	int vector;
	int irq_mode; /* PCI_IRQ_MSIX, PCI_IRQ_MSI or PCI_IRQ_INTX */
	bool link;    /* STATUS.LU as last reported */

	volatile struct e1000_rx_desc *rx;
	uint8_t *rx_buf;  /* E1000_RX_RING buffers of E1000_BUF_SIZE */
	unsigned rx_next; /* next descriptor the device will complete */

	struct spinlock tx_lock; /* xmit and TX recycling */
	volatile struct e1000_tx_desc *tx;
	uint8_t *tx_buf;
	unsigned tx_tail;  /* next free descriptor (TDT) */
	unsigned tx_clean; /* oldest descriptor not yet recycled */

	uint64_t rx_on_ns; /* time_ns() when RCTL enabled receive */
	uint32_t events;   /* ICR bits seen by the interrupt handler, not yet handled */
	uint64_t irqs;	   /* interrupts that were for this device */
	struct sem wake;
	struct thread *worker;

	/* For the self-test: when set, called by the worker with every received frame
	 * before it goes up the stack. */
	void (*tap)(struct e1000 *e, const void *frame, size_t len);
};

static inline uint32_t e1000_rd(struct e1000 *e, unsigned reg) { return e->regs[reg / 4]; }
static inline void e1000_wr(struct e1000 *e, unsigned reg, uint32_t v) { e->regs[reg / 4] = v; }

/* Word `word` of the device's EEPROM through EERD: 0 or -ETIMEDOUT. */
int e1000_eeprom_read(struct e1000 *e, unsigned word, uint16_t *out);

/* Devices the driver took, in probe order (for the self-test). */
int e1000_count(void);
struct e1000 *e1000_get(int i);

#endif
