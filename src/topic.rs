//! The output topics: the one place that names them.
//!
//! A [`Topic`] gives the name used everywhere a topic is named: the config section
//! (`[output.<label>]`), the `topic` label of the metrics, the `pagewire tail` argument. Its
//! default subject prefix and stream are the defaults of `[output.<label>]`; the configured ones
//! (read through [`crate::config::OutputSettings::topic`]) build the subjects, in
//! [`crate::route`]. A leaf module (it imports only the generated types), so that the config,
//! the router and the stitching core can all use it without importing each other.

use crate::proto::ArticleKind;

/// One output topic. Messages go to `<subject_prefix>.<publication>` on the topic's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Topic {
    /// Stories, briefs and photo stories (not teasers), for search indexers.
    Search,
    /// Every article of every kind.
    Archive,
    /// Articles matching an alert rule.
    Alert,
    /// The page-level message (article ids, raw text, hash).
    Pages,
    /// Dead letters: input pagewire could not process.
    Dlq,
    /// Jumps and see-also pointers left unresolved at the stitch timeout.
    Unresolved,
}

impl Topic {
    /// Every topic, in the order of the config file.
    pub const ALL: [Topic; 6] = [
        Topic::Search,
        Topic::Archive,
        Topic::Alert,
        Topic::Pages,
        Topic::Dlq,
        Topic::Unresolved,
    ];

    /// The topic's name: config section, metrics label, CLI value, message-id suffix.
    pub const fn label(self) -> &'static str {
        match self {
            Topic::Search => "search",
            Topic::Archive => "archive",
            Topic::Alert => "alert",
            Topic::Pages => "pages",
            Topic::Dlq => "dlq",
            Topic::Unresolved => "unresolved",
        }
    }

    /// Subject prefix when `output.<label>.subject_prefix` is not set.
    pub const fn default_subject_prefix(self) -> &'static str {
        match self {
            Topic::Search => "articles.search",
            Topic::Archive => "articles.archive",
            Topic::Alert => "articles.alert",
            Topic::Pages => "pages.archive",
            Topic::Dlq => "pages.dlq",
            Topic::Unresolved => "articles.unresolved",
        }
    }

    /// The topic's letter in the benchmark chunker's plan (`s:1234,a:567,...`, see
    /// [`crate::route::chunk`]).
    pub const fn letter(self) -> char {
        match self {
            Topic::Search => 's',
            Topic::Archive => 'a',
            Topic::Alert => 'l',
            Topic::Pages => 'p',
            Topic::Dlq => 'd',
            Topic::Unresolved => 'u',
        }
    }

    /// The topic a plan letter names.
    pub fn from_letter(letter: &str) -> Option<Topic> {
        Topic::ALL
            .into_iter()
            .find(|t| letter.len() == 1 && letter.starts_with(t.letter()))
    }

    /// Stream when `output.<label>.stream` is not set.
    pub const fn default_stream(self) -> &'static str {
        match self {
            Topic::Search => "ARTICLES_SEARCH",
            Topic::Archive => "ARTICLES_ARCHIVE",
            Topic::Alert => "ARTICLES_ALERT",
            Topic::Pages => "PAGES_ARCHIVE",
            Topic::Dlq => "PAGES_DLQ",
            Topic::Unresolved => "ARTICLES_UNRESOLVED",
        }
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Whether an article of this kind goes to [`Topic::Search`] (everything with a body of its
/// own).
pub fn is_searchable(kind: i32) -> bool {
    kind == ArticleKind::Story as i32
        || kind == ArticleKind::Brief as i32
        || kind == ArticleKind::Photo as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    #[test]
    fn labels_are_distinct_and_are_the_cli_names() {
        let labels: std::collections::BTreeSet<_> = Topic::ALL.iter().map(|t| t.label()).collect();
        assert_eq!(labels.len(), Topic::ALL.len());
        for t in Topic::ALL {
            let cli = t.to_possible_value().expect("every topic is a CLI value");
            assert_eq!(cli.get_name(), t.label());
        }
        assert_eq!(Topic::value_variants(), Topic::ALL);
        for t in Topic::ALL {
            assert_eq!(Topic::from_letter(&t.letter().to_string()), Some(t));
        }
        assert_eq!(Topic::from_letter("x"), None);
        assert_eq!(Topic::from_letter("sa"), None);
    }
}
