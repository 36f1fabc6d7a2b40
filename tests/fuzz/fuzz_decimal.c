/* fuzz_decimal.c -- libFuzzer target for tr_dec_parse: every flag
 * combination and scale; a parsed value must format and re-parse to itself
 * (exactness), and failures must leave the output untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned flags = data[0] & 0x0F;
    int scale = (data[0] >> 4) % (TR_DEC_MAX_SCALE + 1);
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    int64_t v = 42;
    int rounded = 0;
    int rc = tr_dec_parse(s, len, scale, flags, &v, &rounded);
    if (rc != 0) {
        if (v != 42 || rc > 0) abort();
        return 0;
    }
    if ((flags & TR_DEC_EXACT) && rounded) abort();
    char buf[48];
    int64_t back = 0;
    int r2 = 1;
    tr_dec_format(v, scale, buf, sizeof buf);
    if (tr_dec_parse(buf, strlen(buf), scale, 0, &back, &r2) != 0 || back != v || r2) abort();
    return 0;
}
