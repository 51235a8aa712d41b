/*
 * Narrow C interface between selkies-x264 (Rust) and libx264.
 *
 * x264_param_t and x264_picture_t change layout between X264_BUILD versions,
 * so Rust never sees them: this shim is compiled against the installed x264.h
 * and exposes only fixed-width scalars and the two plain structs below, which
 * Rust mirrors by hand in src/sys.rs. Changing either struct means changing
 * src/sys.rs too; selkies_x264_config_size()/selkies_x264_frame_size() let the
 * Rust tests catch a mismatch.
 */
#ifndef SELKIES_X264_SHIM_H
#define SELKIES_X264_SHIM_H

#include <stddef.h>
#include <stdint.h>

#define SELKIES_X264_PROFILE_CONSTRAINED_BASELINE 0
#define SELKIES_X264_PROFILE_MAIN 1
#define SELKIES_X264_PROFILE_HIGH 2

/* Failure codes of selkies_x264_open. */
#define SELKIES_X264_OPEN_ERR_ALLOC (-1)
#define SELKIES_X264_OPEN_ERR_PRESET (-2)
#define SELKIES_X264_OPEN_ERR_PROFILE (-3)
#define SELKIES_X264_OPEN_ERR_ENCODER (-4)
#define SELKIES_X264_OPEN_ERR_ARGS (-5)

/* Failure codes of selkies_x264_encode besides x264's own negative returns. */
#define SELKIES_X264_ENCODE_ERR_NOT_CONTIGUOUS (-1001)
#define SELKIES_X264_ENCODE_ERR_ARGS (-1002)

typedef struct selkies_x264_config {
    int32_t width;
    int32_t height;
    int32_t fps;
    /* Rate control values as x264 must see them; the caller does the policy maths. */
    int32_t bitrate_kbps;
    int32_t vbv_max_kbps;
    int32_t vbv_buffer_kbit;
    int32_t threads; /* 0 = let x264 choose */
    int32_t profile; /* SELKIES_X264_PROFILE_* */
    int32_t intra_refresh; /* 0 or 1 */
    /* 0: x264's own CBR (the three rate fields above). Otherwise constant QP (19-59, the span
     * the shim opens x264 to code): this QP unless a frame is given its own; the caller does
     * rate control and the rate fields are unused. */
    int32_t constant_qp;
} selkies_x264_config;

typedef struct selkies_x264_frame {
    /* All NAL units of the frame, Annex-B, contiguous; valid until the next encode or close. */
    const uint8_t *data;
    size_t len;
    int64_t pts;
    int32_t idr; /* 1 when the frame is an IDR picture */
    int32_t nal_count;
} selkies_x264_frame;

typedef struct selkies_x264 selkies_x264;

/* Returns 0 and stores the encoder in *out, or a negative SELKIES_X264_OPEN_ERR_*. */
int selkies_x264_open(const selkies_x264_config *cfg, selkies_x264 **out);

/*
 * Encodes one I420 picture of the opened size. The planes are read, never written,
 * and not retained after the call. `mb_info`, NULL or one byte per macroblock with
 * X264_MBINFO_CONSTANT where the picture is unchanged since the last one, is read during
 * the call only. Returns the number of bytes in *out (0 when x264 emitted nothing), or a
 * negative error.
 */
int selkies_x264_encode(selkies_x264 *enc, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                        int32_t stride_y, int32_t stride_uv, int64_t pts, int32_t force_idr,
                        int32_t qp, const uint8_t *mb_info, selkies_x264_frame *out);

/* Live rate-control change; returns x264_encoder_reconfig's result (0 = ok). */
int selkies_x264_reconfig(selkies_x264 *enc, int32_t bitrate_kbps, int32_t vbv_max_kbps,
                          int32_t vbv_buffer_kbit);

void selkies_x264_close(selkies_x264 *enc);

/* X264_BUILD of the header this shim was compiled against. */
int32_t selkies_x264_build(void);

size_t selkies_x264_config_size(void);
size_t selkies_x264_frame_size(void);

#endif
