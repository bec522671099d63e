//! One module per subcommand. Each exposes `Args` (clap) and `run(args)`.

pub mod eval;
pub mod parse;
pub mod publish;
pub mod run;
pub mod status;
pub mod tail;
