/*
 * What x264 costs per 1080p frame when almost nothing changes, by rate-control mode, with and
 * without per-macroblock "unchanged" flags (X264_MBINFO_CONSTANT). Not part of the build: the
 * measurement behind docs/decisions.md ("What remains: x264's rate control").
 *
 *   gcc -O2 scripts/experiments/x264_rc_cost.c -o /tmp/x264_rc_cost -lx264
 *   /tmp/x264_rc_cost MODE THREADS HINT [QP]
 *     MODE 0 = ABR/CBR with VBV (what selkies-rs uses), 1 = constant QP 26, 2 = CRF 26 + VBV
 *     HINT 1 = flag every macroblock the moving 32x32 block does not touch as unchanged
 *     QP    = force this QP on every frame (i_qpplus1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <x264.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
static double cpu(){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
int main(int argc,char**argv){
  int mode=atoi(argv[1]); int threads=atoi(argv[2]); int hint=atoi(argv[3]);
  int w=1920,h=1080;
  x264_param_t p; x264_param_default_preset(&p,"ultrafast","zerolatency");
  p.i_width=w;p.i_height=h;p.i_csp=X264_CSP_I420;p.i_fps_num=60;p.i_fps_den=1;
  p.i_threads=threads;p.b_sliced_threads=1;p.i_keyint_max=X264_KEYINT_MAX_INFINITE;p.i_scenecut_threshold=0;
  p.analyse.b_mb_info=1; p.i_log_level=X264_LOG_NONE;
  if(mode==0){p.rc.i_rc_method=X264_RC_ABR;p.rc.i_bitrate=8000;p.rc.i_vbv_max_bitrate=8000;p.rc.i_vbv_buffer_size=200;}
  else if(mode==1){p.rc.i_rc_method=X264_RC_CQP;p.rc.i_qp_constant=26;}
  else {p.rc.i_rc_method=X264_RC_CRF;p.rc.f_rf_constant=26;p.rc.i_vbv_max_bitrate=8000;p.rc.i_vbv_buffer_size=200;}
  x264_param_apply_profile(&p,"baseline");
  x264_t*e=x264_encoder_open(&p);
  x264_picture_t pic; x264_picture_alloc(&pic,X264_CSP_I420,w,h);
  for(int i=0;i<w*h;i++) pic.img.plane[0][i]=(uint8_t)((i%w)*7+(i/w)*3);
  memset(pic.img.plane[1],100,w*h/4);memset(pic.img.plane[2],150,w*h/4);
  int mbs=((w+15)/16)*((h+15)/16); uint8_t*info=malloc(mbs);
  x264_picture_t out; x264_nal_t*nal;int n;
  double t0=0,c0=0; int N=300; long bytes=0;
  for(int f=0;f<N+30;f++){
    if(f==30){t0=now();c0=cpu();bytes=0;}
    // a 32x32 block changes each frame
    int x=(f*32)%(w-32);
    for(int r=500;r<532;r++) memset(pic.img.plane[0]+r*w+x,(f*37)%200+20,32);
    if(hint){ for(int i=0;i<mbs;i++) info[i]=X264_MBINFO_CONSTANT; int mbw=(w+15)/16; for(int my=500/16;my<=531/16;my++) for(int mx=x/16;mx<=(x+31)/16;mx++) info[my*mbw+mx]=0; pic.prop.mb_info=info;} else pic.prop.mb_info=NULL;
    pic.i_pts=f; if(argc>4) pic.i_qpplus1=atoi(argv[4])+1;
    int s=x264_encoder_encode(e,&nal,&n,&pic,&out); bytes+=s;
  }
  printf("mode %d threads %d hint %d: wall %.2f ms/frame cpu %.2f ms/frame kbps %.0f\n",mode,threads,hint,(now()-t0)/N,(cpu()-c0)/N,bytes*8.0/N*60/1000);
  return 0;
}
