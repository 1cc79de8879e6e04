/*
 * Bolt chunking and dechunking (see chunk.h).
 */
#include "codec/chunk.h"

#include <stdlib.h>
#include <string.h>

/* ---- Writer ------------------------------------------------------------------ */

size_t gj__chunk_overhead(size_t len)
{
    if (len == 0)
        return 0;
    return 2 * ((len + GJ_CHUNK_MAX - 1) / GJ_CHUNK_MAX) + 2;
}

int gj__chunk_frame(gj_ps_buf *b, size_t msg_start)
{
    if (b->error)
        return b->error;
    if (msg_start > b->len)
        return b->error = GJ_EINVAL;
    size_t len = b->len - msg_start;
    if (len == 0)
        return 0;
    size_t chunks = (len + GJ_CHUNK_MAX - 1) / GJ_CHUNK_MAX;
    int rc = gj__ps_buf_reserve(b, gj__chunk_overhead(len));
    if (rc)
        return rc;
    uint8_t *base = b->data + msg_start;
    /* Move the pieces up, last first, so nothing is overwritten early. */
    for (size_t j = chunks; j-- > 0;) {
        size_t from = j * GJ_CHUNK_MAX;
        size_t size = (j == chunks - 1) ? len - from : GJ_CHUNK_MAX;
        size_t to = j * (GJ_CHUNK_MAX + 2) + 2;
        memmove(base + to, base + from, size);
        base[to - 2] = (uint8_t)(size >> 8);
        base[to - 1] = (uint8_t)size;
    }
    size_t framed = len + 2 * chunks;
    base[framed] = 0;
    base[framed + 1] = 0;
    b->len = msg_start + framed + 2;
    return 0;
}

int gj__chunk_put_noop(gj_ps_buf *b)
{
    static const uint8_t noop[2] = { 0, 0 };
    return gj__ps_buf_append(b, noop, 2);
}

/* ---- Reader ------------------------------------------------------------------ */

void gj__dechunk_init(gj_dechunker *d, size_t max_message_size)
{
    memset(d, 0, sizeof *d);
    d->max_message_size = max_message_size ? max_message_size : SIZE_MAX;
}

void gj__dechunk_free(gj_dechunker *d)
{
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
    gj__dechunk_reset(d);
}

void gj__dechunk_reset(gj_dechunker *d)
{
    d->len = 0;
    d->hdr_have = 0;
    d->chunk_left = 0;
    d->in_message = false;
    d->complete = false;
    d->msg = NULL;
    d->msg_len = 0;
}

bool gj__dechunk_idle(const gj_dechunker *d)
{
    return d->complete || (!d->in_message && d->hdr_have == 0 && d->chunk_left == 0);
}

static int grow(gj_dechunker *d, size_t need, gj_error *err)
{
    if (need <= d->cap)
        return 0;
    size_t cap = d->cap ? d->cap : 1024;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > d->max_message_size)
        cap = d->max_message_size;
    uint8_t *p = realloc(d->buf, cap);
    if (!p)
        return gj__error_set(err, GJ_ENOMEM, "out of memory reassembling a Bolt message of %zu bytes",
                             need);
    d->buf = p;
    d->cap = cap;
    return 0;
}

int gj__dechunk_feed(gj_dechunker *d, const uint8_t *data, size_t len, size_t *consumed,
                     gj_error *err)
{
    size_t i = 0;
    if (d->complete) {
        d->complete = false;
        d->in_message = false;
        d->len = 0;
        d->msg = NULL;
        d->msg_len = 0;
    }
    while (i < len) {
        if (d->chunk_left > 0) {
            size_t take = len - i < d->chunk_left ? len - i : d->chunk_left;
            memcpy(d->buf + d->len, data + i, take);
            d->len += take;
            d->chunk_left -= take;
            i += take;
            continue;
        }
        /* A chunk header. */
        size_t size;
        if (d->hdr_have == 0 && len - i >= 2) {
            size = ((size_t)data[i] << 8) | data[i + 1];
            i += 2;
        } else {
            d->hdr[d->hdr_have++] = data[i++];
            if (d->hdr_have < 2)
                continue;
            size = ((size_t)d->hdr[0] << 8) | d->hdr[1];
            d->hdr_have = 0;
        }
        if (size == 0) {
            if (!d->in_message) {
                d->noops++;
                continue;
            }
            d->msg = d->buf;
            d->msg_len = d->len;
            d->complete = true;
            *consumed = i;
            return 1;
        }
        if (size > d->max_message_size || d->len > d->max_message_size - size)
            return gj__error_set(err, GJ_ETOOBIG,
                                 "Bolt message of at least %zu bytes exceeds max_message_size (%zu bytes)",
                                 d->len + size, d->max_message_size);
        /* A whole one-chunk message in this input: no copy. */
        if (!d->in_message && len - i >= size + 2 && data[i + size] == 0 && data[i + size + 1] == 0) {
            d->msg = data + i;
            d->msg_len = size;
            d->complete = true;
            *consumed = i + size + 2;
            return 1;
        }
        int rc = grow(d, d->len + size, err);
        if (rc)
            return rc;
        d->in_message = true;
        d->chunk_left = size;
    }
    *consumed = i;
    return 0;
}
