/* FFmpeg's log callback for selkies-av: keeps the last error-level line of the calling thread, so
 * that a failed avcodec_open2() can be reported with FFmpeg's own reason ("Cannot load
 * libcuda.so.1") instead of a bare error code. Lines above `echo_level` are dropped; the rest
 * also go to stderr as FFmpeg would print them. */
#define _POSIX_C_SOURCE 200809L
#include <libavutil/log.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char last_error[1024];
static int echo_level = AV_LOG_ERROR;

static void selkies_av_log_cb(void *avcl, int level, const char *fmt, va_list vl)
{
    (void)avcl;
    if (level > AV_LOG_ERROR && level > echo_level)
        return;
    char line[1024];
    va_list copy;
    va_copy(copy, vl);
    int n = vsnprintf(line, sizeof line, fmt, copy);
    va_end(copy);
    if (n <= 0)
        return;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len == 0)
        return;
    if (level <= AV_LOG_ERROR) {
        memcpy(last_error, line, len + 1);
    }
    if (level <= echo_level)
        fprintf(stderr, "ffmpeg: %s\n", line);
}

void selkies_av_log_install(int echo)
{
    echo_level = echo;
    av_log_set_callback(selkies_av_log_cb);
}

/* Copies the last error line into buf (NUL-terminated) and clears it; returns its length. */
size_t selkies_av_log_take(char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t len = strlen(last_error);
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, last_error, len);
    buf[len] = '\0';
    last_error[0] = '\0';
    return len;
}
