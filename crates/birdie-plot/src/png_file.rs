//! PNG files of 8-bit RGB images through the `png` crate: the encoder writes the plots; the decoder reads them back
//! (tests check what a viewer would see).

/// Encodes `rgb` (row-major, 3 bytes a pixel, `width * height * 3` bytes) as a PNG file.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    assert_eq!(rgb.len(), width as usize * height as usize * 3, "RGB buffer size");
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to memory fails only on a header the encoder itself rejects, which a valid size never is.
    let mut writer = encoder.write_header().expect("a PNG header for a valid size");
    writer.write_image_data(rgb).expect("image data of the size just checked");
    writer.finish().expect("writing to memory");
    out
}

/// A decoded 8-bit RGB image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl RgbImage {
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// Why a PNG file could not be read as an 8-bit RGB image.
#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error("not a readable PNG file: {0}")]
    Decode(#[from] png::DecodingError),
    #[error("a {0:?} {1:?}-bit image, expected 8-bit RGB")]
    NotRgb8(png::ColorType, png::BitDepth),
}

/// Decodes an 8-bit RGB PNG (what [`encode_rgb`] writes); the `png` crate checks signature, chunk CRCs and the
/// compressed stream.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, PngError> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info()?;
    let mut rgb = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut rgb)?;
    if (info.color_type, info.bit_depth) != (png::ColorType::Rgb, png::BitDepth::Eight) {
        return Err(PngError::NotRgb8(info.color_type, info.bit_depth));
    }
    rgb.truncate(info.buffer_size());
    Ok(RgbImage { width: info.width, height: info.height, rgb })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_golden_header() {
        let (w, h) = (7u32, 5u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let png = encode_rgb(w, h, &rgb);
        assert_eq!(&png[..8], &[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']);
        assert_eq!(&png[8..16], &[0, 0, 0, 13, b'I', b'H', b'D', b'R']);
        assert_eq!(&png[16..29], &[0, 0, 0, 7, 0, 0, 0, 5, 8, 2, 0, 0, 0]);
        assert_eq!(&png[png.len() - 12..], &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]);
        let img = decode_rgb(&png).unwrap();
        assert_eq!((img.width, img.height), (w, h));
        assert_eq!(img.rgb, rgb);
    }

    #[test]
    fn damage_is_detected() {
        let png = encode_rgb(4, 4, &[200; 48]);
        let mut bad = png.clone();
        bad[30] ^= 0xff; // inside IHDR's data: its CRC no longer matches
        assert!(decode_rgb(&bad).is_err());
        assert!(decode_rgb(&png[..png.len() - 20]).is_err(), "truncated");
        assert!(decode_rgb(b"GIF89a").is_err());
    }
}
