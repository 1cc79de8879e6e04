/*
 * Bolt message framing: a message is sent as chunks (a big-endian u16 length,
 * then that many bytes, at most 65 535) and ends with an empty chunk `00 00`.
 * An empty chunk between messages is a NOOP (keep-alive, Bolt 4.1+) and is
 * skipped.  No I/O: bytes in, messages out.
 *
 * Threading: a dechunker belongs to one thread at a time.
 */
#ifndef GJ_CODEC_CHUNK_H
#define GJ_CODEC_CHUNK_H

#include "codec/packstream.h"

#define GJ_CHUNK_MAX 65535u

/* ---- Writer -------------------------------------------------------------------
 * Frame, in place, the message bytes b->data[msg_start .. b->len): a chunk
 * header goes in front of every (at most) 65 535 bytes and `00 00` after the
 * last.  Several messages may be written and framed one after another into
 * the same buffer (pipelining).  An empty message is framed as nothing
 * (Bolt messages are never empty).  Returns 0 or the buffer's error. */
int gj__chunk_frame(gj_ps_buf *b, size_t msg_start);

/* Bytes that framing adds to a message of len bytes. */
size_t gj__chunk_overhead(size_t len);

/* A NOOP (keep-alive) chunk: `00 00`. */
int gj__chunk_put_noop(gj_ps_buf *b);

/* ---- Incremental reader ------------------------------------------------------ */
typedef struct gj_dechunker {
    size_t max_message_size;   /* reassembled messages larger than this: GJ_ETOOBIG */
    uint8_t *buf;              /* reassembly buffer */
    size_t len, cap;
    uint8_t hdr[2];            /* a chunk header split across feeds */
    unsigned hdr_have;         /* 0, 1 (one byte of a header seen) */
    size_t chunk_left;         /* bytes of the current chunk still to come */
    bool in_message;           /* a non-empty chunk of the current message was seen */
    bool complete;             /* a message is ready (see gj__dechunk_feed) */
    const uint8_t *msg;        /* the ready message */
    size_t msg_len;
    uint64_t noops;            /* NOOP chunks skipped (statistics, tests) */
} gj_dechunker;

void gj__dechunk_init(gj_dechunker *d, size_t max_message_size);
void gj__dechunk_free(gj_dechunker *d);
/* Forget any partial message (after a connection reset). */
void gj__dechunk_reset(gj_dechunker *d);

/* Feed up to len bytes.  Consumes bytes until one message is complete or
 * the input is exhausted; *consumed says how many were used.  Returns:
 *   1  a message is complete: gj__dechunk_message() gives it; call feed again
 *      with the rest of the input (data + *consumed) for the next one;
 *   0  all input consumed, no complete message yet;
 *  <0  GJ_ETOOBIG (message above max_message_size, with its size so far) or
 *      GJ_ENOMEM, described in err; the dechunker must then be reset.
 * A message that arrived in one chunk, wholly inside `data`, is returned
 * without copying: it points into `data`. */
int gj__dechunk_feed(gj_dechunker *d, const uint8_t *data, size_t len, size_t *consumed,
                     gj_error *err);

/* The complete message after feed returned 1.  Borrowed: valid until the
 * next feed/reset/free and, when it points into the caller's input, as long
 * as that input is unchanged. */
static inline void gj__dechunk_message(const gj_dechunker *d, const uint8_t **msg, size_t *len)
{
    *msg = d->msg;
    *len = d->msg_len;
}

/* True when the reader is between messages (no partial message or header). */
bool gj__dechunk_idle(const gj_dechunker *d);

#endif
