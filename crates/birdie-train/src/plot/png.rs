//! A minimal PNG codec for 8-bit RGB images: the encoder writes the plots; the decoder reads them back in tests and
//! checks everything a viewer would (signature, chunk CRCs, header, zlib stream, row filters).

use std::io::{Read as _, Write as _};

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Encodes `rgb` (row-major, 3 bytes a pixel, `width * height * 3` bytes) as a PNG file. Every row uses the Sub
/// filter, which turns the charts' flat runs into zeros for the compressor.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    assert_eq!(rgb.len(), width as usize * height as usize * 3, "RGB buffer size");
    let stride = width as usize * 3;
    let mut filtered = Vec::with_capacity((stride + 1) * height as usize);
    for row in rgb.chunks_exact(stride.max(1)).take(height as usize) {
        filtered.push(1u8);
        for i in 0..stride {
            let left = if i >= 3 { row[i - 3] } else { 0 };
            filtered.push(row[i].wrapping_sub(left));
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&filtered).expect("writing to memory");
    let idat = z.finish().expect("writing to memory");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit depth, truecolour, deflate, adaptive filters, no interlace
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
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

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = ((p - a as i16).abs(), (p - b as i16).abs(), (p - c as i16).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Decodes a non-interlaced 8-bit RGB PNG (what [`encode_rgb`] writes), checking every chunk's CRC.
pub fn decode_rgb(png: &[u8]) -> Result<RgbImage, String> {
    if png.len() < 8 || png[..8] != SIGNATURE {
        return Err("not a PNG file (bad signature)".into());
    }
    let (mut pos, mut header, mut idat, mut ended) = (8, None, Vec::new(), false);
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let end = pos + 8 + len;
        if end + 4 > png.len() {
            return Err(format!("chunk at byte {pos} runs past the end of the file"));
        }
        let kind = &png[pos + 4..pos + 8];
        let data = &png[pos + 8..end];
        let crc = u32::from_be_bytes(png[end..end + 4].try_into().unwrap());
        if crc32fast::hash(&png[pos + 4..end]) != crc {
            return Err(format!("bad CRC in the {} chunk", String::from_utf8_lossy(kind)));
        }
        match kind {
            b"IHDR" => {
                if data.len() != 13 || data[8..] != [8, 2, 0, 0, 0] {
                    return Err("only non-interlaced 8-bit RGB is supported".into());
                }
                let w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                let h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                header = Some((w, h));
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => {
                ended = true;
                break;
            }
            _ => {}
        }
        pos = end + 4;
    }
    let (width, height) = header.ok_or("no IHDR chunk")?;
    if !ended {
        return Err("no IEND chunk (truncated file?)".into());
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).map_err(|e| format!("image data: {e}"))?;
    let stride = width as usize * 3;
    if raw.len() != (stride + 1) * height as usize {
        return Err(format!("image data holds {} bytes, expected {}", raw.len(), (stride + 1) * height as usize));
    }
    let mut rgb = vec![0u8; stride * height as usize];
    for y in 0..height as usize {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for i in 0..stride {
            let a = if i >= 3 { rgb[y * stride + i - 3] } else { 0 };
            let b = if y > 0 { rgb[(y - 1) * stride + i] } else { 0 };
            let c = if y > 0 && i >= 3 { rgb[(y - 1) * stride + i - 3] } else { 0 };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => paeth(a, b, c),
                f => return Err(format!("row {y}: unknown filter type {f}")),
            };
            rgb[y * stride + i] = line[i].wrapping_add(predicted);
        }
    }
    Ok(RgbImage { width, height, rgb })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_golden_header() {
        let (w, h) = (7u32, 5u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let png = encode_rgb(w, h, &rgb);
        // Signature, then IHDR: length 13, "IHDR", 7 × 5, 8-bit truecolour.
        assert_eq!(&png[..8], &SIGNATURE);
        assert_eq!(&png[8..16], &[0, 0, 0, 13, b'I', b'H', b'D', b'R']);
        assert_eq!(&png[16..29], &[0, 0, 0, 7, 0, 0, 0, 5, 8, 2, 0, 0, 0]);
        assert_eq!(&png[png.len() - 12..], &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]);
        let img = decode_rgb(&png).unwrap();
        assert_eq!((img.width, img.height), (w, h));
        assert_eq!(img.rgb, rgb);
    }

    #[test]
    fn damage_is_detected() {
        let png = encode_rgb(3, 3, &[200; 27]);
        let mut bad = png.clone();
        bad[40] ^= 1;
        assert!(decode_rgb(&bad).unwrap_err().contains("CRC"));
        assert!(decode_rgb(&png[..png.len() - 12]).unwrap_err().contains("IEND"));
        assert!(decode_rgb(b"GIF89a").unwrap_err().contains("signature"));
    }

    #[test]
    fn all_filter_types_decode() {
        // Hand-filtered 2 × 2 image, one row with Paeth (4) and one with Average (3).
        let px = [[10u8, 20, 30, 40, 50, 60], [15, 25, 35, 45, 55, 65]];
        let mut raw = vec![4u8];
        for i in 0..6 {
            let a = if i >= 3 { px[0][i - 3] } else { 0 };
            raw.push(px[0][i].wrapping_sub(paeth(a, 0, 0)));
        }
        raw.push(3);
        for i in 0..6 {
            let a = if i >= 3 { px[1][i - 3] } else { 0 };
            raw.push(px[1][i].wrapping_sub(((a as u16 + px[0][i] as u16) / 2) as u8));
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&raw).unwrap();
        let mut png = SIGNATURE.to_vec();
        chunk(&mut png, b"IHDR", &[0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        chunk(&mut png, b"IDAT", &z.finish().unwrap());
        chunk(&mut png, b"IEND", &[]);
        assert_eq!(decode_rgb(&png).unwrap().rgb, px.concat());
    }
}
