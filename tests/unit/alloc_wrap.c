/*
 * Allocation-failure injection: the --wrap targets (see alloc_wrap.h).
 */
#include "alloc_wrap.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t alignment, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_aligned_alloc(size_t alignment, size_t size);

static atomic_bool armed;
static atomic_long fail_at;
static atomic_long count;
static atomic_bool fired;

void gj_torture_arm(long n)
{
    atomic_store(&count, 0);
    atomic_store(&fired, false);
    atomic_store(&fail_at, n);
    atomic_store(&armed, true);
}

long gj_torture_disarm(void)
{
    atomic_store(&armed, false);
    return atomic_load(&count);
}

bool gj_torture_fired(void)
{
    return atomic_load(&fired);
}

/* Count one allocation; true when it is the one to fail. */
static bool fail_this(void)
{
    if (!atomic_load_explicit(&armed, memory_order_acquire))
        return false;
    long n = atomic_fetch_add(&count, 1) + 1;
    if (n != atomic_load(&fail_at))
        return false;
    atomic_store(&fired, true);
    errno = ENOMEM;
    return true;
}

void *__wrap_malloc(size_t size)
{
    return fail_this() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_this() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    if (size == 0)
        return __real_realloc(p, size);
    return fail_this() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
    return fail_this() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_this() ? NULL : __real_strndup(s, n);
}

void *__wrap_aligned_alloc(size_t alignment, size_t size)
{
    return fail_this() ? NULL : __real_aligned_alloc(alignment, size);
}
