//! Rasterises a [`Scene`] to an RGB image with anti-aliasing: shapes are filled by exact-coverage polygon
//! rasterisation (`ab_glyph_rasterizer`), strokes become one polygon per segment plus round-ish joins, and text uses
//! the bundled DejaVu Sans subset (`fonts/`, licence in `fonts/LICENSE-dejavu.txt`).

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _};
use ab_glyph_rasterizer::{point, Rasterizer};

use super::png_file;
use super::scene::{Anchor, Color, Scene, Shape};

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");

fn font() -> FontRef<'static> {
    FontRef::try_from_slice(FONT_BYTES).expect("the bundled font parses (checked by a test)")
}

/// An RGB canvas.
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Self {
        Canvas { width, height, rgb: vec![255; width * height * 3] }
    }

    fn blend(&mut self, idx: usize, alpha: f32, c: Color) {
        let a = alpha.clamp(0.0, 1.0);
        if a <= 0.0 {
            return;
        }
        let px = &mut self.rgb[idx * 3..idx * 3 + 3];
        for (d, s) in px.iter_mut().zip([c.0, c.1, c.2]) {
            *d = (*d as f32 * (1.0 - a) + s as f32 * a).round() as u8;
        }
    }

    /// Fills the union of `polygons` (each closed implicitly; overlaps count once).
    fn fill(&mut self, polygons: &[Vec<(f32, f32)>], c: Color) {
        let mut r = Rasterizer::new(self.width, self.height);
        let xmax = self.width as f32 - 0.01;
        let ymax = self.height as f32;
        for poly in polygons {
            if poly.len() < 3 || poly.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
                continue;
            }
            // One orientation for all, so overlapping pieces add up instead of cancelling.
            let area: f32 = (0..poly.len())
                .map(|i| {
                    let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                    a.0 * b.1 - b.0 * a.1
                })
                .sum();
            let clamp = |(x, y): (f32, f32)| point(x.clamp(0.0, xmax), y.clamp(0.0, ymax));
            let n = poly.len();
            for i in 0..n {
                let (a, b) = if area >= 0.0 { (poly[i], poly[(i + 1) % n]) } else { (poly[(i + 1) % n], poly[i]) };
                r.draw_line(clamp(a), clamp(b));
            }
        }
        r.for_each_pixel(|idx, alpha| {
            if idx < self.width * self.height {
                self.blend(idx, alpha.min(1.0), c)
            }
        });
    }

    fn stroke(&mut self, points: &[(f32, f32)], c: Color, width: f32) {
        let hw = width.max(1.0) / 2.0;
        let mut pieces = Vec::new();
        let pts: Vec<(f32, f32)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        for w in pts.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
            if len < 1e-6 {
                continue;
            }
            let (nx, ny) = (-(y1 - y0) / len * hw, (x1 - x0) / len * hw);
            pieces.push(vec![(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)]);
        }
        // Joins: an octagon at each inner vertex.
        for &(x, y) in pts.iter().skip(1).take(pts.len().saturating_sub(2)) {
            let oct = (0..8)
                .map(|k| {
                    let t = k as f32 * std::f32::consts::FRAC_PI_4;
                    (x + hw * t.cos(), y + hw * t.sin())
                })
                .collect();
            pieces.push(oct);
        }
        self.fill(&pieces, c);
    }

    fn text(&mut self, (x, y): (f32, f32), size: f32, anchor: Anchor, vertical: bool, c: Color, text: &str) {
        let font = font();
        let upem = font.units_per_em().unwrap_or(2048.0);
        let scaled = font.as_scaled(PxScale::from(size * font.height_unscaled() / upem));
        // Lay the glyphs out along a baseline at u = 0, v = 0 (v downwards), then map (u, v) to the canvas.
        let mut glyphs = Vec::new();
        let mut caret = 0.0f32;
        let mut prev = None;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            glyphs.push(id.with_scale_and_position(scaled.scale(), point(caret, 0.0)));
            caret += scaled.h_advance(id);
            prev = Some(id);
        }
        let shift = match anchor {
            Anchor::Start => 0.0,
            Anchor::Middle => caret / 2.0,
            Anchor::End => caret,
        };
        for g in glyphs {
            let Some(outlined) = scaled.outline_glyph(g) else { continue };
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, alpha| {
                let (u, v) = (b.min.x + gx as f32 - shift, b.min.y + gy as f32);
                let (px, py) = if vertical { (x + v, y - u - 1.0) } else { (x + u, y + v) };
                let (px, py) = (px.round(), py.round());
                if px >= 0.0 && py >= 0.0 && (px as usize) < self.width && (py as usize) < self.height {
                    self.blend(py as usize * self.width + px as usize, alpha, c);
                }
            });
        }
    }

    /// Draws `scene` at `scale` pixels per scene unit.
    pub fn render(scene: &Scene, scale: f64) -> Canvas {
        let w = (scene.width * scale).round().max(1.0) as usize;
        let h = (scene.height * scale).round().max(1.0) as usize;
        let mut canvas = Canvas::new(w, h);
        let s = |v: f64| (v * scale) as f32;
        let pts = |p: &[(f64, f64)]| p.iter().map(|&(x, y)| (s(x), s(y))).collect::<Vec<_>>();
        for shape in &scene.shapes {
            match shape {
                Shape::Rect { x, y, w, h, fill } => {
                    let (x0, y0, x1, y1) = (s(*x), s(*y), s(x + w), s(y + h));
                    canvas.fill(&[vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)]], *fill);
                }
                Shape::Polyline { points, stroke, width } => canvas.stroke(&pts(points), *stroke, s(*width)),
                Shape::Polygon { points, fill } => canvas.fill(&[pts(points)], *fill),
                Shape::Text { x, y, size, anchor, vertical, color, text } => {
                    canvas.text((s(*x), s(*y)), s(*size), *anchor, *vertical, *color, text)
                }
            }
        }
        canvas
    }

    pub fn to_png(&self) -> Vec<u8> {
        png_file::encode_rgb(self.width as u32, self.height as u32, &self.rgb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dark(c: &Canvas, x: usize, y: usize) -> bool {
        let i = (y * c.width + x) * 3;
        c.rgb[i..i + 3].iter().all(|&v| v < 128)
    }

    #[test]
    fn the_bundled_font_has_every_printable_ascii_glyph() {
        let f = font();
        for ch in ' '..='~' {
            assert_ne!(f.glyph_id(ch).0, 0, "{ch:?} missing from the font subset");
        }
    }

    #[test]
    fn shapes_land_where_the_scene_puts_them() {
        let mut scene = Scene::new(40.0, 20.0);
        scene.push(Shape::Rect { x: 2.0, y: 2.0, w: 6.0, h: 6.0, fill: Color::BLACK });
        scene.line((10.0, 15.0), (38.0, 15.0), Color::BLACK, 2.0);
        scene.push(Shape::Polygon { points: vec![(20.0, 2.0), (30.0, 2.0), (30.0, 10.0)], fill: Color(0, 0, 0) });
        let c = Canvas::render(&scene, 1.0);
        assert!(dark(&c, 4, 4) && !dark(&c, 10, 4) && !dark(&c, 1, 1));
        assert!(dark(&c, 20, 14) && dark(&c, 37, 15) && !dark(&c, 20, 12) && !dark(&c, 5, 15));
        assert!(dark(&c, 29, 4) && !dark(&c, 21, 8));
        // At scale 2 the same rectangle covers twice the pixels in each direction.
        let c2 = Canvas::render(&scene, 2.0);
        assert_eq!((c2.width, c2.height), (80, 40));
        assert!(dark(&c2, 15, 15) && !dark(&c2, 17, 15));
    }

    #[test]
    fn overlapping_stroke_pieces_do_not_cancel() {
        // A zigzag whose segments overlap at the joins: the joint pixels must stay fully coloured.
        let mut scene = Scene::new(30.0, 30.0);
        let p = vec![(5.0, 5.0), (25.0, 25.0), (5.0, 25.0), (25.0, 5.0)];
        scene.push(Shape::Polyline { points: p, stroke: Color::BLACK, width: 3.0 });
        let c = Canvas::render(&scene, 1.0);
        assert!(dark(&c, 15, 15) && dark(&c, 24, 24) && dark(&c, 15, 25) && dark(&c, 6, 24));
    }

    #[test]
    fn text_is_drawn_at_its_anchor() {
        let ink = |c: &Canvas, x0: usize, x1: usize, y0: usize, y1: usize| {
            (y0..y1).flat_map(|y| (x0..x1).map(move |x| (x, y))).filter(|&(x, y)| dark(c, x, y)).count()
        };
        let mut scene = Scene::new(120.0, 60.0);
        scene.text(60.0, 30.0, 16.0, Anchor::End, "Loss");
        let c = Canvas::render(&scene, 1.0);
        assert!(ink(&c, 20, 60, 15, 31) > 20, "text left of an end anchor");
        assert_eq!(ink(&c, 61, 120, 0, 60), 0);
        let mut scene = Scene::new(60.0, 120.0);
        let text = "Loss".to_string();
        scene.push(Shape::Text {
            x: 30.0,
            y: 60.0,
            size: 16.0,
            anchor: Anchor::Middle,
            vertical: true,
            color: Color::BLACK,
            text,
        });
        let c = Canvas::render(&scene, 1.0);
        assert!(ink(&c, 15, 31, 35, 60) > 10 && ink(&c, 15, 31, 60, 85) > 10, "vertical text centred on y = 60");
        assert_eq!(ink(&c, 32, 60, 0, 120), 0, "vertical text sits left of its baseline x");
    }
}
