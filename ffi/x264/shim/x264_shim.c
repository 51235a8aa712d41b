/*
 * Applies selkies-rs' low-latency x264 settings and hides x264_param_t /
 * x264_picture_t from Rust (see x264_shim.h for why). No policy maths here:
 * bitrates and VBV sizes arrive already computed by the Rust side.
 */
#include "x264_shim.h"

#include <stdlib.h>
#include <x264.h>

/* H.264 Annex E code points. */
#define VUI_VIDFORMAT_UNSPECIFIED 5
/* Desktop pixels are sRGB: BT.709 primaries with the sRGB transfer curve. */
#define VUI_PRIMARIES_BT709 1
#define VUI_TRANSFER_IEC61966_2_1 13
/* Our BGRx->I420 conversion uses BT.601 coefficients, limited range. */
#define VUI_MATRIX_SMPTE170M 6

/* In constant-QP mode x264 clips every QP, forced ones too, to the span between its I- and
 * B-frame QPs: qp_constant -/+ 6*log2 of the I/P and P/B factors, each factor at most 10
 * (19.9 QP). With qp_constant 39 that span is 19..59: fine enough for sharp text, and past
 * H.264's 51 into x264's own coarser quantisation, which busy full-screen motion at a low
 * bitrate needs (x264's CBR goes there too). The factors do nothing else here: every
 * frame's QP is forced, there are no B-frames, and with psy on x264 does not lower the QP of
 * intra-refresh blocks by the I/P offset. */
#define CQP_CENTRE 39
#define CQP_FACTOR 10.0f
/* The top of that span, and the coarsest QP a frame may be forced to in either mode. */
#define CQP_MAX (CQP_CENTRE + 20)

struct selkies_x264 {
    x264_t *h;
    /* Constant-QP mode: the QP of frames given none (0 in CBR mode). */
    int32_t default_qp;
};

static const char *profile_name(int32_t profile)
{
    switch (profile) {
    case SELKIES_X264_PROFILE_CONSTRAINED_BASELINE:
        return "baseline";
    case SELKIES_X264_PROFILE_MAIN:
        return "main";
    case SELKIES_X264_PROFILE_HIGH:
        return "high";
    default:
        return NULL;
    }
}

static int configure(x264_param_t *p, const selkies_x264_config *cfg)
{
    if (x264_param_default_preset(p, "ultrafast", "zerolatency") < 0)
        return SELKIES_X264_OPEN_ERR_PRESET;

    p->i_log_level = X264_LOG_WARNING;
    p->i_csp = X264_CSP_I420;
    p->i_width = cfg->width;
    p->i_height = cfg->height;

    /* zerolatency already sets most of these; they are restated because any of
     * them coming back would add whole frames of delay. */
    p->i_bframe = 0;
    p->rc.i_lookahead = 0;
    p->i_sync_lookahead = 0;
    p->rc.b_mb_tree = 0;
    p->b_vfr_input = 0;
    /* Slices instead of frame threads: frame threading delays output by one frame per thread. */
    p->i_threads = cfg->threads > 0 ? cfg->threads : X264_THREADS_AUTO;
    p->b_sliced_threads = 1;
    /* Per-macroblock "unchanged" flags from the caller (XDamage knows what changed); x264
     * codes those as skipped without analysing them. Safe here because with sliced threads and
     * no lookahead the picture is encoded inside the call that hands over the flags. */
    p->analyse.b_mb_info = 1;

    /* Keyframes only on demand (join, PLI/FIR); scene cuts must not inject IDRs. */
    p->i_keyint_max = X264_KEYINT_MAX_INFINITE;
    p->i_scenecut_threshold = 0;
    p->b_intra_refresh = cfg->intra_refresh ? 1 : 0;
    if (p->b_intra_refresh) {
        /* With intra refresh, keyint is the refresh-wave period; an infinite one would
         * never repair a lost packet. One wave per second bounds recovery time. */
        p->i_keyint_max = cfg->fps;
    }

    /* A browser joining mid-stream needs SPS/PPS in front of the IDR it is sent. */
    p->b_repeat_headers = 1;
    p->b_annexb = 1;
    p->b_aud = 0;

    p->i_fps_num = (uint32_t)cfg->fps;
    p->i_fps_den = 1;
    p->i_timebase_num = 1;
    p->i_timebase_den = (uint32_t)cfg->fps;

    if (cfg->constant_qp > 0) {
        /* The caller's rate control picks each frame's QP. Without ABR x264 skips its
         * low-resolution analysis of every frame, which is most of what its rate control
         * costs (scripts/experiments/x264_rc_cost.c). */
        if (cfg->constant_qp > CQP_MAX)
            return SELKIES_X264_OPEN_ERR_ARGS;
        p->rc.i_rc_method = X264_RC_CQP;
        p->rc.i_qp_constant = CQP_CENTRE;
        p->rc.f_ip_factor = CQP_FACTOR;
        p->rc.f_pb_factor = CQP_FACTOR;
    } else {
        /* CBR: ABR capped by a VBV of about one and a half frame times. */
        p->rc.i_rc_method = X264_RC_ABR;
        p->rc.i_bitrate = cfg->bitrate_kbps;
        p->rc.i_vbv_max_bitrate = cfg->vbv_max_kbps;
        p->rc.i_vbv_buffer_size = cfg->vbv_buffer_kbit;
        p->rc.f_vbv_buffer_init = 0.9f;
    }

    p->i_level_idc = -1;

    p->vui.i_vidformat = VUI_VIDFORMAT_UNSPECIFIED;
    p->vui.b_fullrange = 0;
    p->vui.i_colorprim = VUI_PRIMARIES_BT709;
    p->vui.i_transfer = VUI_TRANSFER_IEC61966_2_1;
    p->vui.i_colmatrix = VUI_MATRIX_SMPTE170M;

    /* ultrafast turns CABAC and 8x8 transforms off, and x264_param_apply_profile only
     * ever removes tools: choosing Main or High is only worth it with their tools on. */
    p->b_cabac = cfg->profile != SELKIES_X264_PROFILE_CONSTRAINED_BASELINE;
    p->analyse.b_transform_8x8 = cfg->profile == SELKIES_X264_PROFILE_HIGH;

    const char *profile = profile_name(cfg->profile);
    if (profile == NULL || x264_param_apply_profile(p, profile) < 0)
        return SELKIES_X264_OPEN_ERR_PROFILE;
    return 0;
}

int selkies_x264_open(const selkies_x264_config *cfg, selkies_x264 **out)
{
    if (cfg == NULL || out == NULL || cfg->fps <= 0)
        return SELKIES_X264_OPEN_ERR_ARGS;
    *out = NULL;

    x264_param_t p;
    int rc = configure(&p, cfg);
    if (rc < 0)
        return rc;

    selkies_x264 *enc = malloc(sizeof *enc);
    if (enc == NULL)
        return SELKIES_X264_OPEN_ERR_ALLOC;
    enc->default_qp = cfg->constant_qp;
    enc->h = x264_encoder_open(&p);
    if (enc->h == NULL) {
        free(enc);
        return SELKIES_X264_OPEN_ERR_ENCODER;
    }
    *out = enc;
    return 0;
}

int selkies_x264_encode(selkies_x264 *enc, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                        int32_t stride_y, int32_t stride_uv, int64_t pts, int32_t force_idr,
                        int32_t qp, const uint8_t *mb_info, selkies_x264_frame *out)
{
    if (enc == NULL || out == NULL || y == NULL || u == NULL || v == NULL)
        return SELKIES_X264_ENCODE_ERR_ARGS;
    out->data = NULL;
    out->len = 0;
    out->pts = 0;
    out->idr = 0;
    out->nal_count = 0;

    x264_picture_t in;
    x264_picture_init(&in);
    in.i_type = force_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;
    in.i_pts = pts;
    /* A fixed QP for this one frame: the caller's rate control in constant-QP mode, a
     * paint-over refresh under CBR (whose rate control accounts for its bits and resumes on
     * the next frame). 0 leaves the QP to x264's CBR, or to the default in constant-QP mode,
     * which must never fall back to x264's own I-frame QP (the bottom of the span above). */
    if (qp <= 0)
        qp = enc->default_qp;
    if (qp > 0 && qp <= CQP_MAX)
        in.i_qpplus1 = qp + 1;
    /* One byte per macroblock, X264_MBINFO_CONSTANT where the picture is unchanged since the
     * last one; read during this call only (b_mb_info_update is off, so never written). */
    in.prop.mb_info = (uint8_t *)mb_info;
    in.prop.mb_info_free = NULL;
    in.img.i_csp = X264_CSP_I420;
    in.img.i_plane = 3;
    in.img.i_stride[0] = stride_y;
    in.img.i_stride[1] = stride_uv;
    in.img.i_stride[2] = stride_uv;
    /* x264 copies input planes into its own frames and never writes them; the
     * struct field is just not const-qualified. */
    in.img.plane[0] = (uint8_t *)y;
    in.img.plane[1] = (uint8_t *)u;
    in.img.plane[2] = (uint8_t *)v;

    x264_picture_t pic_out;
    x264_nal_t *nals = NULL;
    int n_nal = 0;
    int size = x264_encoder_encode(enc->h, &nals, &n_nal, &in, &pic_out);
    if (size <= 0 || n_nal <= 0 || nals == NULL)
        return size < 0 ? size : 0;

    /* x264 documents the payloads of one call as sequential in memory; the Rust
     * side copies them as one slice, so refuse rather than read past a gap. */
    size_t total = (size_t)nals[0].i_payload;
    for (int i = 1; i < n_nal; i++) {
        if (nals[i].p_payload != nals[i - 1].p_payload + nals[i - 1].i_payload)
            return SELKIES_X264_ENCODE_ERR_NOT_CONTIGUOUS;
        total += (size_t)nals[i].i_payload;
    }
    if (total != (size_t)size)
        return SELKIES_X264_ENCODE_ERR_NOT_CONTIGUOUS;

    out->data = nals[0].p_payload;
    out->len = total;
    out->pts = pic_out.i_pts;
    out->idr = pic_out.i_type == X264_TYPE_IDR;
    out->nal_count = n_nal;
    return size;
}

int selkies_x264_reconfig(selkies_x264 *enc, int32_t bitrate_kbps, int32_t vbv_max_kbps,
                          int32_t vbv_buffer_kbit)
{
    if (enc == NULL)
        return SELKIES_X264_ENCODE_ERR_ARGS;
    /* Start from the encoder's own current parameters so nothing else changes. */
    x264_param_t p;
    x264_encoder_parameters(enc->h, &p);
    p.rc.i_bitrate = bitrate_kbps;
    p.rc.i_vbv_max_bitrate = vbv_max_kbps;
    p.rc.i_vbv_buffer_size = vbv_buffer_kbit;
    return x264_encoder_reconfig(enc->h, &p);
}

void selkies_x264_close(selkies_x264 *enc)
{
    if (enc == NULL)
        return;
    x264_encoder_close(enc->h);
    free(enc);
}

int32_t selkies_x264_build(void)
{
    return X264_BUILD;
}

size_t selkies_x264_config_size(void)
{
    return sizeof(selkies_x264_config);
}

size_t selkies_x264_frame_size(void)
{
    return sizeof(selkies_x264_frame);
}
