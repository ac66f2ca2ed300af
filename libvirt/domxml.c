/*
 * The parts of a domain's XML virtseed-libvirt acts on: name, UUID, the
 * egd unix <rng> backends, and our <virtseed:guest/> metadata element.  Pure
 * functions of the XML text (libxml2, no network, no entities): a bad
 * metadata element is refused as a whole, naming the attribute and cause,
 * and the domain is still usable with the class defaults.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domxml.h"
#include "egd-conf.h"
#include "macro.h"

#define RNG_XPATH "/domain/devices/rng[@model='virtio']" \
		  "/backend[@model='egd' and @type='unix']/source"

static void docp(xmlDocPtr *d)
{
	if (*d)
		xmlFreeDoc(*d);
}

static void ctxp(xmlXPathContextPtr *c)
{
	if (*c)
		xmlXPathFreeContext(*c);
}

static xmlDocPtr read_doc(const char *xml, size_t n)
{
	if (n > INT32_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)n, NULL, NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static xmlXPathContextPtr new_ctx(xmlDocPtr doc)
{
	xmlXPathContextPtr c = xmlXPathNewContext(doc);

	if (c && xmlXPathRegisterNs(c, BAD_CAST DOMXML_NS_PREFIX, BAD_CAST DOMXML_NS) < 0) {
		xmlXPathFreeContext(c);
		return NULL;
	}
	return c;
}

/* The text of the first node of expr into buf; -ENOENT, -E2BIG. */
static int xpath_text(xmlXPathContextPtr c, const char *expr, char *buf, size_t size)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, c);
	xmlChar *t = NULL;
	int r = -ENOENT;

	if (o && o->nodesetval && o->nodesetval->nodeNr > 0)
		t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
	if (t) {
		r = strlen((char *)t) < size ? 0 : -E2BIG;
		if (r == 0)
			strcpy(buf, (char *)t);
		xmlFree(t);
	}
	xmlXPathFreeObject(o);
	return r;
}

static xmlXPathObjectPtr xpath_nodes(xmlXPathContextPtr c, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, c);

	if (o && (!o->nodesetval || o->nodesetval->nodeNr == 0)) {
		xmlXPathFreeObject(o);
		return NULL;
	}
	return o;
}

static void parse_rng(xmlXPathContextPtr c, struct domxml *d)
{
	xmlXPathObjectPtr o = xpath_nodes(c, RNG_XPATH);

	for (int i = 0; o && i < o->nodesetval->nodeNr && d->n_rng < DOMXML_MAX_RNG; i++) {
		xmlNodePtr node = o->nodesetval->nodeTab[i];
		xmlChar *mode = xmlGetProp(node, BAD_CAST "mode");
		xmlChar *path = xmlGetProp(node, BAD_CAST "path");

		if (path && path[0] == '/' && strlen((char *)path) < DOMXML_MAX_PATH) {
			struct domxml_rng *rng = &d->rng[d->n_rng++];

			rng->bind = mode && strcmp((char *)mode, "bind") == 0;
			strcpy(rng->path, (char *)path);
		}
		xmlFree(mode);
		xmlFree(path);
	}
	xmlXPathFreeObject(o);
}

static const char *set_attr(struct domxml *d, const char *key, const char *v)
{
	uint64_t *size;

	if (strcmp(key, "class") == 0) {
		if (!ctl_valid_name(v))
			return "not 1-63 of [A-Za-z0-9_.+-]";
		strcpy(d->class, v);
		return NULL;
	}
	size = strcmp(key, "rate") == 0 ? &d->rate : strcmp(key, "ceil") == 0 ? &d->ceil :
	       strcmp(key, "burst") == 0 ? &d->burst : NULL;
	if (!size)
		return "unknown attribute";
	if (egd_conf_parse_size(v, size) < 0 || *size == 0)
		return "not a size > 0 (bytes, or with K, M, G)";
	return NULL;
}

static void parse_meta(xmlXPathContextPtr c, struct domxml *d)
{
	xmlXPathObjectPtr o = xpath_nodes(c, "/domain/metadata/" DOMXML_NS_PREFIX ":guest");
	const char *err = NULL, *key = "";

	for (xmlAttrPtr a = o ? o->nodesetval->nodeTab[0]->properties : NULL; a && !err;
	     a = a->next) {
		xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);

		key = (const char *)a->name;
		err = v ? set_attr(d, key, (char *)v) : "unreadable";
		xmlFree(v);
	}
	if (!err && d->rate && d->ceil && d->ceil < d->rate) {
		key = "ceil";
		err = "less than rate";
	}
	if (err) {
		snprintf(d->meta_error, sizeof(d->meta_error), "<" DOMXML_NS_PREFIX
			 ":guest %s=...>: %s", key, err);
		d->class[0] = '\0';
		d->rate = d->ceil = d->burst = 0;
	}
	xmlXPathFreeObject(o);
}

/**
 * domxml_parse() - what a domain's XML (virDomainGetXMLDesc()) says for virtseed.
 * Returns 0, or -EINVAL with a message in err: not XML, no name or UUID, or a
 * name the distributor cannot show.  A bad metadata element sets ret->meta_error.
 */
int domxml_parse(const char *xml, size_t n, struct domxml *ret, char *err, size_t err_size)
{
	_cleanup_(docp) xmlDocPtr doc = read_doc(xml, n);
	_cleanup_(ctxp) xmlXPathContextPtr c = doc ? new_ctx(doc) : NULL;
	struct domxml d = {};
	char name[256];
	int r;

	if (!c) {
		snprintf(err, err_size, "not a domain's XML");
		return -EINVAL;
	}
	r = xpath_text(c, "/domain/name", name, sizeof(name));
	if (r < 0 || !ctl_valid_name(name)) {
		snprintf(err, err_size, "domain name '%s': %s", r < 0 ? "" : name,
			 "not 1-63 of [A-Za-z0-9_.+-]");
		return -EINVAL;
	}
	strcpy(d.name, name);
	if (xpath_text(c, "/domain/uuid", d.uuid, sizeof(d.uuid)) < 0 || !ctl_valid_uuid(d.uuid)) {
		snprintf(err, err_size, "domain '%s': no valid <uuid>", d.name);
		return -EINVAL;
	}
	parse_rng(c, &d);
	parse_meta(c, &d);
	*ret = d;
	return 0;
}

/* The <rng> element attach adds: virtio, egd backend on a unix socket. */
ssize_t domxml_rng_element(char *buf, size_t size, bool bind, const char *path)
{
	int r;

	if (path[0] != '/' || strlen(path) >= DOMXML_MAX_PATH || strpbrk(path, "'<>&\""))
		return -EINVAL;
	r = snprintf(buf, size, "<rng model='virtio'><backend model='egd' type='unix'>"
		     "<source mode='%s' path='%s'/></backend></rng>",
		     bind ? "bind" : "connect", path);
	if (r < 0 || (size_t)r >= size)
		return -ENOBUFS;
	return r;
}

/* The XML text of the <rng> whose egd unix source has this path (malloc()ed), or -ENOENT. */
int domxml_find_rng(const char *xml, size_t n, const char *path, char **ret_element)
{
	_cleanup_(docp) xmlDocPtr doc = read_doc(xml, n);
	_cleanup_(ctxp) xmlXPathContextPtr c = doc ? new_ctx(doc) : NULL;
	xmlXPathObjectPtr o = c ? xpath_nodes(c, RNG_XPATH) : NULL;
	int r = c ? -ENOENT : -EINVAL;

	for (int i = 0; o && r == -ENOENT && i < o->nodesetval->nodeNr; i++) {
		xmlNodePtr src = o->nodesetval->nodeTab[i];
		xmlChar *p = xmlGetProp(src, BAD_CAST "path");
		xmlBufferPtr b;

		if (p && strcmp((char *)p, path) == 0 && (b = xmlBufferCreate())) {
			r = xmlNodeDump(b, doc, src->parent->parent, 0, 0) < 0 ? -ENOMEM : 0;
			if (r == 0)
				*ret_element = strdup((const char *)xmlBufferContent(b));
			if (r == 0 && !*ret_element)
				r = -ENOMEM;
			xmlBufferFree(b);
		}
		xmlFree(p);
	}
	xmlXPathFreeObject(o);
	return r;
}
