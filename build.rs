//! Embeds every file under web/ into the binary, so `selkies-rs` is one file to deploy.
use std::fmt::Write as _;
use std::path::Path;

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            // Tests of the web client are not served.
            if path.file_name().is_some_and(|n| n == "test") {
                continue;
            }
            collect(&path, root, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push((
                rel.to_string_lossy().replace('\\', "/"),
                path.display().to_string(),
            ));
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let mut src = String::from("/// Files of web/, embedded at build time: (path relative to web/, contents).\npub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        let _ = writeln!(src, "    ({rel:?}, include_bytes!({abs:?})),");
    }
    src.push_str("];\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web_assets.rs");
    std::fs::write(out, src).expect("OUT_DIR is writable");
}
