/* textout.h -- strings written into JSON and XML/HTML reports, safely.
 *
 * Report text often carries bytes we did not choose: a server's error body,
 * an excerpt of a broken feed, a file name.  Written as they are, invalid
 * UTF-8 makes a JSON report unreadable (strict parsers refuse it) and a
 * control character makes an XML report ill-formed.  These writers escape
 * what the format needs and replace every byte that is not part of a
 * well-formed UTF-8 sequence (overlong forms, surrogates and code points
 * above U+10FFFF included) with U+FFFD, so the output is always valid
 * UTF-8 whatever the input was.  One implementation for the CLI and feeds/
 * (the audit report), so the two cannot drift apart. */
#ifndef ESPI_TEXTOUT_H
#define ESPI_TEXTOUT_H

#include <stddef.h>
#include <stdio.h>

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 when the byte
 * at s does not start one (n = bytes available; s[0] must exist). */
size_t eg_utf8_seq(const unsigned char *s, size_t n);

/* s as a JSON string literal, quotes included (RFC 8259: '"', '\\' and
 * control characters escaped; invalid UTF-8 -> U+FFFD). */
void eg_json_string(FILE *f, const char *s);

/* s as XML or HTML text or attribute value: & < > " ' escaped, control
 * characters other than tab and newline and invalid UTF-8 -> U+FFFD. */
void eg_xml_text(FILE *f, const char *s);

#endif
