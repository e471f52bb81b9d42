//! The report's charts as birdie-train plot scenes (one [`Scene`], written as SVG and rasterised to PNG, as the run
//! plots are): validation loss over training per variant with the seeds' min–max band, and the transfer tasks'
//! headline numbers as bars with 95% confidence whiskers and the chance level.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use birdie_plot::frame::{self, axes, border, color, legend, Frame, AXIS, BOTTOM, H};
use birdie_plot::{Anchor, Color, Scene, Shape};

use super::results::Results;
use super::ReportError;
use crate::stats;

const CHANCE: Color = Color(0x55, 0x55, 0x55);

/// `c` mixed with white (the band under a variant's line).
fn tint(c: Color) -> Color {
    let mix = |v: u8| (255.0 - (255.0 - v as f64) * 0.3).round() as u8;
    Color(mix(c.0), mix(c.1), mix(c.2))
}

/// Writes `scene` as `dir/name.svg` and `dir/name.png`.
pub fn save(dir: &Path, name: &str, scene: &Scene) -> Result<Vec<PathBuf>, ReportError> {
    frame::save(dir, name, scene).map_err(|(path, source)| ReportError::Io { action: "writing", path, source })
}

/// Per step: (step, mean, min, max) over the seeds' finite values.
fn over_seeds(curves: &[Vec<(f64, f64)>]) -> Vec<(f64, f64, f64, f64)> {
    let mut by_step: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for &(step, loss) in curves.iter().flatten().filter(|(s, l)| s.is_finite() && l.is_finite()) {
        by_step.entry(step.round() as i64).or_default().push(loss);
    }
    let fold = |v: &[f64], f: fn(f64, f64) -> f64, init: f64| v.iter().copied().fold(init, f);
    by_step
        .into_iter()
        .map(|(s, v)| {
            (s as f64, stats::mean(&v), fold(&v, f64::min, f64::INFINITY), fold(&v, f64::max, f64::NEG_INFINITY))
        })
        .collect()
}

/// One variant's validation curves: its name and one (step, loss) curve per seed.
pub type Curves = (String, Vec<Vec<(f64, f64)>>);

/// Validation loss (mean over arms) at each evaluation: per variant the mean over seeds, the band from the lowest
/// to the highest seed.
pub fn validation_loss(curves: &[Curves]) -> Scene {
    let series: Vec<Vec<(f64, f64, f64, f64)>> = curves.iter().map(|(_, c)| over_seeds(c)).collect();
    let all = series.iter().flatten();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(s, _, lo, hi) in all {
        (x0, x1, y0, y1) = (x0.min(s), x1.max(s), y0.min(lo), y1.max(hi));
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = (y1 - y0).max(1e-6) * 0.05;
    let f = Frame { x0, x1: x1.max(x0 + 1.0), y0: y0 - pad, y1: y1 + pad };
    let title = "Validation loss (mean over arms; line: mean over seeds, band: min–max)";
    let mut s = axes(&f, title, Some("step"), "loss (nats per label token)");
    for (i, pts) in series.iter().enumerate() {
        let upper = pts.iter().map(|&(x, _, _, hi)| (f.px(x), f.py(hi)));
        let lower = pts.iter().rev().map(|&(x, _, lo, _)| (f.px(x), f.py(lo)));
        s.push(Shape::Polygon { points: upper.chain(lower).collect(), fill: tint(color(i)) });
    }
    for (i, pts) in series.iter().enumerate() {
        let points = pts.iter().map(|&(x, m, _, _)| (f.px(x), f.py(m))).collect();
        s.push(Shape::Polyline { points, stroke: color(i), width: 1.5 });
    }
    border(&mut s);
    legend(&mut s, &curves.iter().enumerate().map(|(i, (n, _))| (n.clone(), color(i))).collect::<Vec<_>>());
    s
}

/// One bar group: a transfer task's headline (metric, setting), per variant the mean with its interval.
struct Group {
    label: String,
    setting: String,
    bars: Vec<stats::MeanCi>,
    chance: Option<f64>,
}

fn groups(r: &Results) -> Vec<Group> {
    let mut out = Vec::new();
    for t in r.tasks.iter().filter(|t| t.transfer) {
        let Some((metric, setting)) = r.headline(&t.task) else { continue };
        let bars = r
            .variants
            .iter()
            .map(|v| {
                let xs: Vec<f64> = r.values(&v.name, &t.task, &metric, &setting).into_iter().map(|(_, x)| x).collect();
                stats::mean_ci95(&xs)
            })
            .collect();
        let chance = r.chance(&t.task, &metric, &setting);
        out.push(Group { label: format!("{} {metric}", t.task), setting, bars, chance });
    }
    out
}

/// The transfer tasks' headline numbers: a bar per variant (mean over seeds) with 95% whiskers, and the chance level
/// as a grey line across each group. `None` without transfer results.
pub fn eval_bars(r: &Results) -> Option<Scene> {
    let groups = groups(r);
    if groups.is_empty() {
        return None;
    }
    let ends = |b: &stats::MeanCi| [b.mean - b.half_width.unwrap_or(0.0), b.mean + b.half_width.unwrap_or(0.0)];
    let values = groups.iter().flat_map(|g| g.bars.iter().filter(|b| b.n > 0).flat_map(ends).chain(g.chance));
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let f = Frame { x0: 0.0, x1: groups.len() as f64, y0: lo * 1.08, y1: (hi * 1.08).max(1e-3) };
    let mut s = axes(&f, "Transfer tasks (mean over seeds, 95% CI)", None, "value");
    let width = 0.8 / r.variants.len().max(1) as f64;
    for (c, g) in groups.iter().enumerate() {
        let mid = f.px(c as f64 + 0.5);
        s.text(mid, H - BOTTOM + 16.0, 11.0, Anchor::Middle, &g.label);
        if g.setting != "all" {
            s.text(mid, H - BOTTOM + 30.0, 10.0, Anchor::Middle, &g.setting);
        }
        for (k, b) in g.bars.iter().enumerate().filter(|(_, b)| b.n > 0 && b.mean.is_finite()) {
            let (x0, x1) = (f.px(c as f64 + 0.1 + k as f64 * width), f.px(c as f64 + 0.1 + (k as f64 + 0.9) * width));
            let (top, base) = (f.py(b.mean.max(0.0)), f.py(b.mean.min(0.0)));
            s.push(Shape::Rect { x: x0, y: top, w: x1 - x0, h: base - top, fill: color(k) });
            if let Some(h) = b.half_width {
                let (xm, cap) = ((x0 + x1) / 2.0, (x1 - x0) * 0.2);
                s.line((xm, f.py(b.mean - h)), (xm, f.py(b.mean + h)), AXIS, 1.0);
                for y in [b.mean - h, b.mean + h] {
                    s.line((xm - cap, f.py(y)), (xm + cap, f.py(y)), AXIS, 1.0);
                }
            }
        }
        if let Some(ch) = g.chance {
            s.line((f.px(c as f64 + 0.05), f.py(ch)), (f.px(c as f64 + 0.95), f.py(ch)), CHANCE, 2.0);
        }
    }
    border(&mut s);
    let mut entries: Vec<(String, Color)> =
        r.variants.iter().enumerate().map(|(i, v)| (v.name.clone(), color(i))).collect();
    entries.push(("chance".into(), CHANCE));
    legend(&mut s, &entries);
    Some(s)
}
