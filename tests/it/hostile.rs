//! A catalogue of hostile files: each row is a file a real user could
//! upload, with what the import must do with it. Nothing panics, and a file
//! that cannot be imported is refused whole with a clear error.

use std::io::Cursor;

use crate::common::*;
use contact_import::{
    FailureCode, FileErrorKind, ImportError, ImportOptions, ImportReport, MemoryStore,
};

/// What a file must give.
enum Expect {
    /// Refused before anything is written, with this kind of error.
    Refused(fn(&FileErrorKind) -> bool),
    /// Imported: this many contacts added, and these rows failing with these codes.
    Rows(u64, &'static [(u64, FailureCode)]),
}
use Expect::*;

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut bytes = if little_endian {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        let pair = if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        bytes.extend_from_slice(&pair);
    }
    bytes
}

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn with_header(rows: &str) -> Vec<u8> {
    format!("Name,Phone,City\n{rows}").into_bytes()
}

fn many_rows(n: usize) -> Vec<u8> {
    let mut file = String::from("Name,Phone\n");
    for i in 0..n {
        file.push_str(&format!("Person {i},98{:08}\n", i % 100_000_000));
    }
    file.into_bytes()
}

fn cases() -> Vec<(&'static str, Vec<u8>, ImportOptions, Expect)> {
    let d = ImportOptions::default;
    let cp1252 = d().with_encoding(Some(contact_import::encoding_rs::WINDOWS_1252));
    let mut junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    junk.extend_from_slice(b"\n\xff\xfe\x00,,\n");
    vec![
        (
            "empty file",
            text(""),
            d(),
            Refused(|k| matches!(k, FileErrorKind::Empty)),
        ),
        ("header only", text("Name,Phone\n"), d(), Rows(0, &[])),
        (
            "BOM only",
            text("\u{feff}"),
            d(),
            Refused(|k| matches!(k, FileErrorKind::Empty)),
        ),
        (
            "only newlines",
            text("\n\n\r\n"),
            d(),
            Refused(|k| matches!(k, FileErrorKind::Empty)),
        ),
        (
            "only whitespace",
            text("   \n \t \n"),
            d(),
            // Blank rows are no header: nothing but them is an empty file.
            Refused(|k| matches!(k, FileErrorKind::Empty)),
        ),
        (
            "binary junk",
            junk,
            d(),
            Refused(|k| {
                matches!(
                    k,
                    FileErrorKind::HeaderNotUtf8 | FileErrorKind::MissingColumn { .. }
                )
            }),
        ),
        (
            "NUL byte in a name",
            with_header("As\0ha,9876543210,Pune\nRavi,9876543211,Agra\n"),
            d(),
            Rows(1, &[(2, FailureCode::ControlCharacter)]),
        ),
        (
            "NUL in an ignored column",
            text("Name,Phone,Notes\nAsha,9876543210,x\0y\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "UTF-16 LE with BOM, tab-delimited (Excel Unicode Text)",
            utf16("Name\tPhone\tCity\nCafé Asha\t9876543210\tPune\n", true),
            d(),
            Rows(1, &[]),
        ),
        (
            "UTF-16 BE with BOM",
            utf16("Name,Phone\nराहुल,9876543210\n", false),
            d(),
            Rows(1, &[]),
        ),
        (
            "UTF-16 without BOM",
            utf16("Name,Phone\nAsha,9876543210\n", true)[2..].to_vec(),
            d(),
            Refused(|k| matches!(k, FileErrorKind::MissingColumn { .. })),
        ),
        (
            "Windows-1252 read as UTF-8",
            b"Name,Phone\nCaf\xe9,9876543210\nAsha,9876543211\n".to_vec(),
            d(),
            Rows(1, &[(2, FailureCode::InvalidUtf8)]),
        ),
        (
            "Windows-1252 with the option",
            b"Name,Phone\nCaf\xe9,9876543210\n".to_vec(),
            cp1252,
            Rows(1, &[]),
        ),
        (
            "invalid UTF-8 in an ignored column",
            b"Name,Phone,Notes\nAsha,9876543210,\xff\n".to_vec(),
            d(),
            Rows(1, &[]),
        ),
        (
            "semicolon-delimited",
            text("Name;Phone;City\nAsha;9876543210;Pune\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "tab-delimited",
            text("Name\tPhone\nAsha\t9876543210\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "commas inside semicolon cells",
            text("Name;Phone;City\n\"Rao, Asha\";9876543210;Pune, MH\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "delimiter set in options",
            text("Name;Phone;w,x,y,z\nAsha;9876543210;1,2,3,4\n"),
            d().with_delimiter(Some(b';')),
            Rows(1, &[]),
        ),
        (
            "unbalanced quote swallows the rest",
            with_header("Asha,9876543210,Pune\n\"Ravi,9876543211,Agra\nMeera,9876543212,Goa\n"),
            d(),
            Rows(1, &[(3, FailureCode::FieldCountMismatch)]),
        ),
        (
            "10 MiB single field",
            format!(
                "Name,Phone\n{},9876543210\nAsha,9876543211\n",
                "x".repeat(10 << 20)
            )
            .into_bytes(),
            d(),
            Rows(1, &[(2, FailureCode::RowTooLarge)]),
        ),
        (
            "100,000 columns",
            format!(
                "Name,Phone{}\nAsha,9876543210{}\n",
                ",c".repeat(100_000),
                ",".repeat(100_000)
            )
            .into_bytes(),
            d(),
            Refused(|k| matches!(k, FileErrorKind::HeaderTooLarge)),
        ),
        (
            "100,000 columns with a higher limit",
            format!(
                "Name,Phone{}\nAsha,9876543210{}\n",
                ",c".repeat(99_998),
                ",".repeat(99_998)
            )
            .into_bytes(),
            d().with_max_fields(100_000),
            Rows(1, &[]),
        ),
        (
            "blank header cells",
            text(",,\nAsha,9876543210,\n"),
            d(),
            Refused(|k| matches!(k, FileErrorKind::MissingColumn { .. })),
        ),
        (
            "duplicate headers",
            text("Name,Phone,Phone\nAsha,9876543210,9876543211\n"),
            d(),
            Refused(|k| matches!(k, FileErrorKind::DuplicateColumn { .. })),
        ),
        (
            "duplicate unknown headers",
            text("Name,Phone,Notes,Notes\nAsha,9876543210,a,b\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "emoji name",
            with_header("😀 Party Person,9876543210,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "right-to-left name",
            with_header("محمد علي,9876543210,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "zero-width characters in a name",
            with_header("\u{200b}As\u{200b}ha\u{feff} Rao,9876543210,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "only zero-width characters as a name",
            with_header("\u{200b}\u{200b},9876543210,\n"),
            d(),
            Rows(0, &[(2, FailureCode::MissingName)]),
        ),
        (
            "Devanagari digits",
            with_header("Asha,९८७६५४३२१०,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "full-width digits",
            with_header("Asha,＋９１９８７６５４３２１０,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "zero-width space in a phone",
            with_header("Asha,98765\u{200b}43210,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "non-breaking space in a phone",
            with_header("Asha,98765\u{a0}43210,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "extension",
            with_header("Asha,9876543210 x123,\n"),
            d(),
            Rows(0, &[(2, FailureCode::InvalidPhone)]),
        ),
        (
            "letters",
            with_header("Asha,98765abcde,\n"),
            d(),
            Rows(0, &[(2, FailureCode::InvalidPhone)]),
        ),
        (
            "scientific notation",
            with_header("Asha,9.19876E+11,\n"),
            d(),
            Rows(0, &[(2, FailureCode::PhoneScientificNotation)]),
        ),
        (
            "a float with every digit",
            with_header("Asha,919876543452.0,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "formula as a name",
            with_header("\"=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\",9876543210,\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "200,001 data rows",
            many_rows(200_001),
            d(),
            Refused(|k| matches!(k, FileErrorKind::TooManyRows { max: 200_000 })),
        ),
        (
            "CR line endings",
            text("Name,Phone\rAsha,9876543210\rRavi,9876543211\r"),
            d(),
            Rows(2, &[]),
        ),
        (
            "no final newline",
            text("Name,Phone\nAsha,9876543210"),
            d(),
            Rows(1, &[]),
        ),
        (
            "blank lines and blank rows between rows",
            text("Name,Phone\n\nAsha,9876543210\n,\n\nRavi,9876543211\n"),
            d(),
            Rows(2, &[]),
        ),
        (
            "extra and missing fields",
            with_header("Asha,9876543210,Pune,extra\nRavi,9876543211\n"),
            d(),
            Rows(
                0,
                &[
                    (2, FailureCode::FieldCountMismatch),
                    (3, FailureCode::FieldCountMismatch),
                ],
            ),
        ),
        (
            "too many digits",
            with_header("Asha,+1234567890123456789,\n"),
            d(),
            Rows(0, &[(2, FailureCode::InvalidPhone)]),
        ),
        (
            "a lone plus",
            with_header("Asha,+,\n"),
            d(),
            Rows(0, &[(2, FailureCode::MissingPhone)]),
        ),
        (
            "quoted headers with a BOM",
            text("\u{feff}\"Name\",\"Phone\"\n\"Asha\",\"9876543210\"\n"),
            d(),
            Rows(1, &[]),
        ),
        (
            "a plus in the middle",
            with_header("Asha,98765+43210,\n"),
            d(),
            Rows(0, &[(2, FailureCode::InvalidPhone)]),
        ),
        (
            "a control character in a phone",
            with_header("Asha,98765\u{7}43210,\n"),
            d(),
            Rows(0, &[(2, FailureCode::ControlCharacter)]),
        ),
    ]
}

fn run(
    bytes: &[u8],
    options: ImportOptions,
) -> (Result<ImportReport, contact_import::FileError>, MemoryStore) {
    let engine = engine_with(options);
    let mut store = MemoryStore::new();
    let result = match engine.import(Cursor::new(bytes), &mut store) {
        Ok(report) => Ok(report),
        Err(ImportError::File(e)) => Err(e),
        Err(other) => panic!("unexpected {other}"),
    };
    (result, store)
}

#[test]
fn every_hostile_file_has_its_expected_outcome() {
    let cases = cases();
    assert!(cases.len() >= 40, "the catalogue has {} files", cases.len());
    for (name, bytes, options, expect) in cases {
        let (result, store) = run(&bytes, options);
        match (expect, result) {
            (Refused(kind), Err(error)) => {
                assert!(
                    kind(error.kind()),
                    "{name}: refused for the wrong reason: {error}"
                );
                assert!(store.is_empty(), "{name}: wrote before refusing");
                assert!(!error.to_string().is_empty());
            }
            (Rows(added, failures), Ok(report)) => {
                let got: Vec<_> = report
                    .failures
                    .iter()
                    .map(|f| (f.position.row, f.code))
                    .collect();
                assert_eq!(got, failures, "{name}: failures ({:?})", report.failures);
                assert_eq!(report.added, added, "{name}: added");
                assert_eq!(store.len() as u64, added, "{name}: stored");
                assert!(
                    report.failures.iter().all(|f| !f.message.is_empty()),
                    "{name}"
                );
            }
            (Refused(_), Ok(report)) => panic!("{name}: expected a refusal, got {report:?}"),
            (Rows(..), Err(error)) => panic!("{name}: refused: {error}"),
        }
    }
}

#[test]
fn decoded_files_keep_their_text() {
    let (result, store) = run(
        &utf16("Name\tPhone\tCity\nCafé Asha\t9876543210\tPuné\n", true),
        ImportOptions::default(),
    );
    result.unwrap();
    let asha = contact(&store, "+919876543210");
    assert_eq!(
        (asha.name(), asha.attributes.get("City")),
        ("Café Asha", Some("Puné"))
    );

    let options =
        ImportOptions::new().with_encoding(Some(contact_import::encoding_rs::WINDOWS_1252));
    let (_, store) = run(b"Name,Phone\nCaf\xe9 \x80,9876543210\n", options);
    assert_eq!(contact(&store, "+919876543210").name(), "Café €");
}

#[test]
fn names_lose_invisible_characters_but_keep_joiners() {
    let (_, store) = run(
        &with_header("\u{200b}As\u{200b}ha\u{feff} Rao,9876543210,\nक्\u{200d}ष,9876543211,\n"),
        ImportOptions::default(),
    );
    assert_eq!(contact(&store, "+919876543210").name(), "Asha Rao");
    assert_eq!(contact(&store, "+919876543211").name(), "क्\u{200d}ष");
}

#[test]
fn an_unclosed_quote_is_explained() {
    let (result, _) = run(
        &with_header("\"Ravi,9876543211,Agra\nMeera,9876543212,Goa\n"),
        ImportOptions::default(),
    );
    let report = result.unwrap();
    assert!(
        report.failures[0].message.contains("quote"),
        "{}",
        report.failures[0].message
    );
}

/// Spreadsheet uploads that are not what they claim, or are built to hurt.
#[cfg(feature = "spreadsheet")]
mod spreadsheets {
    use std::io::{Cursor, Write};

    use crate::common::sheets::*;
    use crate::common::*;
    use contact_import::{
        FileErrorKind, ImportError, ImportOptions, ImportReport, MemoryStore, SpreadsheetFormat,
    };

    fn import(
        bytes: &[u8],
        format: SpreadsheetFormat,
        options: ImportOptions,
    ) -> (
        Result<ImportReport, ImportError<std::convert::Infallible>>,
        MemoryStore,
    ) {
        let mut store = MemoryStore::new();
        let result =
            engine_with(options).import_spreadsheet(Cursor::new(bytes), format, &mut store, |_| {});
        (result, store)
    }

    /// Refused before anything is written, with a message holding `says`.
    fn assert_refused(bytes: &[u8], format: SpreadsheetFormat, says: &str) -> String {
        let (result, store) = import(bytes, format, ImportOptions::default());
        assert!(store.contacts().is_empty());
        match result {
            Err(ImportError::File(e)) => {
                let message = e.to_string();
                assert!(message.contains(says), "{format:?}: {message}");
                message
            }
            other => panic!("{format:?}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_zip_that_is_not_a_spreadsheet_is_refused() {
        let zip = zip_of(&[("readme.txt", b"hello"), ("data.csv", b"Name,Phone\n")]);
        for format in [SpreadsheetFormat::Xlsx, SpreadsheetFormat::Ods] {
            let message = assert_refused(&zip, format, "not a readable");
            assert!(message.contains("spreadsheet program"), "{message}");
        }
        // Nor is a CSV file, or nothing at all.
        for format in [
            SpreadsheetFormat::Xlsx,
            SpreadsheetFormat::Xls,
            SpreadsheetFormat::Ods,
        ] {
            assert_refused(b"Name,Phone\nAsha,9876543210\n", format, "not a readable");
            assert_refused(b"", format, "not a readable");
        }
    }

    #[test]
    fn an_encrypted_workbook_is_refused_with_what_to_do() {
        let content = "<office:document-content/>";
        assert_refused(
            &ods_zip(content, true),
            SpreadsheetFormat::Ods,
            "remove the password",
        );
        // A password-protected .xlsx is an OLE container holding the
        // encrypted package, not a zip.
        let mut ole = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        ole.create_stream("EncryptionInfo")
            .unwrap()
            .write_all(&[4, 0, 4, 0])
            .unwrap();
        ole.create_stream("EncryptedPackage")
            .unwrap()
            .write_all(&[0; 64])
            .unwrap();
        ole.flush().unwrap();
        let bytes = ole.into_inner().into_inner();
        assert_refused(&bytes, SpreadsheetFormat::Xlsx, "remove the password");
    }

    /// An .xlsx of one sheet whose XML is `rows` rows of one name and one
    /// phone, with or without its dimension: streamed into the zip, never
    /// held whole.
    fn tall_xlsx(rows: u32, dimension: Option<u32>) -> Vec<u8> {
        use zip::write::SimpleFileOptions;
        let files: [(&str, &str); 4] = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Tall" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
        ];
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        // Stored, not deflated: deflating a million rows is most of a debug
        // test's time.
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, text) in files {
            out.start_file(name, options).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        out.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let mut xml = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
        );
        if let Some(declared) = dimension {
            xml.push_str(&format!(r#"<dimension ref="A1:B{declared}"/>"#));
        }
        xml.push_str(r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Phone</t></is></c></row>"#);
        for r in 2..=rows {
            if r <= 5_000 {
                xml.push_str(&format!(
                    r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>N</t></is></c><c r="B{r}"><v>{}</v></c></row>"#,
                    9_800_000_000u64 + u64::from(r)
                ));
            } else {
                // Past the rows any test imports, the shortest row that is one.
                xml.push_str("<row><c><v>1</v></c></row>");
            }
            if xml.len() > 1 << 16 {
                out.write_all(xml.as_bytes()).unwrap();
                xml.clear();
            }
        }
        xml.push_str("</sheetData></worksheet>");
        out.write_all(xml.as_bytes()).unwrap();
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn a_sheet_of_1048576_rows_is_refused_by_max_rows_before_any_write() {
        // With its dimension, the count pass reads only that; without, it
        // streams the rows and stops one past the limit (a small one here,
        // to keep the test quick).
        for (dimension, max) in [(Some(1_048_576), 200_000), (None, 1_000)] {
            let bytes = tall_xlsx(1_048_576, dimension);
            let options = ImportOptions::new().with_max_rows(max);
            let (result, store) = import(&bytes, SpreadsheetFormat::Xlsx, options);
            assert!(store.contacts().is_empty());
            match result {
                Err(ImportError::File(e)) => assert!(
                    matches!(e.kind(), FileErrorKind::TooManyRows { max: m } if *m == max),
                    "{e}"
                ),
                other => panic!("dimension {dimension:?}: expected a refusal, got {other:?}"),
            }
        }
        // The same sheet within the limit imports every row.
        let options = ImportOptions::new().with_max_rows(1_048_575);
        let bytes = tall_xlsx(3_000, None);
        let (result, _) = import(&bytes, SpreadsheetFormat::Xlsx, options);
        assert_eq!(result.unwrap().added, 2_999);
    }

    #[test]
    fn a_sheet_that_declares_fewer_rows_than_it_holds_stops_at_the_declared_end() {
        // Declares 100 rows (99 data rows, within the limit), holds 3,000.
        let bytes = tall_xlsx(3_000, Some(100));
        let options = ImportOptions::new()
            .with_max_rows(1_000)
            .with_batch_size(10);
        let (result, store) = import(&bytes, SpreadsheetFormat::Xlsx, options);
        match result {
            Err(ImportError::Read { error, report }) => {
                assert!(
                    error.to_string().contains("row 101 is past the 100 rows"),
                    "{error}"
                );
                assert!(
                    report.rows <= 99,
                    "no row past the declared ones: {}",
                    report.rows
                );
                assert!(store.len() <= 99);
            }
            other => panic!("expected a read error, got {other:?}"),
        }
    }

    #[test]
    fn a_cell_of_32767_characters_imports_as_its_csv_does() {
        let long = "न".repeat(32_767);
        let sheet = TestSheet {
            name: "Long",
            rows: vec![
                vec![text("Name"), text("Phone"), text("City")],
                vec![text("Asha"), text("9876543210"), text(&long)],
                vec![text(&long), text("9876543211"), text("Pune")],
            ],
        };
        let catalog_options = ImportOptions::default();
        for (bytes, format) in [
            (xlsx(std::slice::from_ref(&sheet)), SpreadsheetFormat::Xlsx),
            (ods(std::slice::from_ref(&sheet)), SpreadsheetFormat::Ods),
        ] {
            let (result, store) = import(&bytes, format, catalog_options.clone());
            let report = result.unwrap();
            let mut csv_store = MemoryStore::new();
            let csv = engine_with(catalog_options.clone())
                .import(Cursor::new(sheet.csv()), &mut csv_store)
                .unwrap();
            assert_eq!(
                (report.added, report.failed),
                (csv.added, csv.failed),
                "{format:?}"
            );
            assert_eq!(snapshot(&store), snapshot(&csv_store));
            assert_eq!(
                contact(&store, "+919876543210")
                    .attributes
                    .get("City")
                    .map(str::len),
                Some(long.len())
            );
            // Under a smaller row limit the row fails, as in CSV, unread.
            let small = ImportOptions::new().with_max_row_bytes(50_000);
            let (result, _) = import(&bytes, format, small);
            let codes: Vec<_> = result.unwrap().failures.iter().map(|f| f.code).collect();
            assert_eq!(codes, [contact_import::FailureCode::RowTooLarge; 2]);
        }
    }
}
