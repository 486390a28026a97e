/* pic.h: the legacy 8259 PICs, which shoal never uses: they are remapped out of the
 * exception vectors and masked, so that a stray legacy interrupt cannot look like a
 * CPU exception. */
#ifndef DRIVERS_PIC_H
#define DRIVERS_PIC_H

/* Remap the master/slave PICs to vectors 32..47 and mask every line. */
void pic_disable(void);

#endif
