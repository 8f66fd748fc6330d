//! [`Lang`]: the language of a response's messages, negotiated from
//! `Accept-Language` (RFC 9110 §12.5.4): Vietnamese unless the client
//! prefers English. Codes (`extensions.code`) never change with it.

/// A language the API answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Tiếng Việt: the default.
    #[default]
    Vi,
    /// English, on request.
    En,
}

impl Lang {
    /// The language of an `Accept-Language` header: the supported one of
    /// highest weight (`vi`, `vi-VN`, `en`, `en-US`, …; `*` is the
    /// default), Vietnamese on a tie, without a header, or when nothing
    /// listed is supported.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::Vi;
        };
        let mut best: Option<(u32, Lang)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(str::trim))
                .map_or(Some(1000), parse_weight);
            let Some(weight) = weight else { continue };
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "vi" | "*" => Lang::Vi,
                "en" => Lang::En,
                _ => continue,
            };
            if weight == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((w, l)) => weight > w || (weight == w && lang == Lang::Vi && l != Lang::Vi),
            };
            if better {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::Vi, |(_, lang)| lang)
    }

    /// The `Content-Language` of a response in this language.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// A weight `q=0.8` in thousandths; `None` when malformed.
fn parse_weight(q: &str) -> Option<u32> {
    let value: f64 = q.parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_unless_english_is_preferred() {
        assert_eq!(Lang::negotiate(None), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(Some("vi-VN,vi;q=0.9,en;q=0.8")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en;q=0.5, vi;q=0.8")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("vi;q=0.2, EN-gb;q=0.7")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr, de")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("fr, en;q=0.1")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en;q=0, *")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en;q=abc")), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en, vi")), Lang::Vi);
    }
}
