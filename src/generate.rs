//! Realistic contact files, generated: for benchmarks, tests and trying the
//! crate on a 200,000-row import without real customer data.
//!
//! A file is a function of its row count and seed (the same bytes on every
//! machine and every run). Its rows look like what businesses upload, in the
//! guide's format (`Name,Mobile Number,Tags,Source,First Message,City,email,State`):
//!
//! * phones: about 40% ten bare digits, 20% `91` and ten digits, 20% `+91`
//!   and ten digits, 10% other countries (+1, +44, +971, +65), 5% written
//!   with spaces, dashes, parentheses or a leading 0, and 5% unusable (empty,
//!   too short, letters, a spreadsheet's scientific notation, a +91 number
//!   no operator has); about 3% of
//!   rows repeat an earlier row's phone written another way, so they update
//!   a contact the file added;
//! * names of one, two or three words, in Latin script, Devanagari, Tamil,
//!   Bengali and Gurmukhi, a few with stray spaces or a quoted comma;
//! * 0 to 3 tags of the 20 in [`TAGS`], joined with ` | ` (now and then one
//!   in the wrong case, which the import warns about), a source, a first
//!   message tag, and the attributes City, email and State, some empty.
//!
//! ```
//! use contact_import::generate::RealisticFile;
//! use contact_import::{ImportEngine, MemoryStore};
//!
//! let file = RealisticFile::new(1_000);
//! let engine = ImportEngine::new(file.catalog(), jiff::Timestamp::UNIX_EPOCH);
//! let mut store = MemoryStore::new();
//! let report = engine.import_bytes(&file.to_bytes(), &mut store)?;
//! assert_eq!(report.rows, 1_000);
//! assert!(report.updated > 0 && report.failed > 0);
//! assert_eq!(file.to_bytes(), RealisticFile::new(1_000).to_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Write};

use crate::catalog::Catalog;
use crate::splitmix::SplitMix64;

/// The header row of a generated file.
pub const HEADER: &str = "Name,Mobile Number,Tags,Source,First Message,City,email,State";

/// The tags of the catalog that goes with a generated file.
pub const TAGS: [&str; 20] = [
    "MBA",
    "Finance",
    "Marketing",
    "Engineering",
    "Design",
    "Sales",
    "Support",
    "VIP",
    "Lead",
    "Customer",
    "Partner",
    "Webinar",
    "Newsletter",
    "Trial",
    "Premium",
    "Student",
    "Alumni",
    "Event",
    "Referral",
    "Churned",
];

/// The custom attributes of the catalog that goes with a generated file.
pub const ATTRIBUTES: [&str; 3] = ["City", "email", "State"];

/// A generated contact file: a row count and a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealisticFile {
    rows: usize,
    seed: u64,
}

impl RealisticFile {
    /// A file of `rows` data rows (plus the header), with the default seed.
    pub fn new(rows: usize) -> RealisticFile {
        RealisticFile { rows, seed: 0x5eed }
    }

    /// The same number of rows, other rows.
    pub fn with_seed(self, seed: u64) -> RealisticFile {
        RealisticFile { seed, ..self }
    }

    /// Data rows in the file.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The catalog the file is meant to be imported with: [`TAGS`] and
    /// [`ATTRIBUTES`].
    pub fn catalog(&self) -> Catalog {
        Catalog::new().with_tags(TAGS).with_attributes(ATTRIBUTES)
    }

    /// The whole file (about 90 bytes a row).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rows * 96 + HEADER.len() + 1);
        self.write_lines(|line| {
            out.extend_from_slice(line.as_bytes());
            Ok(())
        })
        .unwrap_or_default();
        out
    }

    /// Writes the file to `out` (buffer it: rows are written one by one).
    pub fn write_to<W: Write>(&self, mut out: W) -> io::Result<()> {
        self.write_lines(|line| out.write_all(line.as_bytes()))?;
        out.flush()
    }

    fn write_lines(&self, mut emit: impl FnMut(&str) -> io::Result<()>) -> io::Result<()> {
        let mut line = String::with_capacity(256);
        line.push_str(HEADER);
        line.push('\n');
        emit(&line)?;
        let mut rows = Rows::new(self.seed, self.rows);
        for _ in 0..self.rows {
            line.clear();
            rows.write_row(&mut line);
            emit(&line)?;
        }
        Ok(())
    }
}

/// A phone number as the generator knows it: country code and national number.
#[derive(Clone, Copy)]
struct Number {
    country: Country,
    national: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Country {
    India,
    Us,
    Uk,
    Uae,
    Singapore,
}

impl Country {
    fn code(self) -> &'static str {
        match self {
            Country::India => "91",
            Country::Us => "1",
            Country::Uk => "44",
            Country::Uae => "971",
            Country::Singapore => "65",
        }
    }

    fn national_len(self) -> usize {
        match self {
            Country::India | Country::Us | Country::Uk => 10,
            Country::Uae => 9,
            Country::Singapore => 8,
        }
    }
}

/// Real US and Canadian area codes.
const AREA_CODES: [u64; 12] = [201, 212, 305, 312, 415, 416, 503, 541, 604, 617, 646, 718];

struct Rows {
    rng: SplitMix64,
    /// Every phone written so far, for rows that repeat one.
    earlier: Vec<Number>,
}

impl Rows {
    fn new(seed: u64, rows: usize) -> Rows {
        Rows {
            rng: SplitMix64::new(seed),
            earlier: Vec::with_capacity(rows),
        }
    }

    fn write_row(&mut self, line: &mut String) {
        let script = self.script();
        let (first, last) = self.name(line, script);
        line.push(',');
        self.phone(line);
        line.push(',');
        self.tags(line);
        line.push(',');
        line.push_str(self.source());
        line.push(',');
        if self.rng.percent(15) {
            line.push_str(self.rng.pick(&TAGS[..5]));
        }
        line.push(',');
        let (city, state) = self.rng.pick(&PLACES);
        if !self.rng.percent(10) {
            line.push_str(city);
        }
        line.push(',');
        self.email(line, script, first, last);
        line.push(',');
        if !self.rng.percent(15) {
            line.push_str(state);
        }
        line.push('\n');
    }

    fn script(&mut self) -> &'static Script {
        match self.rng.below(100) {
            0..70 => &SCRIPTS[0],
            70..82 => &SCRIPTS[1],
            82..88 => &SCRIPTS[2],
            88..94 => &SCRIPTS[3],
            _ => &SCRIPTS[4],
        }
    }

    /// Writes a name; returns its first and last word.
    fn name(&mut self, line: &mut String, script: &'static Script) -> (&'static str, &'static str) {
        let first = self.rng.pick(script.first);
        let last = self.rng.pick(script.last);
        let words = match self.rng.below(100) {
            0..15 => 1,
            15..85 => 2,
            _ => 3,
        };
        if words == 2 && script.latin && self.rng.percent(2) {
            // "Sharma, Rahul": a comma, so the cell is quoted.
            line.push_str(&format!("\"{last}, {first}\""));
            return (first, last);
        }
        let gap = if self.rng.percent(2) { "  " } else { " " };
        line.push_str(first);
        if words == 3 {
            line.push(' ');
            line.push_str(self.rng.pick(script.first));
        }
        if words > 1 {
            line.push_str(gap);
            line.push_str(last);
        }
        (first, if words > 1 { last } else { "" })
    }

    fn phone(&mut self, line: &mut String) {
        if !self.earlier.is_empty() && self.rng.percent(3) {
            let number = self.earlier[self.rng.below(self.earlier.len())];
            // Another way of writing it than the plain shapes most rows use.
            return self.write_spaced(line, number);
        }
        let roll = self.rng.below(100);
        if roll >= 95 {
            return self.unusable(line);
        }
        let country = match roll {
            85..95 => self
                .rng
                .pick(&[Country::Us, Country::Uk, Country::Uae, Country::Singapore]),
            _ => Country::India,
        };
        let number = self.number(country);
        self.earlier.push(number);
        let national = number.national;
        match roll {
            0..40 => line.push_str(&national.to_string()),
            40..60 => line.push_str(&format!("91{national}")),
            60..80 => line.push_str(&format!("+91{national}")),
            80..85 => self.write_spaced(line, number),
            _ if self.rng.percent(50) => line.push_str(&format!("+{}{national}", country.code())),
            _ => self.write_spaced(line, number),
        }
    }

    fn number(&mut self, country: Country) -> Number {
        let mut digits = String::with_capacity(10);
        match country {
            Country::India => {
                digits.push(self.rng.pick(&['9', '9', '9', '8', '8', '7', '7', '6']));
            }
            Country::Us => {
                digits.push_str(&self.rng.pick(&AREA_CODES).to_string());
                digits.push(char::from(b'2' + self.rng.below(8) as u8));
            }
            Country::Uk => digits.push_str(self.rng.pick(&["77", "78", "79", "74", "20"])),
            Country::Uae => digits.push_str(self.rng.pick(&["50", "52", "55", "56"])),
            Country::Singapore => digits.push_str(self.rng.pick(&["81", "87", "91", "96"])),
        }
        let missing = country.national_len() - digits.len();
        self.rng.digits(&mut digits, missing);
        Number {
            country,
            national: digits.parse().unwrap_or_default(),
        }
    }

    /// With spaces, dashes, parentheses, a trunk 0 or the 00 prefix.
    fn write_spaced(&mut self, line: &mut String, number: Number) {
        let national = number.national.to_string();
        let (head, tail) = national.split_at(national.len() / 2);
        let code = number.country.code();
        let text = match (number.country, self.rng.below(6)) {
            (Country::India, 0) => format!("0{national}"),
            (Country::India, 1) => format!("0{head} {tail}"),
            (Country::India, 2) => format!("{head}-{tail}"),
            (Country::India, 3) => format!("(+91) {head} {tail}"),
            (Country::Us, 0 | 1) => format!(
                "+1 ({}) {}-{}",
                &national[..3],
                &national[3..6],
                &national[6..]
            ),
            (_, 0 | 1) => format!("00{code} {head} {tail}"),
            (_, 2 | 3) => format!("+{code}-{head}-{tail}"),
            _ => format!("+{code} {head} {tail}"),
        };
        line.push_str(&text);
    }

    /// Empty, too short, letters, a spreadsheet's scientific notation, or
    /// +91 with a national number no operator has.
    fn unusable(&mut self, line: &mut String) {
        match self.rng.below(5) {
            0 => {}
            4 => {
                line.push_str("+91 5");
                self.rng.digits(line, 9);
            }
            1 => {
                let count = 5 + self.rng.below(3);
                self.rng.digits(line, count);
            }
            2 => {
                self.rng.digits(line, 5);
                line.push_str("abcde");
            }
            _ => {
                line.push_str("9.19");
                self.rng.digits(line, 3);
                line.push_str("E+11");
            }
        }
    }

    fn tags(&mut self, line: &mut String) {
        let count = match self.rng.below(100) {
            0..25 => 0,
            25..60 => 1,
            60..85 => 2,
            _ => 3,
        };
        for i in 0..count {
            if i > 0 {
                line.push_str(" | ");
            }
            let tag = self.rng.pick(&TAGS);
            if self.rng.percent(1) {
                line.push_str(&tag.to_lowercase());
            } else {
                line.push_str(tag);
            }
        }
    }

    fn source(&mut self) -> &'static str {
        if self.rng.percent(30) {
            return "";
        }
        self.rng.pick(&[
            "Website",
            "Facebook Ad",
            "Google Ad",
            "Referral",
            "Walk-in",
            "WhatsApp",
            "Event",
        ])
    }

    fn email(&mut self, line: &mut String, script: &Script, first: &str, last: &str) {
        if self.rng.percent(30) {
            return;
        }
        let domain = self
            .rng
            .pick(&["example.com", "example.in", "mail.example.org"]);
        let n = self.rng.below(1000);
        if script.latin {
            line.push_str(&first.to_lowercase());
            if !last.is_empty() {
                line.push('.');
                line.push_str(&last.to_lowercase());
            }
        } else {
            line.push_str("user");
        }
        line.push_str(&format!("{n}@{domain}"));
    }
}

struct Script {
    latin: bool,
    first: &'static [&'static str],
    last: &'static [&'static str],
}

const SCRIPTS: [Script; 5] = [
    Script {
        latin: true,
        first: &[
            "Aarav", "Vivaan", "Aditya", "Priya", "Ananya", "Diya", "Rohan", "Arjun", "Sneha",
            "Kavya", "Mohit", "Rahul", "Neha", "Pooja", "Vikram", "Harleen", "Fatima", "Imran",
            "Meera", "Karthik", "John", "Sarah",
        ],
        last: &[
            "Sharma", "Verma", "Iyer", "Nair", "Reddy", "Khan", "Singh", "Kaur", "Patel", "Mehta",
            "Gupta", "Das", "Rao", "Dua", "Menon", "Joshi", "Smith",
        ],
    },
    Script {
        latin: false,
        first: &["राहुल", "प्रिया", "अमित", "सुनीता", "विकास", "अंजलि"],
        last: &["शर्मा", "वर्मा", "गुप्ता", "सिंह"],
    },
    Script {
        latin: false,
        first: &["கார்த்திக்", "பிரியா", "அருண்", "மீனா"],
        last: &["ராஜா", "குமார்", "சுப்ரமணியம்"],
    },
    Script {
        latin: false,
        first: &["সৌরভ", "অনন্যা", "রাহুল", "দীপা"],
        last: &["গাঙ্গুলী", "বসু", "চ্যাটার্জি", "দাস"],
    },
    Script {
        latin: false,
        first: &["ਗੁਰਪ੍ਰੀਤ", "ਹਰਪ੍ਰੀਤ", "ਮਨਜੀਤ", "ਸਿਮਰਨ"],
        last: &["ਸਿੰਘ", "ਕੌਰ", "ਗਿੱਲ", "ਸੰਧੂ"],
    },
];

const PLACES: [(&str, &str); 14] = [
    ("Delhi", "Delhi"),
    ("Mumbai", "Maharashtra"),
    ("Pune", "Maharashtra"),
    ("Bengaluru", "Karnataka"),
    ("Chennai", "Tamil Nadu"),
    ("Kolkata", "West Bengal"),
    ("Hyderabad", "Telangana"),
    ("Ahmedabad", "Gujarat"),
    ("Jaipur", "Rajasthan"),
    ("Lucknow", "Uttar Pradesh"),
    ("Chandigarh", "Punjab"),
    ("Amritsar", "Punjab"),
    ("Kochi", "Kerala"),
    ("Bhopal", "Madhya Pradesh"),
];
