//! Compiles the variadic entry points (`open`, `open64`, `openat`, `openat64`, `ioctl`), which
//! stable Rust cannot define, against the system's `fcntl.h`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/variadic.c");
    cc::Build::new()
        .file("shim/variadic.c")
        .std("c99")
        .warnings(true)
        .extra_warnings(true)
        .compile("selkies_js_variadic");
}
