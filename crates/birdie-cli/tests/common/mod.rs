//! Helpers every CLI test file shares: the `birdie` command (with a private cache directory where a test prepares
//! data) and its output as text.

// Each test file is its own crate and uses a subset of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// The `birdie` binary under test.
pub fn birdie() -> Command {
    Command::cargo_bin("birdie").unwrap()
}

/// `birdie` with its cache (prepared shards) in `cache`, so tests never share or touch the user's cache.
pub fn birdie_cached(cache: &Path) -> Command {
    let mut c = birdie();
    c.env("BIRDIE_CACHE_DIR", cache);
    c
}

/// `birdie` with its cache in `dir/cache`.
pub fn birdie_in(dir: &Path) -> Command {
    birdie_cached(&dir.join("cache"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `cmd`, asserts success (showing both streams otherwise) and returns its standard output.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    stdout(&out)
}
