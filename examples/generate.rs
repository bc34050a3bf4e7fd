//! Writes a realistic contact file (see `contact_import::generate`) to stdout.
//!
//! ```text
//! cargo run --release --example generate -- 200000 > big.csv
//! cargo run --release --example import -- big.csv \
//!     --tags "$(cargo run -q --example generate -- --print-tags)" --attributes "City,email,State"
//! cargo run --release --example generate -- 200000 --xlsx big.xlsx
//! ```
//!
//! `--xlsx PATH` also writes the rows as a workbook, digits-only cells as
//! numbers (as a spreadsheet stores typed phones), the rest as text.
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
    /// Write the rows to PATH as an .xlsx workbook instead of CSV to stdout.
    #[arg(long, value_name = "PATH")]
    xlsx: Option<std::path::PathBuf>,
}

/// `csv` as a one-sheet workbook: cells of up to 15 digits as numbers.
fn write_xlsx(csv: &[u8], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record?.iter().enumerate() {
            let (r, c) = (u32::try_from(r)?, u16::try_from(c)?);
            let number =
                !cell.is_empty() && cell.len() <= 15 && cell.bytes().all(|b| b.is_ascii_digit());
            match cell.parse::<f64>() {
                Ok(value) if number => sheet.write_number(r, c, value)?,
                _ => sheet.write_string(r, c, cell)?,
            };
        }
    }
    workbook.save(path)?;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = &args.xlsx {
        let bytes = RealisticFile::new(args.rows)
            .with_seed(args.seed)
            .to_bytes();
        return match write_xlsx(&bytes, path) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
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
