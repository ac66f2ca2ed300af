/*
 * VM fork detection, the pure part: parsing what the kernel says about a fork
 * (kernel log records, the vmgenid generation counter of kernel-patch/0005,
 * the 6.8 uevent, vmclock's vm_generation_counter) and choosing a method.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the vmgenid driver logs (pr_notice) after reseeding for a new generation. */
#define FORK_KMSG_NOTICE "random: crng reseeded due to virtual machine fork"
/* Field of the NEW_VMGENID uevent, Linux 6.8 only. */
#define FORK_UEVENT_KEY "NEW_VMGENID=1"
#define FORK_VMCLOCK_MAGIC 0x4b4c4356u
#define FORK_VMCLOCK_FLAG_GEN (1u << 8)
#define FORK_VMCLOCK_MIN_SIZE 112 /* up to and with vm_generation_counter */

enum fork_mode { FORK_MODE_AUTO, FORK_MODE_KERNEL, FORK_MODE_KMSG, FORK_MODE_OFF, _FORK_MODE_MAX };

enum fork_method {
	FORK_NONE,
	FORK_SYSFS,   /* kernel-patch/0005: .../vmgenid/<dev>/generation, sysfs_notify() */
	FORK_UEVENT,  /* Linux 6.8: NEW_VMGENID=1 on the vmgenid device */
	FORK_VMCLOCK, /* ptp_vmclock: vm_generation_counter in /dev/vmclock0 */
	FORK_KMSG,    /* the kernel's own notice in /dev/kmsg */
};

/* What this kernel offers, probed by the caller. */
struct fork_env {
	bool sysfs_counter;
	bool uevent;        /* a 6.8 kernel with a vmgenid device */
	bool vmclock_gen;   /* /dev/vmclock0 with VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT */
	bool vmgenid;       /* a vmgenid device is bound: the kernel will log forks */
	bool kmsg;          /* /dev/kmsg can be opened */
};

/* One parsed /dev/kmsg record. */
struct fork_kmsg {
	uint64_t seq;
	uint64_t ts_usec;   /* printk time, CLOCK_MONOTONIC-like */
	bool fork;          /* the record is the kernel's fork notice */
};

/* A generation counter seen across wakeups. */
struct fork_gen {
	bool known;
	uint64_t value;
};

const char *fork_mode_name(enum fork_mode m);
int fork_mode_parse(const char *s, enum fork_mode *ret);
const char *fork_method_name(enum fork_method m);
enum fork_method fork_choose(enum fork_mode mode, const struct fork_env *env);
int fork_kmsg_parse(const char *rec, size_t n, struct fork_kmsg *ret);
int fork_counter_parse(const char *text, size_t n, uint64_t *ret);
bool fork_uevent_is_fork(const char *msg, size_t n);
int fork_vmclock_parse(const uint8_t *abi, size_t n, uint64_t *ret_gen);
bool fork_gen_update(struct fork_gen *g, uint64_t value);
