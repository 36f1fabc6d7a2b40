/* serve_member.h -- the member's own data page of `espigate serve`. */
#ifndef SERVE_MEMBER_H
#define SERVE_MEMBER_H

#include "http.h"
#include "store.h"

typedef struct member_page {
    store *s;                   /* borrowed; the server's connection */
    const char *prefix;         /* "/DataCustodian" */
} member_page;

/* http_handler_fn for GET/POST {prefix}/member (see serve_member.c). */
int member_page_handle(void *ctx, const http_req *r, http_resp *rs);

#endif
