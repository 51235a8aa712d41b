//! The web client (web/), embedded in the binary at build time, looked up by request path.

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The file for a request path under the server's prefix: `""` or `/` is index.html. Only exact
/// embedded names match, so no path can reach outside web/.
pub fn lookup(path: &str) -> Option<(&'static [u8], &'static str)> {
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() || name.ends_with('/') {
        "index.html"
    } else {
        name
    };
    ASSETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, body)| (*body, mime(n)))
}

fn mime(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_client_and_nothing_else() {
        let (body, mime) = lookup("/").expect("index.html is embedded");
        assert!(mime.starts_with("text/html"));
        assert!(std::str::from_utf8(body).is_ok_and(|s| s.contains("stream")));
        assert!(lookup("/app.js").is_some_and(|(_, m)| m.starts_with("text/javascript")));
        assert!(lookup("/../Cargo.toml").is_none());
        assert!(lookup("/nope.js").is_none());
    }
}
