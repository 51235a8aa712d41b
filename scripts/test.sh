#!/usr/bin/env bash
# Runs every test: the web client's unit tests (node), then the Rust workspace's unit and
# integration tests (these start their own Xvfb, Chromium and FFmpeg processes on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
node --test web/test/
cargo test --workspace --no-fail-fast
