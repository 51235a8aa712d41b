//! Compiles the log shim against the installed libavutil headers: FFmpeg reports *why* an encoder
//! failed to open (no driver, no device, a rejected option) only through its variadic log
//! callback, which Rust cannot implement without C's `va_list`.

use std::process::exit;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/av_log.c");
    let avutil = match pkg_config::Config::new().probe("libavutil") {
        Ok(lib) => lib,
        Err(err) => {
            eprintln!(
                "selkies-av: libavutil was not found through pkg-config ({err}).\n\
                 Install FFmpeg's development packages, e.g. \
                 `apt-get install libavcodec-dev libavformat-dev libavutil-dev`."
            );
            exit(1);
        }
    };
    let mut build = cc::Build::new();
    build
        .file("shim/av_log.c")
        .std("c99")
        .warnings(true)
        .extra_warnings(true);
    for dir in &avutil.include_paths {
        build.include(dir);
    }
    build.compile("selkies_av_log");
}
