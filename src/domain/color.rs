//! Calendar colours: stored as `#rrggbb`, read from whatever a file or client sends (hex with
//! or without alpha, CSS names, `rgb()`), and named for RFC 7986's `COLOR`, whose value is a
//! CSS colour name.

/// A colour as markup may carry it: three bytes, so it can only ever write `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    /// What a calendar without a readable colour is drawn in (the palette's graphite).
    pub const GRAPHITE: Rgb = Rgb([0x61, 0x61, 0x61]);

    /// From a stored `#rrggbb`; `None` for anything else.
    pub fn from_hex(stored: &str) -> Option<Rgb> {
        // Digits only: `from_str_radix` would also take a sign.
        let hex =
            stored.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        let channel = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
        Some(Rgb([channel(0)?, channel(2)?, channel(4)?]))
    }
}

impl std::fmt::Display for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// `#rrggbb` (lower case) from a `#RRGGBB` the user typed; `None` for anything else.
pub fn typed_hex(text: &str) -> Option<String> {
    let color = text.trim().to_ascii_lowercase();
    let hex = color.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(color)
}

/// `#rrggbb` from any CSS colour (`#RGB`, `#RRGGBBAA` as Apple writes it, `steelblue`,
/// `rgb(…)`); alpha is dropped, since a calendar's colour is opaque.
pub fn from_css(text: &str) -> Option<String> {
    let parsed = csscolorparser::parse(text.trim()).ok()?;
    let [r, g, b, _] = parsed.to_rgba8();
    Some(format!("#{r:02x}{g:02x}{b:02x}"))
}

/// The CSS colour name nearest to `#rrggbb` (by distance in RGB, weighted for the eye), for
/// RFC 7986 `COLOR`; the exact hex goes alongside in `X-APPLE-CALENDAR-COLOR`.
pub fn nearest_css_name(hex: &str) -> &'static str {
    let [r, g, b] = rgb(hex);
    let distance = |[nr, ng, nb]: [u8; 3]| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        2 * d(r, nr) + 4 * d(g, ng) + 3 * d(b, nb)
    };
    csscolorparser::NAMED_COLORS
        .entries()
        // Two spellings share each grey; "grey" and "gray" are equally valid, pick one.
        .filter(|(name, _)| !name.contains("grey"))
        .min_by_key(|(name, rgb)| (distance(**rgb), **name))
        .map_or("gray", |(name, _)| name)
}

fn rgb(hex: &str) -> [u8; 3] {
    let channel = |range: std::ops::Range<usize>| {
        hex.get(range).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0)
    };
    [channel(1..3), channel(3..5), channel(5..7)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_clients_write() {
        assert_eq!(from_css("#FF2968FF").as_deref(), Some("#ff2968"));
        assert_eq!(from_css("#0b8043").as_deref(), Some("#0b8043"));
        assert_eq!(from_css("steelblue").as_deref(), Some("#4682b4"));
        assert_eq!(from_css(" #abc ").as_deref(), Some("#aabbcc"));
        assert_eq!(from_css("not a colour"), None);
        assert_eq!(from_css(""), None);
    }

    #[test]
    fn a_stored_colour_reads_back_as_three_bytes() {
        assert_eq!(Rgb::from_hex("#1a73e8"), Some(Rgb([0x1a, 0x73, 0xe8])));
        assert_eq!(Rgb([0x1a, 0x73, 0xe8]).to_string(), "#1a73e8");
        for bad in ["1a73e8", "#1a73e", "#1a73e8ff", "#gggggg", "#+1+2+3", "\"#><b>", "#ééé"] {
            assert_eq!(Rgb::from_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn typed_colours_are_exactly_six_hex_digits() {
        assert_eq!(typed_hex(" #1A73E8 ").as_deref(), Some("#1a73e8"));
        for bad in ["1a73e8", "#1a73e", "#1a73e8ff", "#gggggg", "", "#", "red"] {
            assert_eq!(typed_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_the_nearest_css_colour() {
        assert_eq!(nearest_css_name("#ff0000"), "red");
        assert_eq!(nearest_css_name("#4682b4"), "steelblue");
        assert_eq!(nearest_css_name("#808080"), "gray");
        // Every name it gives reads back as a colour.
        for hex in ["#1a73e8", "#0b8043", "#f6bf26", "#616161", "#000000", "#ffffff"] {
            assert!(from_css(nearest_css_name(hex)).is_some(), "{hex}");
        }
    }
}
