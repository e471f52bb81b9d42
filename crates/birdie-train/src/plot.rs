//! The run's plots as SVG, drawn from `metrics.jsonl`: training loss, per-arm validation loss, and the mixture over
//! time as a stacked area chart. Hand-written SVG (no plotting dependency); every chart has a title, labelled axes
//! with ticks, and a legend.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

const W: f64 = 900.0;
const H: f64 = 500.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Tableau-20-like palette.
const COLORS: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// "Nice" tick values covering [lo, hi].
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= n as f64).unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x0) / (self.x1 - self.x0).max(1e-12) * (W - LEFT - RIGHT)
    }
    fn py(&self, y: f64) -> f64 {
        H - BOTTOM - (y - self.y0) / (self.y1 - self.y0).max(1e-12) * (H - TOP - BOTTOM)
    }
}

fn axes(svg: &mut String, f: &Frame, title: &str, x_label: &str, y_label: &str) {
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{}" y="24" font-size="16" text-anchor="middle">{}</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        escape(title)
    );
    for t in ticks(f.x0, f.x1, 8) {
        let x = f.px(t);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{TOP}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 16.0,
            fmt_tick(t)
        );
    }
    for t in ticks(f.y0, f.y1, 6) {
        let y = f.py(t);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            fmt_tick(t)
        );
    }
    let _ = write!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM,
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0,
        escape(x_label),
        (TOP + H - BOTTOM) / 2.0,
        escape(y_label)
    );
}

fn fmt_tick(t: f64) -> String {
    if t.abs() >= 1000.0 || t == t.trunc() {
        format!("{t:.0}")
    } else if t.abs() >= 1.0 {
        format!("{t:.1}")
    } else {
        format!("{t:.2}")
    }
}

fn legend(svg: &mut String, names: &[String]) {
    let rows = names.len().min(26);
    for (i, name) in names.iter().take(rows).enumerate() {
        let y = TOP + 8.0 + i as f64 * 16.0;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="12" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"##,
            W - RIGHT + 12.0,
            y - 9.0,
            COLORS[i % COLORS.len()],
            W - RIGHT + 30.0,
            y,
            escape(name)
        );
    }
}

/// A line chart of named series of (x, y) points.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let pts = series.iter().flat_map(|(_, p)| p.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = (y1 - y0).max(1e-6) * 0.05;
    let f = Frame { x0, x1: x1.max(x0 + 1.0), y0: y0 - pad, y1: y1 + pad };
    let mut svg = String::new();
    axes(&mut svg, &f, title, x_label, y_label);
    for (i, (_, p)) in series.iter().enumerate() {
        let d: Vec<String> = p
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", f.px(x), f.py(y)))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"##,
            COLORS[i % COLORS.len()],
            d.join(" ")
        );
    }
    if series.len() > 1 {
        legend(&mut svg, &series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    }
    svg.push_str("</svg>\n");
    svg
}

/// A stacked area chart: at each x, the series' values (summing to 1) stacked bottom to top.
pub fn stacked_area(title: &str, x_label: &str, xs: &[f64], series: &[(String, Vec<f64>)]) -> String {
    let x0 = xs.first().copied().unwrap_or(0.0);
    let x1 = xs.last().copied().unwrap_or(1.0).max(x0 + 1.0);
    let f = Frame { x0, x1, y0: 0.0, y1: 1.0 };
    let mut svg = String::new();
    axes(&mut svg, &f, title, x_label, "probability");
    let mut base = vec![0.0; xs.len()];
    for (i, (_, v)) in series.iter().enumerate() {
        let top: Vec<f64> = base.iter().zip(v).map(|(b, x)| b + x).collect();
        let mut pts: Vec<String> = Vec::with_capacity(2 * xs.len());
        // Mixtures hold between evaluations: draw steps.
        for j in 0..xs.len() {
            let next = xs.get(j + 1).copied().unwrap_or(x1);
            pts.push(format!("{:.1},{:.1}", f.px(xs[j]), f.py(top[j])));
            pts.push(format!("{:.1},{:.1}", f.px(next), f.py(top[j])));
        }
        for j in (0..xs.len()).rev() {
            let next = xs.get(j + 1).copied().unwrap_or(x1);
            pts.push(format!("{:.1},{:.1}", f.px(next), f.py(base[j])));
            pts.push(format!("{:.1},{:.1}", f.px(xs[j]), f.py(base[j])));
        }
        let _ =
            write!(svg, r##"<polygon fill="{}" stroke="none" points="{}"/>"##, COLORS[i % COLORS.len()], pts.join(" "));
        base = top;
    }
    legend(&mut svg, &series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    svg.push_str("</svg>\n");
    svg
}

/// Renders `training_loss.svg`, `validation_loss.svg` and `mixture.svg` into `run_dir` from its `metrics.jsonl`;
/// returns the files written.
pub fn render_run(run_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let path = run_dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut lines = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        lines.push(v);
    }
    let train: Vec<(f64, f64)> =
        lines.iter().filter_map(|m| Some((m["step"].as_f64()?, m["train_loss"].as_f64()?))).collect();
    let evals: Vec<&Value> = lines.iter().filter(|m| m.get("eval").is_some()).collect();
    let names: Vec<String> = evals
        .first()
        .and_then(|e| e["eval"]["val_loss"].as_array())
        .map(|a| a.iter().filter_map(|p| p[0].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let steps: Vec<f64> = evals.iter().filter_map(|m| m["step"].as_f64()).collect();
    let per_arm = |key: &str, pick: &dyn Fn(&Value, usize) -> Option<f64>| -> Vec<(String, Vec<f64>)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), evals.iter().map(|m| pick(&m["eval"][key], i).unwrap_or(f64::NAN)).collect()))
            .collect()
    };
    let val = per_arm("val_loss", &|v, i| v.get(i)?.get(1)?.as_f64());
    let mix = per_arm("mixture", &|v, i| v.get(i)?.as_f64());
    let mut written = Vec::new();
    let mut save = |name: &str, svg: String| -> Result<(), String> {
        let p = run_dir.join(name);
        std::fs::write(&p, svg).map_err(|e| format!("writing {}: {e}", p.display()))?;
        written.push(p);
        Ok(())
    };
    save(
        "training_loss.svg",
        line_chart("Training loss", "step", "loss (nats per label token)", &[("train".into(), train)]),
    )?;
    let val_series: Vec<(String, Vec<(f64, f64)>)> =
        val.iter().map(|(n, v)| (n.clone(), steps.iter().copied().zip(v.iter().copied()).collect())).collect();
    save(
        "validation_loss.svg",
        line_chart("Validation loss per arm", "step", "loss (nats per label token)", &val_series),
    )?;
    save("mixture.svg", stacked_area("Objective mixture", "step", &steps, &mix))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let close = |a: Vec<f64>, b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        assert!(close(ticks(0.0, 10.0, 5), &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]));
        assert!(close(ticks(3.25, 3.9, 4), &[3.4, 3.6, 3.8]), "{:?}", ticks(3.25, 3.9, 4));
    }

    #[test]
    fn charts_are_well_formed_svg() {
        let svg = line_chart("t <1>", "x", "y", &[("a".into(), vec![(0.0, 1.0), (1.0, 2.0)]), ("b".into(), vec![])]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n") && svg.contains("t &lt;1&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        let area =
            stacked_area("m", "step", &[1.0, 2.0], &[("a".into(), vec![0.5, 0.2]), ("b".into(), vec![0.5, 0.8])]);
        assert_eq!(area.matches("<polygon").count(), 2);
    }
}
