#include "interrupt.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

/* How often interrupt_wait_readable looks at the flag. */
#define INTERRUPT_POLL_MS 100

static volatile sig_atomic_t interrupted;

/* Async-signal-safe: it only sets the flag. */
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void interrupt_arm(void)
{
    interrupted = 0;
    struct sigaction old;
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
        return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    /* SA_RESETHAND: the kernel restores the default action as it delivers
     * the signal, so a second Ctrl-C before the next interrupt_arm kills
     * the process even when the step the first one waits for never ends.
     * SA_RESTART: a system call the signal interrupts (in this thread or
     * one of the Vulkan driver's) resumes; the loops read the flag. */
    action.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &action, NULL);
}

bool interrupt_requested(void)
{
    return interrupted != 0;
}

bool interrupt_wait_readable(int fd)
{
    struct pollfd input = {.fd = fd, .events = POLLIN};
    /* The kernel may deliver SIGINT to any thread of the process, and only
     * that thread's poll returns early: waiting in short slices sees the
     * flag wherever the handler ran. */
    while (!interrupted) {
        const int n = poll(&input, 1, INTERRUPT_POLL_MS);
        /* An error other than EINTR is the reader's to report. */
        if (n > 0 || (n < 0 && errno != EINTR))
            return true;
    }
    return false;
}
