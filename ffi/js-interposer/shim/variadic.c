/*
 * The C-variadic entry points of the interposer: open, open64, openat, openat64 and ioctl.
 *
 * Stable Rust can call a variadic function but cannot define one, so these read their optional
 * argument with va_arg and hand a fixed argument list to Rust (src/hooks.rs), which does all the
 * work, including calling the real libc function for paths and descriptors that are not ours.
 *
 * They are hidden: a Rust cdylib exports only Rust items, so each is reached through a naked
 * Rust function of the public name that jumps here with every register intact (src/exports.rs).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

/* Only these flags make open read its third argument; reading it otherwise is undefined. */
#define NEEDS_MODE(flags) (((flags) & O_CREAT) || (((flags) & O_TMPFILE) == O_TMPFILE))

/* glibc declares ioctl's request as unsigned long, musl as int. */
#ifdef __GLIBC__
typedef unsigned long ioctl_request_t;
#else
typedef int ioctl_request_t;
#endif

/* Which libc function the application called; src/hooks.rs calls the same real one. */
enum { SJI_OPEN = 0, SJI_OPEN64 = 1, SJI_OPENAT = 2, SJI_OPENAT64 = 3 };

int sji_open(int which, int dirfd, const char *path, int flags, unsigned int mode);
int sji_ioctl(int fd, unsigned long request, void *arg);

#define HIDDEN __attribute__((visibility("hidden")))

#define MODE_ARG(flags, last)                                                                      \
    unsigned int mode = 0;                                                                         \
    if (NEEDS_MODE(flags)) {                                                                       \
        va_list ap;                                                                                \
        va_start(ap, last);                                                                        \
        mode = va_arg(ap, unsigned int);                                                           \
        va_end(ap);                                                                                \
    }

HIDDEN int sji_c_open(const char *path, int flags, ...) {
    MODE_ARG(flags, flags);
    return sji_open(SJI_OPEN, AT_FDCWD, path, flags, mode);
}

HIDDEN int sji_c_open64(const char *path, int flags, ...) {
    MODE_ARG(flags, flags);
    return sji_open(SJI_OPEN64, AT_FDCWD, path, flags, mode);
}

HIDDEN int sji_c_openat(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags, flags);
    return sji_open(SJI_OPENAT, dirfd, path, flags, mode);
}

HIDDEN int sji_c_openat64(int dirfd, const char *path, int flags, ...) {
    MODE_ARG(flags, flags);
    return sji_open(SJI_OPENAT64, dirfd, path, flags, mode);
}

/* Every ioctl passes at most one argument, a pointer or an integer the size of one; like libc's
 * own wrapper we forward it whatever the request. */
HIDDEN int sji_c_ioctl(int fd, ioctl_request_t request, ...) {
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return sji_ioctl(fd, (unsigned long)request, arg);
}
