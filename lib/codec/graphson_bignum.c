/*
 * Big numbers of the Gremlin codecs (see graphson_types.h): Java's
 * BigInteger (two's complement, big-endian, minimal, as toByteArray writes
 * it) and BigDecimal (unscaled BigInteger + scale) to and from the decimal
 * text GraphSON carries, as BigInteger.toString and BigDecimal.toString
 * write it.  The conversions are quadratic in the number of digits, so their
 * size is bounded (GJ__GT_BIG_MAX_BYTES, GJ__GT_BIG_MAX_DIGITS).
 */
#include "codec/graphson_types.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

bool gj__gt_json_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < len && is_digit(s[i]))
            i++;
    if (i < len && s[i] == '.') {
        if (++i >= len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i == len;
}

bool gj__gt_integer_text(const char *s, size_t len)
{
    size_t i = (len && s[0] == '-') ? 1 : 0;
    if (i == len)
        return false;
    for (; i < len; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Decimal digits of a magnitude held in little-endian 32-bit limbs (the
 * limbs are consumed) into out[0..cap), cap >= 10 * nl + 10 (each limb
 * gives fewer than 9.7 digits, written in chunks of nine); returns the
 * length. */
static size_t limbs_to_digits(uint32_t *l, size_t nl, char *out, size_t cap)
{
    while (nl && !l[nl - 1])
        nl--;
    if (!nl) {
        out[0] = '0';
        return 1;
    }
    /* Chunks of nine digits, least significant first, written from the end. */
    size_t pos = cap;
    char *tmp = out;   /* reuse out as scratch from the back */
    while (nl) {
        uint64_t rem = 0;
        for (size_t i = nl; i-- > 0;) {
            uint64_t cur = rem << 32 | l[i];
            l[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (nl && !l[nl - 1])
            nl--;
        for (int k = 0; k < 9; k++) {
            tmp[--pos] = (char)('0' + rem % 10);
            rem /= 10;
        }
    }
    while (pos < cap - 1 && tmp[pos] == '0')
        pos++;
    size_t n = cap - pos;
    memmove(out, out + pos, n);
    return n;
}

int gj__gt_bigint_to_text(const uint8_t *b, size_t n, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    if (n == 0)
        return GJ_EINVAL;
    if (n > GJ__GT_BIG_MAX_BYTES)
        return GJ_ETOOBIG;
    bool neg = (b[0] & 0x80) != 0;
    size_t nl = (n + 3) / 4;
    uint32_t *l = calloc(nl, sizeof *l);
    char *out = malloc(10 * nl + 12);
    if (!l || !out) {
        free(l);
        free(out);
        return GJ_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t byte = b[n - 1 - i];
        l[i / 4] |= (uint32_t)(neg ? (uint8_t)~byte : byte) << (8 * (i % 4));
    }
    if (neg) {   /* magnitude = ~x + 1 (the high limb's unused bits stay 0) */
        if (n % 4)
            l[nl - 1] &= (UINT32_C(1) << (8 * (n % 4))) - 1;
        for (size_t i = 0; i < nl && ++l[i] == 0; i++)
            ;
    }
    size_t k = limbs_to_digits(l, nl, out + (neg ? 1 : 0), 10 * nl + 10);
    if (neg)
        out[0] = '-';
    k += neg ? 1 : 0;
    out[k] = '\0';
    free(l);
    *text = out;
    *len = k;
    return 0;
}

/* Minimal two's complement of a sign and a big-endian magnitude mag[0..mn)
 * (leading zeros allowed).  *out is malloc'd. */
static int twos_complement(bool neg, const uint8_t *mag, size_t mn, uint8_t **out, size_t *n)
{
    while (mn && !mag[0])
        mag++, mn--;
    if (!mn)
        neg = false;
    uint8_t *r = malloc(mn + 1);
    if (!r)
        return GJ_ENOMEM;
    r[0] = 0;
    if (mn)
        memcpy(r + 1, mag, mn);
    size_t rn = mn + 1;
    if (neg) {
        for (size_t i = 0; i < rn; i++)
            r[i] = (uint8_t)~r[i];
        for (size_t i = rn; i-- > 0 && ++r[i] == 0;)
            ;
    }
    /* Drop sign-extension bytes Java would not write. */
    size_t skip = 0;
    while (rn - skip > 1 && ((r[skip] == 0x00 && !(r[skip + 1] & 0x80)) ||
                             (r[skip] == 0xff && (r[skip + 1] & 0x80))))
        skip++;
    memmove(r, r + skip, rn - skip);
    *out = r;
    *n = rn - skip;
    return 0;
}

int gj__gt_bigint_from_text(const char *s, size_t len, uint8_t **bytes, size_t *n)
{
    *bytes = NULL;
    *n = 0;
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == len)
        return GJ_EINVAL;
    for (size_t k = i; k < len; k++)
        if (!is_digit(s[k]))
            return GJ_EINVAL;
    while (i < len - 1 && s[i] == '0')
        i++;
    size_t nd = len - i;
    if (nd > GJ__GT_BIG_MAX_DIGITS)
        return GJ_ETOOBIG;
    size_t cap = nd / 9 + 2;
    uint32_t *l = calloc(cap, sizeof *l);
    if (!l)
        return GJ_ENOMEM;
    size_t nl = 0;
    /* Horner in chunks of up to nine digits. */
    size_t first = nd % 9 ? nd % 9 : 9;
    for (size_t pos = i; pos < len;) {
        size_t take = pos == i ? first : 9;
        uint32_t chunk = 0, mul = 1;
        for (size_t k = 0; k < take; k++) {
            chunk = chunk * 10 + (uint32_t)(s[pos + k] - '0');
            mul *= 10;
        }
        pos += take;
        uint64_t carry = chunk;
        for (size_t k = 0; k < nl; k++) {
            uint64_t cur = (uint64_t)l[k] * mul + carry;
            l[k] = (uint32_t)cur;
            carry = cur >> 32;
        }
        if (carry)
            l[nl++] = (uint32_t)carry;
    }
    uint8_t *mag = malloc(4 * nl + 1);
    if (!mag) {
        free(l);
        return GJ_ENOMEM;
    }
    for (size_t k = 0; k < nl; k++)
        for (int b = 0; b < 4; b++)
            mag[4 * nl - 1 - (4 * k + (size_t)b)] = (uint8_t)(l[k] >> (8 * b));
    free(l);
    int rc = twos_complement(neg, mag, 4 * nl, bytes, n);
    free(mag);
    return rc;
}

int gj__gt_bigdec_to_text(int32_t scale, const uint8_t *unscaled, size_t n, char **text,
                          size_t *len)
{
    char *coeff;
    size_t clen;
    int rc = gj__gt_bigint_to_text(unscaled, n, &coeff, &clen);
    if (rc)
        return rc;
    if (scale == 0) {
        *text = coeff;
        *len = clen;
        return 0;
    }
    bool neg = coeff[0] == '-';
    const char *d = coeff + neg;
    size_t nd = clen - neg;
    int64_t adjusted = -(int64_t)scale + (int64_t)(nd - 1);
    /* Room: sign, "0.", zeros up to the scale (plain form only when scale
     * > 0 and adjusted >= -6, so fewer than nd + 7), digits, exponent. */
    char *out = malloc(nd + 40);
    if (!out) {
        free(coeff);
        return GJ_ENOMEM;
    }
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    if (scale > 0 && adjusted >= -6) {
        int64_t pad = (int64_t)scale - (int64_t)nd;
        if (pad >= 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (; pad > 0; pad--)
                out[k++] = '0';
            memcpy(out + k, d, nd);
            k += nd;
        } else {
            size_t ip = nd - (size_t)scale;
            memcpy(out + k, d, ip);
            k += ip;
            out[k++] = '.';
            memcpy(out + k, d + ip, (size_t)scale);
            k += (size_t)scale;
        }
    } else {
        out[k++] = d[0];
        if (nd > 1) {
            out[k++] = '.';
            memcpy(out + k, d + 1, nd - 1);
            k += nd - 1;
        }
        if (adjusted != 0)
            k += (size_t)sprintf(out + k, adjusted > 0 ? "E+%" PRId64 : "E%" PRId64, adjusted);
    }
    out[k] = '\0';
    free(coeff);
    *text = out;
    *len = k;
    return 0;
}

int gj__gt_bigdec_from_text(const char *s, size_t len, int32_t *scale, uint8_t **unscaled,
                            size_t *n)
{
    *unscaled = NULL;
    *n = 0;
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_len = i - int_start, frac_start = i, frac_len = 0;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_len = i - frac_start;
    }
    if (!int_len && !frac_len)
        return GJ_EINVAL;
    int64_t exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        size_t start = i;
        while (i < len && is_digit(s[i]) && i - start < 10)
            exp = exp * 10 + (s[i++] - '0');
        if (i == start)
            return GJ_EINVAL;
        if (eneg)
            exp = -exp;
    }
    if (i != len)
        return GJ_EINVAL;
    int64_t sc = (int64_t)frac_len - exp;
    if (sc < INT32_MIN || sc > INT32_MAX)
        return GJ_EINVAL;
    if (int_len + frac_len > GJ__GT_BIG_MAX_DIGITS)
        return GJ_ETOOBIG;
    char *digits_text = malloc(int_len + frac_len + 2);
    if (!digits_text)
        return GJ_ENOMEM;
    size_t k = 0;
    if (neg)
        digits_text[k++] = '-';
    memcpy(digits_text + k, s + int_start, int_len);
    k += int_len;
    memcpy(digits_text + k, s + frac_start, frac_len);
    k += frac_len;
    int rc = gj__gt_bigint_from_text(digits_text, k, unscaled, n);
    free(digits_text);
    if (rc == 0)
        *scale = (int32_t)sc;
    return rc;
}
