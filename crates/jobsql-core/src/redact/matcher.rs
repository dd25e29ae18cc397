//! Finding every window of every [`Form`] in a text in one pass: the windows are the patterns
//! of one Aho-Corasick automaton (leftmost-longest), and each match is extended byte by byte
//! as far as any form holding that window goes on, so an echo of a whole secret is one span.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use memchr::memmem;

use super::forms::Form;

/// The windows of a set of forms.
#[derive(Default)]
pub struct Matcher {
    forms: Vec<Form>,
    /// The distinct windows.
    patterns: Vec<Vec<u8>>,
    /// For each pattern, where it occurs: (form, first unit).
    places: Vec<Vec<(usize, usize)>>,
    /// `None` when there are no patterns, or the automaton could not be built (then each
    /// pattern is searched on its own).
    automaton: Option<AhoCorasick>,
}

impl Matcher {
    /// The matcher of every window of `forms`.
    pub fn new(forms: Vec<Form>) -> Self {
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut places: Vec<Vec<(usize, usize)>> = Vec::new();
        for (f, form) in forms.iter().enumerate() {
            for (unit, window) in form.windows() {
                let id = *index.entry(window.to_vec()).or_insert_with(|| {
                    patterns.push(window.to_vec());
                    places.push(Vec::new());
                    patterns.len() - 1
                });
                places[id].push((f, unit));
            }
        }
        // A contiguous NFA: quick to build (it is rebuilt as secrets are registered) and to run.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .filter(|_| !patterns.is_empty());
        Matcher {
            forms,
            patterns,
            places,
            automaton,
        }
    }

    /// The spans of `text` holding a window, each extended as far as the form goes on;
    /// a search resumes after each span, so every window outside the spans is found.
    pub fn find(&self, text: &[u8]) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut from = 0;
        while from < text.len() {
            let Some((pattern, start, end)) = self.next(text, from) else {
                break;
            };
            let mut reach = end;
            for &(form, unit) in &self.places[pattern] {
                reach = reach.max(start + self.forms[form].extent(unit, &text[start..]));
            }
            spans.push((start, reach));
            from = reach;
        }
        spans
    }

    /// The leftmost window at or after `from`: (pattern, start, end).
    fn next(&self, text: &[u8], from: usize) -> Option<(usize, usize, usize)> {
        if let Some(automaton) = &self.automaton {
            let found = automaton.find(Input::new(text).range(from..))?;
            return Some((found.pattern().as_usize(), found.start(), found.end()));
        }
        // Without an automaton (none built): every pattern on its own, the leftmost wins.
        self.patterns
            .iter()
            .enumerate()
            .filter_map(|(id, p)| {
                memmem::find(&text[from..], p).map(|at| (id, from + at, from + at + p.len()))
            })
            .min_by_key(|&(_, start, end)| (start, std::cmp::Reverse(end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_is_extended_to_the_whole_secret() {
        let m = Matcher::new(vec![Form::plain("0123456789abcdef")]);
        assert_eq!(
            m.find(b"x 3456789abc y 0123456789abcdef"),
            [(2, 12), (15, 31)]
        );
        assert!(m.find(b"0123456 89abcde").is_empty());
        assert!(Matcher::new(Vec::new()).find(b"anything").is_empty());
    }
}
