/* What the agent needs to know about the machine, read from procfs/sysfs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum cvm_kind { CVM_NONE, CVM_SEV_SNP, CVM_TDX };

struct hwrng_info {
	char current[64];  /* rng_current: "none" when no device */
	int quality;       /* rng_quality, or the core's default_quality; -1 unknown */
};

enum cvm_kind cvm_detect(const char *cpuinfo_flags, bool sev_guest_dev, bool tdx_guest_dev);
const char *cvm_name(enum cvm_kind k);
bool hwrng_kernel_feeds(const struct hwrng_info *h);
int hwrng_info_read(const char *sysfs_dir, const char *param_dir, struct hwrng_info *ret);
int cpuinfo_flags_read(const char *path, char *buf, size_t size);
enum cvm_kind cvm_detect_here(void);
bool in_initrd(void);
int read_file_str(const char *path, char *buf, size_t size);
