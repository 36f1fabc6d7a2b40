/* textout.c -- see textout.h. */
#include "textout.h"

#include <string.h>

static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t eg_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned long cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0; /* continuation byte, overlong lead 0xc0/0xc1, or > 0xf4 */
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0; /* overlong */
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

void eg_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    while (n > 0) {
        size_t k = eg_utf8_seq(p, n);
        if (k == 0) { fputs(REPLACEMENT, f); k = 1; }
        else if (k > 1) fwrite(p, 1, k, f);
        else switch (*p) {
            case '"': fputs("\\\"", f); break;
            case '\\': fputs("\\\\", f); break;
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default:
                if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
                else fputc(*p, f);
            }
        p += k, n -= k;
    }
    fputc('"', f);
}

void eg_xml_text(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t k = eg_utf8_seq(p, n);
        if (k == 0) { fputs(REPLACEMENT, f); k = 1; }
        else if (k > 1) fwrite(p, 1, k, f);
        else switch (*p) {
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '&': fputs("&amp;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\'': fputs("&#39;", f); break;
            default:
                if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) fputs(REPLACEMENT, f);
                else fputc(*p, f);
            }
        p += k, n -= k;
    }
}
