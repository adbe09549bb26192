//! Terms' written forms, packed: what matching compares a term with (its text, its tokens' byte
//! spans in it, their normalised forms) as one record in a per-language byte arena, laid out in
//! the order of the trie's nodes, so the terms ending at one node are read from one place (a few
//! cache lines) instead of a table entry and four allocations each.

/// A term's form, read from its record in a [`Forms`] arena.
#[derive(Debug, Clone, Copy)]
pub(super) struct Form<'a> {
    /// The term as the termbase writes it.
    pub text: &'a str,
    /// The normalised forms of its tokens, one after the other.
    norms: &'a str,
    /// Per token: its byte span in `text` and where its normalised form ends in `norms`, as
    /// three little-endian `u16`.
    nums: &'a [u8],
}

/// Bytes of a record's header: the token count (`u8`), the text's and the norms' lengths
/// (`u16` each).
const HEADER: usize = 5;
/// Bytes per token in a record.
const PER_TOKEN: usize = 6;

impl<'a> Form<'a> {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.nums.len() / PER_TOKEN
    }

    fn num(&self, at: usize) -> usize {
        usize::from(u16::from_le_bytes([self.nums[at], self.nums[at + 1]]))
    }

    /// Byte span of token `k` in [`Form::text`].
    pub fn span(&self, k: usize) -> (usize, usize) {
        (self.num(k * PER_TOKEN), self.num(k * PER_TOKEN + 2))
    }

    /// Token `k` as written.
    pub fn word(&self, k: usize) -> &'a str {
        let (a, b) = self.span(k);
        &self.text[a..b]
    }

    /// The tokens as written.
    pub fn words(self) -> impl Iterator<Item = &'a str> {
        (0..self.len()).map(move |k| self.word(k))
    }

    /// The normalised form of token `k`.
    pub fn norm(&self, k: usize) -> &'a str {
        let start = if k == 0 {
            0
        } else {
            self.num((k - 1) * PER_TOKEN + 4)
        };
        &self.norms[start..self.num(k * PER_TOKEN + 4)]
    }

    /// The normalised forms of the tokens.
    pub fn norms(self) -> impl Iterator<Item = &'a str> {
        (0..self.len()).map(move |k| self.norm(k))
    }
}

/// An arena of form records.
#[derive(Debug, Default)]
pub(super) struct Forms(Vec<u8>);

impl Forms {
    /// Appends the record of a term written `text` whose tokens have the byte spans and
    /// normalised forms `tokens`; returns where it starts. `None` when the term is too long for
    /// a record (more than 255 tokens or 65,535 bytes: no real term).
    pub fn push<'t>(
        &mut self,
        text: &str,
        tokens: impl ExactSizeIterator<Item = ((usize, usize), &'t str)> + Clone,
    ) -> Option<u32> {
        let count = u8::try_from(tokens.len()).ok()?;
        let norms_len: usize = tokens.clone().map(|(_, n)| n.len()).sum();
        let (text_len, norms_len) = (
            u16::try_from(text.len()).ok()?,
            u16::try_from(norms_len).ok()?,
        );
        let at = u32::try_from(self.0.len()).ok()?;
        self.0.push(count);
        self.0.extend(text_len.to_le_bytes());
        self.0.extend(norms_len.to_le_bytes());
        let mut end = 0u16;
        for ((a, b), norm) in tokens.clone() {
            end += norm.len() as u16;
            for n in [a as u16, b as u16, end] {
                self.0.extend(n.to_le_bytes());
            }
        }
        self.0.extend(text.as_bytes());
        for (_, norm) in tokens {
            self.0.extend(norm.as_bytes());
        }
        Some(at)
    }

    /// The record at `at`.
    pub fn get(&self, at: u32) -> Form<'_> {
        let bytes = &self.0[at as usize..];
        let count = usize::from(bytes[0]);
        let text_len = usize::from(u16::from_le_bytes([bytes[1], bytes[2]]));
        let norms_len = usize::from(u16::from_le_bytes([bytes[3], bytes[4]]));
        let (nums, rest) = bytes[HEADER..].split_at(count * PER_TOKEN);
        let (text, rest) = rest.split_at(text_len);
        // records are written from `&str`s whole, so they are UTF-8 at these bounds
        let text = std::str::from_utf8(text).unwrap_or_default();
        let norms = std::str::from_utf8(&rest[..norms_len]).unwrap_or_default();
        Form { text, norms, nums }
    }

    /// Copies the record at `at` of `other` to the end; returns where it starts here.
    pub fn copy_from(&mut self, other: &Forms, at: u32) -> u32 {
        let form = other.get(at);
        let len = HEADER + form.nums.len() + form.text.len() + form.norms.len();
        let here = self.0.len() as u32;
        self.0
            .extend_from_slice(&other.0[at as usize..at as usize + len]);
        here
    }

    pub fn heap_bytes(&self) -> usize {
        self.0.capacity()
    }

    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        let mut forms = Forms::default();
        let a = forms
            .push(
                "Conseil de sécurité",
                [((0, 7), "conseil"), ((8, 10), "de"), ((11, 21), "securite")].into_iter(),
            )
            .unwrap();
        let b = forms
            .push(
                "联合国",
                [((0, 3), "联"), ((3, 6), "合"), ((6, 9), "国")].into_iter(),
            )
            .unwrap();
        let f = forms.get(a);
        assert_eq!(f.text, "Conseil de sécurité");
        assert_eq!(f.len(), 3);
        assert_eq!(f.words().collect::<Vec<_>>(), ["Conseil", "de", "sécurité"]);
        assert_eq!(f.norms().collect::<Vec<_>>(), ["conseil", "de", "securite"]);
        let g = forms.get(b);
        assert_eq!((g.text, g.norm(2), g.span(1)), ("联合国", "国", (3, 6)));
        let mut other = Forms::default();
        let c = other.copy_from(&forms, b);
        assert_eq!(other.get(c).norms().collect::<String>(), "联合国");
        let long = "x".repeat(70_000);
        assert!(forms.push(&long, [((0, 1), "x")].into_iter()).is_none());
    }
}
