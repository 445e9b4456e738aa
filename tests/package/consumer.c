/* An application written against an installed dsvk: only <dsvk.h> and the
 * library, nothing from the source tree. tests/package/check.sh builds it
 * through pkg-config and through find_package(dsvk), against the shared
 * and the static library, and runs it. Each check_* function covers one
 * part of the public API; as the API grows, add a function and call it
 * from main. */
#include <dsvk.h>

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "consumer: %s\n", what);
        failures++;
    }
}

/* The library's names agree with the installed header's table. */
static void check_status_strings(void)
{
#define CHECK_STATUS_(name, value, text)                                       \
    expect(strcmp(dsvk_status_string(name), text) == 0,                        \
           "dsvk_status_string(" #name ") is not \"" text "\"");
    DSVK_STATUS_LIST(CHECK_STATUS_)
#undef CHECK_STATUS_
}

int main(void)
{
    check_status_strings();
    if (failures)
        return 1;
    puts("consumer: ok");
    return 0;
}
