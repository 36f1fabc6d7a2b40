/* fuzz_validate.c -- libFuzzer target: the whole validation pass (reader,
 * schema checker and semantic rules) on arbitrary bytes.  Any crash, leak,
 * hang or sanitizer report is a bug; findings about the input are fine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "validate.h"

typedef struct mem { const uint8_t *p; size_t left; } mem;

static int mem_read(void *io, char *buf, int len)
{
    mem *m = io;
    size_t n = m->left < (size_t)len ? m->left : (size_t)len;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (int)n;
}

static void ignore(void *ctx, const espi_diag *d)
{
    (void)ctx;
    (void)d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem m = {data, size};
    espi_validate_opts o = {ESPI_LEVEL_FULL, NULL, NULL, 0};
    espi_validate_result r;
    eg_err err;
    espi_validate_io(mem_read, &m, "fuzz.xml", &o, ignore, NULL, &r, &err);
    return 0;
}
