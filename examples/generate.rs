//! Writes a realistic contact file (see `contact_import::generate`) to stdout.
//!
//! ```text
//! cargo run --release --example generate -- 200000 > big.csv
//! cargo run --release --example import -- big.csv \
//!     --tags "$(cargo run -q --example generate -- --print-tags)" --attributes "City,email,State"
//! ```
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use contact_import::generate::{ATTRIBUTES, RealisticFile, TAGS};

/// Write a realistic contact file (guide format) to stdout.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Data rows to write.
    #[arg(default_value_t = 200_000)]
    rows: usize,
    /// Another seed gives other rows.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Print the catalog's tags, comma-separated (for the import's --tags), instead of a file.
    #[arg(long)]
    print_tags: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = if args.print_tags {
        writeln!(out, "{}", TAGS.join(","))
    } else {
        eprintln!(
            "import it with: --tags \"{}\" --attributes \"{}\"",
            TAGS.join(","),
            ATTRIBUTES.join(",")
        );
        RealisticFile::new(args.rows)
            .with_seed(args.seed)
            .write_to(&mut out)
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
