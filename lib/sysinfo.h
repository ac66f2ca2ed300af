/* What the agent needs to know about the machine, read from procfs/sysfs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum cvm_kind { CVM_NONE, CVM_SEV_SNP, CVM_TDX };

struct hwrng_info {
	char current[64];  /* rng_current: "none" when no device */
	int quality;       /* rng_quality, or the core's default_quality; -1 unknown */
};

/* What the kernel says about this machine, read once at start under a root directory
 * ("" for the real one; tests pass a directory of fake files). */
struct machine {
	char cmdline[4096];     /* /proc/cmdline */
	char cpu_flags[4096];   /* the first "flags" line of /proc/cpuinfo */
	char mem_encrypt[128];  /* "Memory Encryption Features active: ..." from the kernel log */
	bool sev_guest_dev, tdx_guest_dev;
	bool initrd;            /* /etc/initrd-release */
};

int machine_read(const char *root, struct machine *ret);
enum cvm_kind machine_cvm(const struct machine *m);
bool machine_cpu_flag(const struct machine *m, const char *flag);
int machine_trust_cpu(const struct machine *m);  /* random.trust_cpu: 1, 0, -1 not given */

enum cvm_kind cvm_detect(const char *cpuinfo_flags, bool sev_guest_dev, bool tdx_guest_dev);
const char *cvm_name(enum cvm_kind k);
bool hwrng_kernel_feeds(const struct hwrng_info *h);
int hwrng_info_read(const char *sysfs_dir, const char *param_dir, struct hwrng_info *ret);
int cpuinfo_flags_read(const char *path, char *buf, size_t size);
int read_file_str(const char *path, char *buf, size_t size);
