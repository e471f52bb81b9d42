//! The run's plots as SVG, drawn from `metrics.jsonl`: training loss, per-arm validation loss, and the mixture over
//! time as a stacked area chart. Hand-written SVG (no plotting dependency); every chart has a title, labelled axes
//! with ticks, and a legend.

mod png;
mod raster;
mod scene;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use png::{decode_rgb, encode_rgb, RgbImage};
pub use raster::Canvas;
pub use scene::{Anchor, Color, Scene, Shape};

const W: f64 = 900.0;
const H: f64 = 500.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// PNG pixels per scene unit (sharp on high-density screens and in papers).
pub const PNG_SCALE: f64 = 2.0;
const GRID: Color = Color(0xee, 0xee, 0xee);
const AXIS: Color = Color(0x33, 0x33, 0x33);
/// Tableau-20-like palette.
const COLORS: [Color; 20] = [
    Color(0x1f, 0x77, 0xb4),
    Color(0xff, 0x7f, 0x0e),
    Color(0x2c, 0xa0, 0x2c),
    Color(0xd6, 0x27, 0x28),
    Color(0x94, 0x67, 0xbd),
    Color(0x8c, 0x56, 0x4b),
    Color(0xe3, 0x77, 0xc2),
    Color(0x7f, 0x7f, 0x7f),
    Color(0xbc, 0xbd, 0x22),
    Color(0x17, 0xbe, 0xcf),
    Color(0xae, 0xc7, 0xe8),
    Color(0xff, 0xbb, 0x78),
    Color(0x98, 0xdf, 0x8a),
    Color(0xff, 0x98, 0x96),
    Color(0xc5, 0xb0, 0xd5),
    Color(0xc4, 0x9c, 0x94),
    Color(0xf7, 0xb6, 0xd2),
    Color(0xc7, 0xc7, 0xc7),
    Color(0xdb, 0xdb, 0x8d),
    Color(0x9e, 0xda, 0xe5),
];

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

/// Title, grid, tick labels and axis labels.
fn axes(f: &Frame, title: &str, x_label: &str, y_label: &str) -> Scene {
    let mut s = Scene::new(W, H);
    s.text((LEFT + W - RIGHT) / 2.0, 24.0, 16.0, Anchor::Middle, title);
    for t in ticks(f.x0, f.x1, 8) {
        let x = f.px(t);
        s.line((x, H - BOTTOM), (x, TOP), GRID, 1.0);
        s.text(x, H - BOTTOM + 16.0, 12.0, Anchor::Middle, &fmt_tick(t));
    }
    for t in ticks(f.y0, f.y1, 6) {
        let y = f.py(t);
        s.line((LEFT, y), (W - RIGHT, y), GRID, 1.0);
        s.text(LEFT - 6.0, y + 4.0, 12.0, Anchor::End, &fmt_tick(t));
    }
    s.text((LEFT + W - RIGHT) / 2.0, H - 12.0, 12.0, Anchor::Middle, x_label);
    let text = y_label.to_string();
    let (x, y) = (22.0, (TOP + H - BOTTOM) / 2.0);
    s.push(Shape::Text { x, y, size: 12.0, anchor: Anchor::Middle, vertical: true, color: Color::BLACK, text });
    s
}

/// The plot area's border, drawn last so series do not cover it.
fn border(s: &mut Scene) {
    s.frame(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM, AXIS);
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

fn legend(s: &mut Scene, names: &[String]) {
    let rows = names.len().min(26);
    for (i, name) in names.iter().take(rows).enumerate() {
        let y = TOP + 8.0 + i as f64 * 16.0;
        s.push(Shape::Rect { x: W - RIGHT + 12.0, y: y - 9.0, w: 12.0, h: 10.0, fill: COLORS[i % COLORS.len()] });
        s.text(W - RIGHT + 30.0, y, 11.0, Anchor::Start, name);
    }
}

/// A line chart of named series of (x, y) points.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)]) -> Scene {
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
    let mut s = axes(&f, title, x_label, y_label);
    for (i, (_, p)) in series.iter().enumerate() {
        let points =
            p.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).map(|&(x, y)| (f.px(x), f.py(y))).collect();
        s.push(Shape::Polyline { points, stroke: COLORS[i % COLORS.len()], width: 1.5 });
    }
    border(&mut s);
    if series.len() > 1 {
        legend(&mut s, &series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    }
    s
}

/// A stacked area chart: at each x, the series' values (summing to 1) stacked bottom to top.
pub fn stacked_area(title: &str, x_label: &str, xs: &[f64], series: &[(String, Vec<f64>)]) -> Scene {
    let x0 = xs.first().copied().unwrap_or(0.0);
    let x1 = xs.last().copied().unwrap_or(1.0).max(x0 + 1.0);
    let f = Frame { x0, x1, y0: 0.0, y1: 1.0 };
    let mut s = axes(&f, title, x_label, "probability");
    let mut base = vec![0.0; xs.len()];
    for (i, (_, v)) in series.iter().enumerate() {
        let top: Vec<f64> = base.iter().zip(v).map(|(b, x)| b + x).collect();
        let mut points = Vec::with_capacity(4 * xs.len());
        // Mixtures hold between evaluations: draw steps.
        for j in 0..xs.len() {
            let next = xs.get(j + 1).copied().unwrap_or(x1);
            points.push((f.px(xs[j]), f.py(top[j])));
            points.push((f.px(next), f.py(top[j])));
        }
        for j in (0..xs.len()).rev() {
            let next = xs.get(j + 1).copied().unwrap_or(x1);
            points.push((f.px(next), f.py(base[j])));
            points.push((f.px(xs[j]), f.py(base[j])));
        }
        s.push(Shape::Polygon { points, fill: COLORS[i % COLORS.len()] });
        base = top;
    }
    border(&mut s);
    legend(&mut s, &series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    s
}

/// A horizontal grouped bar chart: one group per category (labels on the left), one bar per series, values on a
/// shared axis from 0; the legend names the series. Non-finite values leave their bar out.
pub fn bar_chart(title: &str, categories: &[String], series: &[(String, Vec<f64>)]) -> Scene {
    const LABELS: f64 = 260.0;
    let bar = 12.0;
    let group = bar * series.len().max(1) as f64 + 12.0;
    let height = TOP + BOTTOM + group * categories.len().max(1) as f64;
    let (x_left, x_right) = (LABELS, W - RIGHT);
    let vmax = series.iter().flat_map(|(_, v)| v.iter()).filter(|v| v.is_finite()).fold(0.0f64, |a, &b| a.max(b));
    let hi = if vmax <= 1.0 { 1.0 } else { vmax * 1.05 };
    let px = |v: f64| x_left + v / hi * (x_right - x_left);
    let mut s = Scene::new(W, height);
    s.text((x_left + x_right) / 2.0, 24.0, 16.0, Anchor::Middle, title);
    for t in ticks(0.0, hi, 6) {
        let x = px(t);
        s.line((x, TOP), (x, height - BOTTOM), GRID, 1.0);
        s.text(x, height - BOTTOM + 16.0, 12.0, Anchor::Middle, &fmt_tick(t));
    }
    for (c, name) in categories.iter().enumerate() {
        let y0 = TOP + c as f64 * group + 6.0;
        s.text(x_left - 8.0, y0 + group / 2.0, 11.0, Anchor::End, name);
        for (k, (_, values)) in series.iter().enumerate() {
            let v = values.get(c).copied().unwrap_or(f64::NAN);
            if v.is_finite() {
                let fill = COLORS[k % COLORS.len()];
                s.push(Shape::Rect {
                    x: x_left,
                    y: y0 + k as f64 * bar,
                    w: px(v.max(0.0)) - x_left,
                    h: bar - 2.0,
                    fill,
                });
            }
        }
    }
    s.frame(x_left, TOP, x_right - x_left, height - TOP - BOTTOM, AXIS);
    legend(&mut s, &series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    s
}

/// Renders `training_loss`, `validation_loss` and `mixture`, each as `.svg` and `.png`, into `run_dir` from its
/// `metrics.jsonl`; returns the files written.
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
    let mut save = |name: &str, scene: Scene| -> Result<(), String> {
        let png = Canvas::render(&scene, PNG_SCALE).to_png();
        for (ext, bytes) in [("svg", scene.to_svg().into_bytes()), ("png", png)] {
            let p = run_dir.join(format!("{name}.{ext}"));
            std::fs::write(&p, bytes).map_err(|e| format!("writing {}: {e}", p.display()))?;
            written.push(p);
        }
        Ok(())
    };
    save(
        "training_loss",
        line_chart("Training loss", "step", "loss (nats per label token)", &[("train".into(), train)]),
    )?;
    let val_series: Vec<(String, Vec<(f64, f64)>)> =
        val.iter().map(|(n, v)| (n.clone(), steps.iter().copied().zip(v.iter().copied()).collect())).collect();
    save("validation_loss", line_chart("Validation loss per arm", "step", "loss (nats per label token)", &val_series))?;
    save("mixture", stacked_area("Objective mixture", "step", &steps, &mix))?;
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
    fn charts_hold_their_series() {
        let chart = line_chart("t <1>", "x", "y", &[("a".into(), vec![(0.0, 1.0), (1.0, 2.0)]), ("b".into(), vec![])]);
        let series = chart.shapes.iter().filter(|s| matches!(s, Shape::Polyline { width, .. } if *width == 1.5));
        assert_eq!(series.count(), 2);
        let svg = chart.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n") && svg.contains("t &lt;1&gt;"));
        let area =
            stacked_area("m", "step", &[1.0, 2.0], &[("a".into(), vec![0.5, 0.2]), ("b".into(), vec![0.5, 0.8])]);
        assert_eq!(area.shapes.iter().filter(|s| matches!(s, Shape::Polygon { .. })).count(), 2);
    }

    #[test]
    fn bar_chart_draws_one_bar_per_finite_value() {
        let cats = vec!["a".to_string(), "b".to_string()];
        let chart = bar_chart("t", &cats, &[("x".into(), vec![0.5, f64::NAN]), ("y".into(), vec![0.2, 0.9])]);
        // 3 finite bars + 2 legend swatches.
        assert_eq!(chart.shapes.iter().filter(|s| matches!(s, Shape::Rect { .. })).count(), 5);
    }

    #[test]
    fn the_png_shows_the_stacked_areas_in_their_colours() {
        let xs = [0.0, 10.0];
        let area = stacked_area("m", "step", &xs, &[("a".into(), vec![0.5, 0.5]), ("b".into(), vec![0.5, 0.5])]);
        let png = Canvas::render(&area, PNG_SCALE).to_png();
        let img = decode_rgb(&png).unwrap();
        assert_eq!((img.width, img.height), ((W * PNG_SCALE) as u32, (H * PNG_SCALE) as u32));
        let f = Frame { x0: 0.0, x1: 10.0, y0: 0.0, y1: 1.0 };
        let at = |x: f64, y: f64| img.pixel((f.px(x) * PNG_SCALE) as u32, (f.py(y) * PNG_SCALE) as u32);
        let rgb = |c: Color| [c.0, c.1, c.2];
        assert_eq!(at(3.3, 0.2), rgb(COLORS[0]));
        assert_eq!(at(7.7, 0.8), rgb(COLORS[1]));
        // The title is drawn: some dark pixels in the band above the plot.
        let dark = (0..img.width).filter(|&x| img.pixel(x, (16.0 * PNG_SCALE) as u32).iter().all(|&v| v < 100)).count();
        assert!(dark > 0);
    }
}
