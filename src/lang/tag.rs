//! BCP 47 language tags, parsed leniently the way glossary files write them.

use std::fmt;

/// The analyser a language tag selects: one per UN language, and a generic one for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// Arabic.
    Ar,
    /// Chinese (any script or region).
    Zh,
    /// English.
    En,
    /// French.
    Fr,
    /// Russian.
    Ru,
    /// Spanish.
    Es,
    /// Any other language: normalisation and case folding only.
    Other,
}

impl Lang {
    /// The six official UN languages in UN order (ar, zh, en, fr, ru, es).
    pub const UN: [Lang; 6] = [Lang::Ar, Lang::Zh, Lang::En, Lang::Fr, Lang::Ru, Lang::Es];

    /// Every analyser, the six UN languages then the generic one.
    pub const ALL: [Lang; 7] = [
        Lang::Ar,
        Lang::Zh,
        Lang::En,
        Lang::Fr,
        Lang::Ru,
        Lang::Es,
        Lang::Other,
    ];

    /// Two-letter code of a UN language; `"und"` for the generic analyser.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::Zh => "zh",
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Ru => "ru",
            Lang::Es => "es",
            Lang::Other => "und",
        }
    }

    /// The analyser for a normalised primary subtag (`"fr"`, `"ug"`).
    pub fn from_primary(primary: &str) -> Lang {
        match primary {
            "ar" => Lang::Ar,
            "zh" => Lang::Zh,
            "en" => Lang::En,
            "fr" => Lang::Fr,
            "ru" => Lang::Ru,
            "es" => Lang::Es,
            _ => Lang::Other,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A parsed language tag: the primary subtag that keys a concept's languages, plus what else the
/// tag said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangTag {
    /// Analyser selected by the tag.
    pub lang: Lang,
    /// Lower-case primary subtag (`fr`, `zh`, `ug`); ISO 639-2 codes of the UN languages are
    /// mapped to their two-letter form.
    pub primary: String,
    /// Script subtag in title case (`Hans`), if any.
    pub script: Option<String>,
    /// Region subtag in upper case (`CA`, `419`), if any; the placeholders `XX` and `ZZ` are dropped.
    pub region: Option<String>,
}

/// A tag that cannot be read as BCP 47.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid language tag {tag:?}: {reason}")]
pub struct LangError {
    /// The tag as given.
    pub tag: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl LangTag {
    /// Parses a tag case-insensitively, accepting `_` for `-` (`fr-CA`, `zh_CN`, `EN`, `es_XX`).
    pub fn parse(tag: &str) -> Result<LangTag, LangError> {
        // the usual tag, a two-letter primary subtag alone in lower case (`fr`), is already in
        // its parsed form (every language section of every imported concept has a tag)
        if let [b'a'..=b'z', b'a'..=b'z'] = tag.as_bytes() {
            return Ok(LangTag {
                lang: Lang::from_primary(tag),
                primary: tag.to_string(),
                script: None,
                region: None,
            });
        }
        LangTag::parse_general(tag)
    }

    /// [`LangTag::parse`] of any tag.
    fn parse_general(tag: &str) -> Result<LangTag, LangError> {
        let err = |reason| LangError {
            tag: tag.to_string(),
            reason,
        };
        let cleaned = tag.trim().replace('_', "-");
        let mut parts = cleaned.split('-');
        let primary = parts.next().unwrap_or_default().to_ascii_lowercase();
        if primary.is_empty() {
            return Err(err("empty tag"));
        }
        if !(2..=8).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err("the primary subtag must be 2 to 8 letters"));
        }
        let primary = match primary.as_str() {
            "ara" => "ar",
            "zho" | "chi" | "cmn" => "zh",
            "eng" => "en",
            "fra" | "fre" => "fr",
            "rus" => "ru",
            "spa" => "es",
            other => other,
        }
        .to_string();
        let mut script = None;
        let mut region = None;
        for part in parts {
            if part.is_empty() {
                return Err(err("empty subtag"));
            }
            if !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(err("subtags are letters and digits only"));
            }
            let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
            if script.is_none() && region.is_none() && part.len() == 4 && alpha {
                let mut s = part.to_ascii_lowercase();
                s[..1].make_ascii_uppercase();
                script = Some(s);
            } else if region.is_none()
                && ((part.len() == 2 && alpha)
                    || (part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())))
            {
                let r = part.to_ascii_uppercase();
                if r != "XX" && r != "ZZ" {
                    region = Some(r);
                }
            }
            // variants and extensions do not change the analysis; they are dropped
        }
        Ok(LangTag {
            lang: Lang::from_primary(&primary),
            primary,
            script,
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let cases: &[(&str, &str, Option<&str>, Lang)] = &[
            ("fr", "fr", None, Lang::Fr),
            ("FR", "fr", None, Lang::Fr),
            ("fr-CA", "fr", Some("CA"), Lang::Fr),
            ("fr_fr", "fr", Some("FR"), Lang::Fr),
            ("zh-Hans", "zh", None, Lang::Zh),
            ("zh-CN", "zh", Some("CN"), Lang::Zh),
            ("zh-TW", "zh", Some("TW"), Lang::Zh),
            ("zh_CN", "zh", Some("CN"), Lang::Zh),
            ("zh-Hant-TW", "zh", Some("TW"), Lang::Zh),
            ("es_XX", "es", None, Lang::Es),
            ("es-419", "es", Some("419"), Lang::Es),
            ("ru_RU", "ru", Some("RU"), Lang::Ru),
            ("ar_AR", "ar", Some("AR"), Lang::Ar),
            ("EN-us", "en", Some("US"), Lang::En),
            ("ug-CN", "ug", Some("CN"), Lang::Other),
            ("eng", "en", None, Lang::En),
        ];
        for (input, primary, region, lang) in cases {
            let tag = LangTag::parse(input).unwrap();
            assert_eq!(tag.primary, *primary, "{input}");
            assert_eq!(tag.region.as_deref(), *region, "{input}");
            assert_eq!(tag.lang, *lang, "{input}");
        }
        assert_eq!(
            LangTag::parse("zh-Hans").unwrap().script.as_deref(),
            Some("Hans")
        );
        for bad in ["", "e", "fr-", "1a", "fr CA", "en-US!"] {
            assert!(LangTag::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn a_lower_case_two_letter_tag_parses_as_any_tag_does() {
        for a in b'a'..=b'z' {
            for b in b'a'..=b'z' {
                let tag = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(LangTag::parse(&tag), LangTag::parse_general(&tag), "{tag}");
            }
        }
        // tags just beside the short path take the general one
        for tag in ["Fr", "fr ", " fr", "fra", "f1"] {
            assert_eq!(LangTag::parse(tag), LangTag::parse_general(tag), "{tag:?}");
        }
    }
}
