/* virtseed-libvirt: what a domain's XML says about virtseed (pure, libxml2). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "ctl-proto.h"

#define DOMXML_NS "http://virtseed.org/xmlns/libvirt/1"
#define DOMXML_NS_PREFIX "virtseed"
#define DOMXML_MAX_RNG 8                /* egd unix rng devices looked at per domain */
#define DOMXML_MAX_PATH sizeof(((struct sockaddr_un *)0)->sun_path)
#define DOMXML_MAX_ERROR 160

struct domxml_rng {
	bool bind;                      /* QEMU listens (source mode='bind') */
	char path[DOMXML_MAX_PATH];
};

struct domxml {
	char name[CTL_MAX_NAME];
	char uuid[CTL_UUID_LEN + 1];
	struct domxml_rng rng[DOMXML_MAX_RNG];
	size_t n_rng;
	/* <virtseed:guest class= rate= ceil= burst=/>; unset = 0 / "" */
	char class[CTL_MAX_NAME];
	uint64_t rate, ceil, burst;
	char meta_error[DOMXML_MAX_ERROR];      /* metadata refused (then all unset) */
};

int domxml_parse(const char *xml, size_t n, struct domxml *ret, char *err, size_t err_size);
ssize_t domxml_rng_element(char *buf, size_t size, bool bind, const char *path);
int domxml_find_rng(const char *xml, size_t n, const char *path, char **ret_element);
