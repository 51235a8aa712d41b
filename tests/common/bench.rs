//! Runs the `selkies-rs bench` binary for a test and reads its JSON lines.

use serde_json::Value;
use std::process::Command;

/// Runs `selkies-rs bench <args>` (which must include `--json`) and parses each output line.
pub fn bench_json(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_selkies-rs"))
        .arg("bench")
        .args(args)
        .env_remove("DISPLAY")
        .output()
        .expect("run selkies-rs bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect()
}

/// A numeric field of a JSON report; panics naming the field when it is missing.
pub fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing or not a number in {v}"))
}
