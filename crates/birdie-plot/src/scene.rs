//! A chart as a list of drawing primitives in pixel coordinates, written out as SVG here and rasterised to PNG in
//! `raster.rs` — one description, two formats, so the two files always show the same chart.

use std::fmt::Write as _;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    pub const BLACK: Color = Color(0, 0, 0);
    pub const WHITE: Color = Color(255, 255, 255);

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Where a text's anchor point sits along the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One drawing primitive. Coordinates are pixels, y downwards; text positions are on the baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A filled axis-aligned rectangle.
    Rect { x: f64, y: f64, w: f64, h: f64, fill: Color },
    /// An open polyline of the given stroke width.
    Polyline { points: Vec<(f64, f64)>, stroke: Color, width: f64 },
    /// A filled simple polygon.
    Polygon { points: Vec<(f64, f64)>, fill: Color },
    /// A line of text; `vertical` turns it 90° anticlockwise about its anchor (reading bottom to top).
    Text { x: f64, y: f64, size: f64, anchor: Anchor, vertical: bool, color: Color, text: String },
}

/// A chart: its size and primitives, drawn in order over a white background.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: f64,
    pub height: f64,
    pub shapes: Vec<Shape>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn points(p: &[(f64, f64)]) -> String {
    p.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ")
}

impl Scene {
    pub fn new(width: f64, height: f64) -> Self {
        Scene { width, height, shapes: Vec::new() }
    }

    pub fn push(&mut self, shape: Shape) {
        self.shapes.push(shape);
    }

    /// A straight line segment.
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), stroke: Color, width: f64) {
        self.push(Shape::Polyline { points: vec![a, b], stroke, width });
    }

    /// A rectangle outline.
    pub fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: Color) {
        let p = vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)];
        self.push(Shape::Polyline { points: p, stroke, width: 1.0 });
    }

    pub fn text(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, text: &str) {
        let text = text.to_string();
        self.push(Shape::Text { x, y, size, anchor, vertical: false, color: Color::BLACK, text });
    }

    /// The scene as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let (w, h) = (self.width, self.height);
        let mut svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>"##
        );
        for s in &self.shapes {
            let _ = match s {
                Shape::Rect { x, y, w, h, fill } => write!(
                    svg,
                    r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/>"##,
                    fill.hex()
                ),
                Shape::Polyline { points: p, stroke, width } => write!(
                    svg,
                    r##"<polyline fill="none" stroke="{}" stroke-width="{width}" stroke-linejoin="round" points="{}"/>"##,
                    stroke.hex(),
                    points(p)
                ),
                Shape::Polygon { points: p, fill } => {
                    write!(svg, r##"<polygon fill="{}" stroke="none" points="{}"/>"##, fill.hex(), points(p))
                }
                Shape::Text { x, y, size, anchor, vertical, color, text } => {
                    let place = if *vertical {
                        format!(r#"transform="translate({x:.1},{y:.1}) rotate(-90)""#)
                    } else {
                        format!(r#"x="{x:.1}" y="{y:.1}""#)
                    };
                    write!(
                        svg,
                        r##"<text {place} font-size="{size}" text-anchor="{}" fill="{}">{}</text>"##,
                        anchor.svg(),
                        color.hex(),
                        escape(text)
                    )
                }
            };
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_escapes_text_and_writes_every_shape() {
        let mut s = Scene::new(100.0, 50.0);
        s.push(Shape::Rect { x: 1.0, y: 2.0, w: 3.0, h: 4.0, fill: Color(255, 0, 16) });
        s.line((0.0, 0.0), (10.0, 10.0), Color::BLACK, 1.5);
        s.push(Shape::Polygon { points: vec![(0.0, 0.0), (5.0, 0.0), (0.0, 5.0)], fill: Color::BLACK });
        s.text(5.0, 6.0, 12.0, Anchor::End, "a <b> & c");
        let svg = s.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains(r##"fill="#ff0010""##) && svg.contains("a &lt;b&gt; &amp; c"));
        assert!(svg.contains(r#"text-anchor="end""#) && svg.contains("<polyline") && svg.contains("<polygon"));
    }
}
