/* version.h: shoal's version, as printed in the boot banner. */
#ifndef KERNEL_VERSION_H
#define KERNEL_VERSION_H

#define SHOAL_VERSION "0.1.0"

#endif
