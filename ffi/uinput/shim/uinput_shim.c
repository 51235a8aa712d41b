/* Creates and destroys uinput devices, following the kernel's Documentation/input/uinput.rst:
 * open /dev/uinput, declare event types and codes (UI_SET_*BIT), describe absolute axes
 * (UI_ABS_SETUP), name the device (UI_DEV_SETUP), then UI_DEV_CREATE. Events are then plain
 * write()s of struct input_event, done by the Rust side. Returns -errno on failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/uinput.h>

struct selkies_abs {
    uint16_t code;
    int32_t minimum;
    int32_t maximum;
    int32_t fuzz;
    int32_t flat;
};

static int fail(int fd) {
    int e = errno ? errno : EIO;
    if (fd >= 0) close(fd);
    return -e;
}

int selkies_uinput_open(const char *path) {
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int selkies_uinput_create(const char *path, const char *name, uint16_t vendor, uint16_t product,
                          uint16_t version, const uint16_t *keys, size_t nkeys,
                          const struct selkies_abs *axes, size_t naxes) {
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (ioctl(fd, UI_SET_EVBIT, EV_SYN) < 0) return fail(fd);
    if (nkeys > 0 && ioctl(fd, UI_SET_EVBIT, EV_KEY) < 0) return fail(fd);
    for (size_t i = 0; i < nkeys; i++)
        if (ioctl(fd, UI_SET_KEYBIT, (int)keys[i]) < 0) return fail(fd);
    if (naxes > 0 && ioctl(fd, UI_SET_EVBIT, EV_ABS) < 0) return fail(fd);
    for (size_t i = 0; i < naxes; i++) {
        struct uinput_abs_setup abs;
        memset(&abs, 0, sizeof abs);
        abs.code = axes[i].code;
        abs.absinfo.minimum = axes[i].minimum;
        abs.absinfo.maximum = axes[i].maximum;
        abs.absinfo.fuzz = axes[i].fuzz;
        abs.absinfo.flat = axes[i].flat;
        if (ioctl(fd, UI_SET_ABSBIT, (int)axes[i].code) < 0) return fail(fd);
        if (ioctl(fd, UI_ABS_SETUP, &abs) < 0) return fail(fd);
    }
    struct uinput_setup setup;
    memset(&setup, 0, sizeof setup);
    setup.id.bustype = BUS_USB;
    setup.id.vendor = vendor;
    setup.id.product = product;
    setup.id.version = version;
    strncpy(setup.name, name, UINPUT_MAX_NAME_SIZE - 1);
    if (ioctl(fd, UI_DEV_SETUP, &setup) < 0) return fail(fd);
    if (ioctl(fd, UI_DEV_CREATE) < 0) return fail(fd);
    return fd;
}

void selkies_uinput_destroy(int fd) {
    if (fd < 0) return;
    ioctl(fd, UI_DEV_DESTROY);
    close(fd);
}

/* sizeof(struct input_event) as this build sees it, for the Rust side's check. */
size_t selkies_uinput_event_size(void) { return sizeof(struct input_event); }
