//! A 100 MB single-line file through `birdie data prepare` (its own test binary, so it runs alone).

mod common;
use common::birdie;

/// A 100 MB file that is one single line prepares whole — one document of at least one token per word — in under
/// 2 GB of memory.
#[test]
fn hundred_megabyte_single_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("line.txt");
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];
    let mut line = String::with_capacity(100 << 20);
    let mut i = 0usize;
    while line.len() < 100 << 20 {
        line.push_str(words[(i * 7 + i / 10) % words.len()]);
        line.push(' ');
        i += 1;
    }
    std::fs::write(&path, &line).unwrap();
    drop(line);
    let out = birdie()
        .args(["data", "prepare", "--input"])
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("s"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // "train: N tokens, D documents" (and the same for validation, wherever the hash puts the document).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (mut tokens, mut documents) = (0usize, 0usize);
    for line in stdout.lines().filter(|l| l.starts_with("train: ") || l.starts_with("validation: ")) {
        let nums: Vec<usize> = line.split([' ', ',']).filter_map(|w| w.parse().ok()).collect();
        tokens += nums[0];
        documents += nums[1];
    }
    assert_eq!(documents, 1, "{stdout}");
    // The words are separated by spaces, where the tokenizer always splits: at least one token each.
    assert!(tokens >= i, "{tokens} tokens for {i} words: {stdout}");
    let peak_kib = children_peak_rss_kib();
    assert!(peak_kib < 2 * 1024 * 1024, "peak RSS {} MiB", peak_kib / 1024);
}

fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_maxrss
    }
}
