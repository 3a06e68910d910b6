//! The `stackc` binary: parse the command line, run the command, map the outcome to an exit code.
//! Everything else lives in the library (`stackc::cli`).

use std::process::ExitCode;

fn main() -> ExitCode {
    stackc::cli::main()
}
