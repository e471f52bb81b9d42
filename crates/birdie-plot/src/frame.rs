//! The frame every chart shares: the layout, the palette, "nice" ticks, axes with grid and labels, the legend, the
//! border, and writing a scene as SVG + PNG. Charts map data into the plot area through a [`Frame`].

use std::path::{Path, PathBuf};

use super::raster::Canvas;
use super::scene::{Anchor, Color, Scene, Shape};

/// Scene width and height.
pub const W: f64 = 900.0;
pub const H: f64 = 500.0;
/// Margins around the plot area (the legend sits in the right one, wide enough for labels like
/// `autoencoding_with_deshuffling(r=0.15, span=3)`).
pub const LEFT: f64 = 70.0;
pub const RIGHT: f64 = 330.0;
pub const TOP: f64 = 40.0;
pub const BOTTOM: f64 = 50.0;
/// PNG pixels per scene unit (sharp on high-density screens and in papers).
pub const PNG_SCALE: f64 = 2.0;
pub const GRID: Color = Color(0xee, 0xee, 0xee);
pub const AXIS: Color = Color(0x33, 0x33, 0x33);
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

/// Series colour `i` (the palette repeats after 20).
pub fn color(i: usize) -> Color {
    COLORS[i % COLORS.len()]
}

/// "Nice" tick values covering [lo, hi].
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
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

/// A tick label with as many decimals as its size needs.
pub fn fmt_tick(t: f64) -> String {
    let a = t.abs();
    if a >= 1000.0 || t == t.trunc() {
        format!("{t:.0}")
    } else if a >= 1.0 {
        format!("{t:.1}")
    } else if a >= 0.01 {
        format!("{t:.2}")
    } else {
        format!("{t:.3}")
    }
}

/// Data ranges mapped onto the plot area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Frame {
    /// Scene x of data x.
    pub fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x0) / (self.x1 - self.x0).max(1e-12) * (W - LEFT - RIGHT)
    }
    /// Scene y of data y.
    pub fn py(&self, y: f64) -> f64 {
        H - BOTTOM - (y - self.y0) / (self.y1 - self.y0).max(1e-12) * (H - TOP - BOTTOM)
    }
}

/// Title, grid, tick labels and axis labels (x ticks and label only with an x label: categorical charts place
/// their own).
pub fn axes(f: &Frame, title: &str, x_label: Option<&str>, y_label: &str) -> Scene {
    let mut s = Scene::new(W, H);
    s.text((LEFT + W - RIGHT) / 2.0, 24.0, 16.0, Anchor::Middle, title);
    if let Some(label) = x_label {
        for t in ticks(f.x0, f.x1, 8) {
            let x = f.px(t);
            s.line((x, H - BOTTOM), (x, TOP), GRID, 1.0);
            s.text(x, H - BOTTOM + 16.0, 12.0, Anchor::Middle, &fmt_tick(t));
        }
        s.text((LEFT + W - RIGHT) / 2.0, H - 12.0, 12.0, Anchor::Middle, label);
    }
    for t in ticks(f.y0, f.y1, 6) {
        let y = f.py(t);
        s.line((LEFT, y), (W - RIGHT, y), GRID, 1.0);
        s.text(LEFT - 6.0, y + 4.0, 12.0, Anchor::End, &fmt_tick(t));
    }
    let text = y_label.to_string();
    let (x, y) = (22.0, (TOP + H - BOTTOM) / 2.0);
    s.push(Shape::Text { x, y, size: 12.0, anchor: Anchor::Middle, vertical: true, color: Color::BLACK, text });
    s
}

/// The plot area's border, drawn last so series do not cover it.
pub fn border(s: &mut Scene) {
    s.frame(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM, AXIS);
}

/// A legend of (name, colour) rows in the right margin (at most 26 rows fit).
pub fn legend(s: &mut Scene, entries: &[(String, Color)]) {
    for (i, (name, fill)) in entries.iter().take(26).enumerate() {
        let y = TOP + 8.0 + i as f64 * 16.0;
        s.push(Shape::Rect { x: W - RIGHT + 12.0, y: y - 9.0, w: 12.0, h: 10.0, fill: *fill });
        s.text(W - RIGHT + 30.0, y, 11.0, Anchor::Start, name);
    }
}

/// Writes `scene` as `dir/name.svg` and `dir/name.png`; the paths written, or the path that failed.
pub fn save(dir: &Path, name: &str, scene: &Scene) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let png = Canvas::render(scene, PNG_SCALE).to_png();
    let mut written = Vec::new();
    for (ext, bytes) in [("svg", scene.to_svg().into_bytes()), ("png", png)] {
        let path = dir.join(format!("{name}.{ext}"));
        std::fs::write(&path, bytes).map_err(|e| (path.clone(), e))?;
        written.push(path);
    }
    Ok(written)
}
