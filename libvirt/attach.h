/* virtseed-libvirt: defaults shared by main.c and attach.c, and the attach|detach command. */
#pragma once

#include <stdbool.h>

#define DEFAULT_URI "qemu:///system"
#define DEFAULT_CONTROL RUNSTATEDIR "/virtseed-egd/control"
#define DEFAULT_RUN_DIR RUNSTATEDIR "/libvirt/qemu"
#define DEFAULT_BIND_DIR LOCALSTATEDIR "/lib/virtseed/libvirt"
#define DEFAULT_SHARED_SOCKET RUNSTATEDIR "/virtseed/egd.sock"

int attach_main(int argc, char **argv, bool detach);
void libvirt_quiet(void);
