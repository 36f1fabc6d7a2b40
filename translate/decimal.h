/* decimal.h -- exact decimal text -> scaled int64, never through a float.
 *
 * Utility exports write energy and money as decimal text in every style:
 * ".145" (SMT drops the leading zero), "0.580", "1,234.5" (thousands
 * separators), "-$4.66" and "$0.13 " (Opower money), "57.029999999999994"
 * (SmartHub JSON numbers printed from doubles).  We want exact integers in
 * the unit ESPI stores (Wh, hundred-thousandths of a dollar), so the text is
 * read digit by digit into an int64 at a fixed `scale` (number of decimals
 * kept: scale 3 turns kWh text into Wh, scale 5 turns dollars into
 * hundred-thousandths).
 *
 * Rounding policy (explicit, the same everywhere): digits beyond `scale` are
 * rounded half away from zero ("0.0005" at scale 3 -> 1, "-0.0005" -> -1,
 * "0.00049999" -> 0), and *rounded is set to 1 whenever a non-zero digit was
 * dropped, so callers can count or refuse inexact values (TR_DEC_EXACT
 * refuses them here).  "57.029999999999994" at scale 3 is 57030, rounded.
 *
 * Accepted grammar (leading and trailing blanks always ignored):
 *     [sign] [$] digits [. digits]  |  [sign] [$] . digits
 * with sign '+' or '-'; '$' only with TR_DEC_CURRENCY ("$-4.66" too);
 * ',' group separators only with TR_DEC_THOUSANDS and only in valid places
 * ("1,234.5" yes, "1,2" and "12,34" no); an exponent ("5.7e-05") only with
 * TR_DEC_EXPONENT.  Anything else is a syntax error.  Values whose magnitude
 * exceeds INT64_MAX at the target scale are an overflow, never wrapped. */
#ifndef TR_DECIMAL_H
#define TR_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

enum tr_dec_flags {
    TR_DEC_THOUSANDS = 1 << 0, /* accept "1,234.5" */
    TR_DEC_CURRENCY = 1 << 1,  /* accept a '$' after/before the sign */
    TR_DEC_EXPONENT = 1 << 2,  /* accept "1.5e-3" */
    TR_DEC_EXACT = 1 << 3      /* a value needing rounding is an error */
};

enum tr_dec_status {
    TR_DEC_OK = 0,
    TR_DEC_EEMPTY = -1,    /* nothing but blanks */
    TR_DEC_ESYNTAX = -2,   /* not a decimal number */
    TR_DEC_EOVERFLOW = -3, /* magnitude too large for int64 at this scale */
    TR_DEC_EINEXACT = -4,  /* TR_DEC_EXACT and digits beyond scale */
    TR_DEC_ESCALE = -5     /* scale outside 0..18 (caller bug) */
};

#define TR_DEC_MAX_SCALE 18

/* Parse s[0..len) at `scale` decimals into *out (value x 10^scale).
 * Returns TR_DEC_OK or a negative tr_dec_status; *out is written only on
 * success.  rounded may be NULL; when not, it is set to 1 if a non-zero
 * digit beyond scale was rounded away, else 0.  s need not be NUL-terminated. */
int tr_dec_parse(const char *s, size_t len, int scale, unsigned flags,
                 int64_t *out, int *rounded);

/* Same for a NUL-terminated string. */
int tr_dec_parse_str(const char *s, int scale, unsigned flags, int64_t *out, int *rounded);

/* What went wrong, phrased to follow the quoted input in a message:
 * "is not a decimal number", "is empty", "is too large" ... */
const char *tr_dec_strerror(int status);

/* Format v (at scale) as plain decimal text, e.g. 11576 at 3 -> "11.576";
 * out must hold >= 24 bytes; returns out. */
char *tr_dec_format(int64_t v, int scale, char *out, size_t size);

#endif
