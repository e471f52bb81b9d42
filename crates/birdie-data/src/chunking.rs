//! Cutting text into bounded pieces before tokenisation.
//!
//! Tokenising one enormous line costs memory and time super-linearly in some pre-tokenisers, so documents are cut
//! into pieces of at most [`MAX_CHUNK_BYTES`] before encoding: whole lines are grouped while they fit; a longer line
//! is cut before a whitespace character (so the cut falls where the byte-level pre-tokeniser splits anyway), or at a
//! character boundary if the piece has no whitespace. Concatenating the pieces gives back the text exactly.

/// Largest piece handed to the tokenizer (64 KiB).
pub const MAX_CHUNK_BYTES: usize = 64 * 1024;

/// Splits `text` into consecutive pieces of at most `max_bytes` bytes (`max_bytes >= 4`) whose concatenation is
/// `text`. Pieces end at line ends where possible.
pub fn split_into_chunks(text: &str, max_bytes: usize) -> Vec<&str> {
    assert!(max_bytes >= 4, "a chunk must hold any UTF-8 character");
    let mut out = Vec::with_capacity(text.len() / max_bytes + 1);
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() <= max_bytes {
            out.push(rest);
            break;
        }
        let window = &rest.as_bytes()[..=max_bytes];
        // Prefer the last line end inside the window (the newline stays with its line).
        let cut = match window[..max_bytes].iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => cut_long_line(rest, max_bytes),
        };
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// Cut position for a piece of a line longer than `max_bytes`: before the last ASCII whitespace in the window if
/// there is one past the window's first quarter, otherwise the last character boundary.
fn cut_long_line(rest: &str, max_bytes: usize) -> usize {
    let bytes = rest.as_bytes();
    if let Some(i) = bytes[..=max_bytes].iter().rposition(|b| b.is_ascii_whitespace()) {
        if i > max_bytes / 4 && i <= max_bytes {
            return i;
        }
    }
    let mut cut = max_bytes;
    while !rest.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_are_grouped() {
        let text = "aaa\nbbb\nccc\n";
        assert_eq!(split_into_chunks(text, 8), vec!["aaa\nbbb\n", "ccc\n"]);
    }

    #[test]
    fn long_line_is_cut_before_whitespace() {
        let text = "word ".repeat(10);
        let chunks = split_into_chunks(&text, 12);
        assert!(chunks.iter().skip(1).all(|c| c.starts_with(' ')), "{chunks:?}");
        assert_eq!(chunks.concat(), text);
    }

    #[test]
    fn multibyte_characters_are_never_split() {
        let text = "日本語".repeat(100);
        let chunks = split_into_chunks(&text, 16);
        assert!(chunks.iter().all(|c| c.len() <= 16));
        assert_eq!(chunks.concat(), text);
    }

    proptest! {
        #[test]
        fn chunks_concatenate_to_text(text in "(\\PC|\n| ){0,400}", max in 4usize..64) {
            let chunks = split_into_chunks(&text, max);
            prop_assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= max));
            prop_assert_eq!(chunks.concat(), text);
        }
    }
}
