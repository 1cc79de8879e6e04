/* Version information. */
#include "core/internal.h"

const char *gj_version(void)
{
    return GJ_VERSION_STRING;
}

unsigned gj_version_num(void)
{
    return GJ_VERSION_NUM;
}
