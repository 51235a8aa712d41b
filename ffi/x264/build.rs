//! Finds libx264 through pkg-config, links it, and compiles the C shim against
//! the installed `x264.h` so that the shim (not Rust) absorbs any change in
//! x264's struct layouts between builds.

use std::process::exit;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/x264_shim.c");
    println!("cargo:rerun-if-changed=shim/x264_shim.h");

    let x264 = match pkg_config::Config::new().probe("x264") {
        Ok(lib) => lib,
        Err(err) => {
            eprintln!(
                "selkies-x264: libx264 was not found through pkg-config ({err}).\n\
                 Install the development package, e.g. `apt-get install libx264-dev` \
                 (Debian/Ubuntu) or `dnf install x264-devel` (Fedora), or point \
                 PKG_CONFIG_PATH at an x264.pc."
            );
            exit(1);
        }
    };

    let mut build = cc::Build::new();
    build
        .file("shim/x264_shim.c")
        .include("shim")
        .std("c99")
        .warnings(true)
        .extra_warnings(true);
    for dir in &x264.include_paths {
        build.include(dir);
    }
    for (name, value) in &x264.defines {
        build.define(name, value.as_deref());
    }
    build.compile("selkies_x264_shim");
}
