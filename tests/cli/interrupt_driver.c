/* Drives a dsvk command as a user at a terminal would, for the Ctrl-C
 * tests (tests/cli/interrupt.cmake): it starts the command on pipes,
 * follows a script of steps (type a line, wait for output, press Ctrl-C,
 * expect an exit status), then writes what the command printed to files.
 *
 *   interrupt_driver OUT ERR STEP... -- COMMAND [ARG...]
 *
 * Steps, in order:
 *   send=TEXT    write TEXT to the command's stdin ("\n" is a newline)
 *   stdout       wait until stdout has grown since the last step ended
 *   stderr=TEXT  wait until TEXT appears in stderr after the last match
 *   int          send SIGINT, as Ctrl-C does
 *   exit=N       wait for the command to exit with status N
 * Every wait gives up after WAIT_S seconds, and the exit after a SIGINT
 * must come within EXIT_AFTER_INT_S: generous bounds that only a hang
 * reaches, whatever the machine's speed. Exit status 0 when every step
 * passed, else 1 after printing why and what the command printed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 60.0
#define EXIT_AFTER_INT_S 30.0

typedef struct output {
    int fd; /* -1 once at end of file */
    char *data;
    size_t len, capacity;
} output;

typedef struct child {
    pid_t pid;
    int in; /* -1 once closed */
    output out, err;
    bool exited;
    int status; /* waitpid's, once exited */
} child;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void append(output *o, const char *bytes, size_t n)
{
    if (o->len + n + 1 > o->capacity) {
        size_t capacity = o->capacity ? o->capacity : 4096;
        while (o->len + n + 1 > capacity)
            capacity *= 2;
        o->data = realloc(o->data, capacity);
        if (!o->data) {
            perror("interrupt_driver");
            exit(1);
        }
        o->capacity = capacity;
    }
    memcpy(o->data + o->len, bytes, n);
    o->len += n;
    o->data[o->len] = '\0';
}

/* Reads what is there without blocking (the fds are non-blocking). */
static void drain(output *o)
{
    char buf[4096];
    while (o->fd >= 0) {
        const ssize_t n = read(o->fd, buf, sizeof buf);
        if (n > 0) {
            append(o, buf, (size_t)n);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            close(o->fd);
            o->fd = -1;
        } else if (errno == EAGAIN) {
            break;
        }
    }
}

/* Waits a moment for output, reads what came and notes an exit. */
static void pump(child *c)
{
    struct pollfd fds[2] = {{.fd = c->out.fd, .events = POLLIN},
                            {.fd = c->err.fd, .events = POLLIN}};
    /* Short slices: the exit shows only through waitpid. */
    poll(fds, 2, 50);
    drain(&c->out);
    drain(&c->err);
    if (!c->exited && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
        c->exited = true;
}

static bool start(child *c, char **argv)
{
    int in[2], out[2], err[2];
    if (pipe(in) || pipe(out) || pipe(err)) {
        perror("interrupt_driver: pipe");
        return false;
    }
    c->pid = fork();
    if (c->pid < 0) {
        perror("interrupt_driver: fork");
        return false;
    }
    if (c->pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        close(err[0]), close(err[1]);
        /* An ignored signal stays ignored across exec, and dsvk leaves an
         * ignored SIGINT alone: the command gets the defaults a terminal
         * gives it. */
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        fprintf(stderr, "interrupt_driver: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(in[0]), close(out[1]), close(err[1]);
    c->in = in[1];
    c->out.fd = out[0];
    c->err.fd = err[0];
    fcntl(c->out.fd, F_SETFL, O_NONBLOCK);
    fcntl(c->err.fd, F_SETFL, O_NONBLOCK);
    return true;
}

/* "\n" in a step's text is a newline. */
static void unescape(char *text)
{
    char *to = text;
    for (const char *from = text; *from; from++) {
        if (from[0] == '\\' && from[1] == 'n') {
            *to++ = '\n';
            from++;
        } else {
            *to++ = *from;
        }
    }
    *to = '\0';
}

/* Runs one step; false after printing why it failed. */
static bool step(child *c, char *s, size_t *out_mark, size_t *err_mark,
                 double *int_time)
{
    const double start = now_seconds();
    if (strncmp(s, "send=", 5) == 0) {
        unescape(s + 5);
        const size_t n = strlen(s + 5);
        if (c->in < 0 || write(c->in, s + 5, n) != (ssize_t)n) {
            fprintf(stderr, "interrupt_driver: cannot write to stdin\n");
            return false;
        }
        return true;
    }
    if (strcmp(s, "close") == 0) {
        close(c->in);
        c->in = -1;
        return true;
    }
    if (strcmp(s, "int") == 0) {
        *int_time = start;
        if (kill(c->pid, SIGINT) != 0) {
            perror("interrupt_driver: kill");
            return false;
        }
        return true;
    }
    if (strcmp(s, "stdout") == 0) {
        while (c->out.len <= *out_mark && !c->exited &&
               now_seconds() - start < WAIT_S)
            pump(c);
        if (c->out.len > *out_mark)
            return true;
        fprintf(stderr, "interrupt_driver: no more stdout (%s)\n",
                c->exited ? "it exited" : "timed out");
        return false;
    }
    if (strncmp(s, "stderr=", 7) == 0) {
        unescape(s + 7);
        const char *found;
        while (!(found = strstr(c->err.data + *err_mark, s + 7)) &&
               !c->exited && now_seconds() - start < WAIT_S)
            pump(c);
        /* The command may have written to stderr just before it exited. */
        if (!found && c->exited) {
            drain(&c->err);
            found = strstr(c->err.data + *err_mark, s + 7);
        }
        if (found) {
            *err_mark = (size_t)(found - c->err.data) + strlen(s + 7);
            return true;
        }
        fprintf(stderr, "interrupt_driver: '%s' not on stderr (%s)\n", s + 7,
                c->exited ? "it exited" : "timed out");
        return false;
    }
    if (strncmp(s, "exit=", 5) == 0) {
        const int expected = atoi(s + 5);
        const double limit = *int_time > 0 ? EXIT_AFTER_INT_S : WAIT_S;
        const double since = *int_time > 0 ? *int_time : start;
        while (!c->exited && now_seconds() - since < limit)
            pump(c);
        if (!c->exited) {
            fprintf(stderr, "interrupt_driver: still running after %.0f s\n",
                    limit);
            return false;
        }
        if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != expected) {
            if (WIFSIGNALED(c->status))
                fprintf(stderr, "interrupt_driver: killed by signal %d\n",
                        WTERMSIG(c->status));
            else
                fprintf(stderr,
                        "interrupt_driver: exit status %d, expected %d\n",
                        WEXITSTATUS(c->status), expected);
            return false;
        }
        fprintf(stderr,
                "interrupt_driver: exit %d, %.2f s after the "
                "signal\n",
                expected, now_seconds() - since);
        return true;
    }
    fprintf(stderr, "interrupt_driver: unknown step '%s'\n", s);
    return false;
}

static bool write_file(const char *path, const output *o)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(o->data, 1, o->len, f) == o->len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "interrupt_driver: cannot write %s\n", path);
    return ok;
}

int main(int argc, char **argv)
{
    int sep = 3;
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    if (argc < 4 || sep + 1 >= argc) {
        fputs("usage: interrupt_driver OUT ERR STEP... -- COMMAND [ARG...]\n",
              stderr);
        return 1;
    }
    /* A write to a command that exited fails instead of killing us. */
    signal(SIGPIPE, SIG_IGN);
    child c = {.in = -1, .out.fd = -1, .err.fd = -1};
    append(&c.out, "", 0);
    append(&c.err, "", 0);
    if (!start(&c, argv + sep + 1))
        return 1;
    size_t out_mark = 0, err_mark = 0;
    double int_time = 0;
    bool ok = true;
    for (int i = 3; i < sep && ok; i++) {
        ok = step(&c, argv[i], &out_mark, &err_mark, &int_time);
        /* What the command wrote before it got here counts as before. */
        drain(&c.out);
        out_mark = c.out.len;
    }
    if (!c.exited) {
        if (ok)
            fprintf(stderr, "interrupt_driver: the command did not exit\n");
        ok = false;
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &c.status, 0);
    }
    drain(&c.out);
    drain(&c.err);
    if (!write_file(argv[1], &c.out) || !write_file(argv[2], &c.err))
        ok = false;
    if (!ok)
        fprintf(stderr, "--- stdout:\n%s\n--- stderr:\n%s\n", c.out.data,
                c.err.data);
    free(c.out.data);
    free(c.err.data);
    return ok ? 0 : 1;
}
