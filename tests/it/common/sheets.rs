//! Spreadsheets the tests write themselves: `.xlsx` with rust_xlsxwriter,
//! `.ods` as the zip of XML it is (no Rust crate writes ODS), and each
//! sheet's CSV as a spreadsheet would save it.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use zip::write::SimpleFileOptions;

/// One cell of a test sheet.
#[derive(Clone, Debug)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A date, formatted as one.
    Date(u16, u8, u8),
    /// A formula with its cached result.
    Formula(&'static str, f64),
}

pub use Cell::*;

pub fn text(s: &str) -> Cell {
    Text(s.to_owned())
}

/// A named sheet of rows (ragged rows are fine: a sheet has no width).
pub struct TestSheet {
    pub name: &'static str,
    pub rows: Vec<Vec<Cell>>,
}

impl Cell {
    /// The cell as a spreadsheet's CSV export holds it (numbers written in full).
    fn csv(&self) -> String {
        match self {
            Empty => String::new(),
            Text(s) => s.clone(),
            Number(n) | Formula(_, n) if n.fract() == 0.0 => format!("{}", *n as i64),
            Number(n) | Formula(_, n) => format!("{n}"),
            Date(y, m, d) => format!("{y:04}-{m:02}-{d:02}"),
        }
    }
}

impl TestSheet {
    /// The sheet saved as CSV: every row as wide as the widest.
    pub fn csv(&self) -> String {
        let width = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::new();
        {
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(&mut out);
            for row in &self.rows {
                let mut cells: Vec<String> = row.iter().map(Cell::csv).collect();
                cells.resize(width, String::new());
                writer.write_record(&cells).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }
}

/// The sheets as an `.xlsx` workbook.
pub fn xlsx(sheets: &[TestSheet]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet.name).unwrap();
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Empty => {}
                    Text(s) => {
                        worksheet.write_string(r, c, s).unwrap();
                    }
                    Number(n) => {
                        worksheet.write_number(r, c, *n).unwrap();
                    }
                    Date(y, m, d) => {
                        let when = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        worksheet
                            .write_datetime_with_format(r, c, &when, &date)
                            .unwrap();
                    }
                    Formula(f, cached) => {
                        let formula = Formula::new(*f).set_result(cached.to_string());
                        worksheet.write_formula(r, c, formula).unwrap();
                    }
                }
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The sheets as an `.ods` document.
pub fn ods(sheets: &[TestSheet]) -> Vec<u8> {
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>"#,
    );
    for sheet in sheets {
        content.push_str(&format!(
            r#"<table:table table:name="{}">"#,
            escape(sheet.name)
        ));
        for row in &sheet.rows {
            content.push_str("<table:table-row>");
            for cell in row {
                content.push_str(&match cell {
                    Empty => "<table:table-cell/>".to_owned(),
                    Text(s) => format!(
                        r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                        escape(s)
                    ),
                    Number(n) => format!(
                        r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                    ),
                    Date(y, m, d) => format!(
                        r#"<table:table-cell office:value-type="date" office:date-value="{y:04}-{m:02}-{d:02}"><text:p>{y:04}-{m:02}-{d:02}</text:p></table:table-cell>"#
                    ),
                    Formula(f, n) => format!(
                        r#"<table:table-cell table:formula="of:{}" office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#,
                        escape(f)
                    ),
                });
            }
            content.push_str("</table:table-row>");
        }
        content.push_str("</table:table>");
    }
    content.push_str("</office:spreadsheet></office:body></office:document-content>");
    ods_zip(&content, false)
}

/// An ODS zip around `content`; with `encrypted`, a manifest that says
/// the content is encrypted, as a password-protected document's does.
pub fn ods_zip(content: &str, encrypted: bool) -> Vec<u8> {
    let encryption = if encrypted {
        r#"<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AAAA"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="AAAA"/><manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:iteration-count="1024" manifest:salt="AAAA"/></manifest:encryption-data>"#
    } else {
        ""
    };
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{encryption}</manifest:file-entry></manifest:manifest>"#
    );
    zip_of(&[
        (
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet".as_bytes(),
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

/// A zip of these files, the first stored (as ODS wants its mimetype), the others deflated.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (i, (name, bytes)) in files.iter().enumerate() {
        let method = if i == 0 {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        out.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}
