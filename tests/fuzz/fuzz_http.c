/* fuzz_http.c -- libFuzzer target for what the server parses from a client
 * before any handler runs: the request target (path escapes, query
 * parameters, duplicates), headers, a urlencoded form body (http.c), and the
 * OAuth scope a third party sends, as the consent page describes it
 * (oauth_page.c).  Input: target NUL form-body NUL scope.  Checks: a target
 * accepted has an absolute decoded path without NUL; every form field read
 * is a C string; the scope description is a bounded, terminated string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "oauth_page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *part(const uint8_t *data, size_t size, size_t *off, char *buf, size_t cap)
{
    size_t n = 0;
    while (*off < size && data[*off] != 0 && n + 1 < cap) buf[n++] = (char)data[(*off)++];
    while (*off < size && data[*off] != 0) (*off)++;
    if (*off < size) (*off)++;
    buf[n] = '\0';
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char target[4096], body[4096], scope[1024];
    size_t off = 0;
    part(data, size, &off, target, sizeof target);
    part(data, size, &off, body, sizeof body);
    part(data, size, &off, scope, sizeof scope);

    http_req *r = NULL;
    eg_err err;
    if (http_req_new("POST", target, &r, &err) == 0) {
        const char *p = http_req_path(r);
        if (p[0] != '/') abort();
        http_req_add_header(r, "Content-Type", "application/x-www-form-urlencoded");
        http_req_set_body(r, body, strlen(body));
        static const char *const names[] = {"grant_type", "code", "a", "", "scope", "x y"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            const char *v = http_req_form(r, names[i]);
            if (v) (void)strlen(v);
            v = http_req_query(r, names[i]);
            if (v) (void)strlen(v);
        }
        http_req_free(r);
    }
    http_resp *rs = http_resp_new();
    if (rs) {
        http_resp_header(rs, target, body); /* CR/LF or ':' must be refused, not sent */
        if (!http_resp_broken(rs) && (strpbrk(target, "\r\n:") || strpbrk(body, "\r\n") || !*target))
            abort();
        http_resp_free(rs);
    }
    char desc[16384];
    desc[sizeof desc - 1] = 'X';
    oauth_scope_describe(scope, desc, sizeof desc);
    if (memchr(desc, '\0', sizeof desc) == NULL) abort();
    return 0;
}
