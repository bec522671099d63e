//! One module per subcommand. Each exposes `Args` (clap) and `run(args)`.

pub mod parse;
