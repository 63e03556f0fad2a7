/*
 * Database URLs: postgres://, postgresql://, mysql://, mariadb:// and the
 * SQLAlchemy forms scheme+driver:// (the driver suffix is ignored).
 */
#ifndef GODWIT_URL_H
#define GODWIT_URL_H

#include "godwit/common.h"

struct gw_url {
	char *engine;    /* "mysql" or "postgres" */
	char *user;      /* percent-decoded, NULL if absent */
	char *password;  /* percent-decoded, NULL if absent; never print it */
	char *host;      /* NULL if absent; brackets of IPv6 removed */
	int port;        /* 0 if absent */
	char *database;  /* percent-decoded, NULL if absent */
	int nopts;       /* query options, in URL order */
	char **keys;     /* percent-decoded */
	char **values;   /* percent-decoded */
};
#define GW_URL_INIT {NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL}

/*
 * Parse text into url (which must be GW_URL_INIT or released). On failure
 * returns GW_ERR_URL with a message that never contains the password.
 */
GW_MUSTCHECK int gw_url_parse(const char *text, struct gw_url *url, struct gw_error *err);
void gw_url_release(struct gw_url *url);

/* Borrowed value of query option key, NULL if absent. */
const char *gw_url_option(const struct gw_url *url, const char *key);

/*
 * New string: text with any password replaced by "****"; safe to print.
 * Caller frees with free().
 */
char *gw_url_redact(const char *text);

#endif
