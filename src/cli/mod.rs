//! One module per subcommand. Each exposes `Args` (clap) and `run(args)`.

pub mod eval;
pub mod parse;
pub mod publish;
pub mod run;
pub mod status;
pub mod tail;

/// An error and its causes on one line, each said once: a cause whose text an outer error
/// already includes (many errors print their source in their own message) is not repeated.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot provision {what}: {source}")]
    struct Provision {
        what: &'static str,
        source: Inner,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("request failed: {source}")]
    struct Inner {
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_printed_once_on_one_line() {
        let e = anyhow::Error::new(Provision {
            what: "key-value bucket pagewire_stitch",
            source: Inner {
                source: std::io::Error::other("data did not match\nany variant"),
            },
        });
        assert_eq!(
            one_line(&e),
            "cannot provision key-value bucket pagewire_stitch: request failed: data did not \
             match any variant"
        );
        let e = anyhow::Error::new(std::io::Error::other("inner")).context("outer");
        assert_eq!(one_line(&e), "outer: inner");
    }
}
