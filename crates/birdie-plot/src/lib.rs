//! birdie-plot: charts as one [`Scene`] of shapes and text, written as SVG and rasterised to PNG.
//!
//! - [`line_chart`], [`stacked_area`], [`bar_chart`]: the charts birdie draws (training curves, mixtures, evaluation
//!   results); [`frame`] holds the axes, ticks and legend they share, for charts of one's own;
//! - [`Scene`]: the shapes, [`Scene::to_svg`]; [`Canvas`]: the anti-aliased rasteriser, PNG through the `png` crate;
//! - [`save`]: `NAME.svg` and `NAME.png` side by side.
//!
//! Every chart has a title, labelled axes with ticks, and a legend. Text is drawn with a bundled subset of DejaVu Sans
//! (`fonts/`, with its licence).

pub mod frame;
mod png_file;
mod raster;
mod scene;

pub use png_file::{decode_rgb, encode_rgb, PngError, RgbImage};
pub use raster::Canvas;
pub use scene::{Anchor, Color, Scene, Shape};

use frame::{axes, border, color, fmt_tick, legend, ticks, Frame, AXIS, BOTTOM, GRID, RIGHT, TOP, W};
pub use frame::{save, PNG_SCALE};

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
    let mut s = axes(&f, title, Some(x_label), y_label);
    for (i, (_, p)) in series.iter().enumerate() {
        let points =
            p.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).map(|&(x, y)| (f.px(x), f.py(y))).collect();
        s.push(Shape::Polyline { points, stroke: color(i), width: 1.5 });
    }
    border(&mut s);
    if series.len() > 1 {
        legend(&mut s, &series.iter().enumerate().map(|(i, (n, _))| (n.clone(), color(i))).collect::<Vec<_>>());
    }
    s
}

/// A stacked area chart: at each x, the series' values (summing to 1) stacked bottom to top.
pub fn stacked_area(title: &str, x_label: &str, xs: &[f64], series: &[(String, Vec<f64>)]) -> Scene {
    let x0 = xs.first().copied().unwrap_or(0.0);
    let x1 = xs.last().copied().unwrap_or(1.0).max(x0 + 1.0);
    let f = Frame { x0, x1, y0: 0.0, y1: 1.0 };
    let mut s = axes(&f, title, Some(x_label), "probability");
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
        s.push(Shape::Polygon { points, fill: color(i) });
        base = top;
    }
    border(&mut s);
    legend(&mut s, &series.iter().enumerate().map(|(i, (n, _))| (n.clone(), color(i))).collect::<Vec<_>>());
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
                let fill = color(k);
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
    legend(&mut s, &series.iter().enumerate().map(|(i, (n, _))| (n.clone(), color(i))).collect::<Vec<_>>());
    s
}

#[cfg(test)]
mod tests {
    use super::frame::H;
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
        assert_eq!(at(3.3, 0.2), rgb(color(0)));
        assert_eq!(at(7.7, 0.8), rgb(color(1)));
        // The title is drawn: some dark pixels in the band above the plot.
        let dark = (0..img.width).filter(|&x| img.pixel(x, (16.0 * PNG_SCALE) as u32).iter().all(|&v| v < 100)).count();
        assert!(dark > 0);
    }
}
