//! Compiles the shim against the installed `linux/uinput.h`, so the ioctl numbers and struct
//! layouts are the kernel headers' own, never transcribed by hand.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/uinput_shim.c");
    cc::Build::new()
        .file("shim/uinput_shim.c")
        .std("gnu99")
        .warnings(true)
        .compile("selkies_uinput_shim");
}
