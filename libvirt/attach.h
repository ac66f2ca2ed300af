/* virtseed-libvirt: defaults shared by main.c and attach.c, and the attach|detach command. */
#pragma once

#include <stdbool.h>

#define DEFAULT_URI "qemu:///system"
#define DEFAULT_CONTROL "/run/virtseed-egd/control"  /* virtseed-egd.service's RuntimeDirectory */
#define DEFAULT_RUN_DIR "/run/libvirt/qemu"      /* libvirt's, not ours */
#define DEFAULT_BIND_DIR LOCALSTATEDIR "/lib/virtseed/libvirt"
#define QEMU_USER "libvirt-qemu"                 /* Debian's qemu.conf default */
#define DEFAULT_SHARED_SOCKET "/run/virtseed/egd.sock" /* virtseed-egd.socket */

int attach_main(int argc, char **argv, bool detach);
void libvirt_quiet(void);
int args_error(int c, char **argv);
int args_log_level(const char *v);
