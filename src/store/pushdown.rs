//! A [`Filter`] as a SQL `WHERE` condition with bound parameters, for the
//! database stores: the push-down of segments.
//!
//! Every condition that has a faithful translation becomes SQL; the others
//! (today only a non-empty [`Filter::NameContains`], whose Unicode case
//! folding SQL does not do) become `TRUE`, a coarser prefilter, and mark the
//! whole condition inexact: the store then checks [`Filter::matches`] on each
//! row the query returns. A `NOT` over an inexact condition cannot be a
//! prefilter (it would drop rows), so it becomes `TRUE` too.
//!
//! Each exact piece is never SQL `NULL`, so `NOT` keeps its meaning.

use jiff::Timestamp;

use crate::contact::Status;
use crate::filter::{Filter, TimeRange};

/// A value bound to a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// Text, compared exactly.
    Text(String),
    /// An instant, in whole microseconds since the Unix epoch.
    Micros(i64),
}

/// What differs between the SQL of SQLite and of PostgreSQL.
pub(crate) trait Dialect {
    /// The placeholder of the `n`th parameter (from 1), with a cast if the
    /// dialect needs one.
    fn placeholder(&self, n: usize, param: &Param) -> String;
    /// True when the contact's tags hold the tag bound at `tag`.
    fn has_tag(&self, tag: &str) -> String;
    /// True when the attribute bound at `key` has the value bound at `value`.
    fn attribute_equals(&self, key: &str, value: &str) -> String;
    /// True when the attribute bound at `key` has a non-empty value.
    fn attribute_set(&self, key: &str) -> String;
}

/// A condition on the `contacts` table and its parameters, in order.
#[derive(Debug)]
pub(crate) struct Condition {
    /// SQL for a `WHERE`.
    pub sql: String,
    /// The values of its placeholders, `1..=params.len()`.
    pub params: Vec<Param>,
    /// True when the SQL selects exactly what [`Filter::matches`] accepts;
    /// false when it selects more and each row must be checked in Rust.
    pub exact: bool,
}

/// `filter` as a condition in `dialect`.
pub(crate) fn condition(filter: &Filter, dialect: &dyn Dialect) -> Condition {
    let mut builder = Builder {
        dialect,
        params: Vec::new(),
    };
    let (sql, exact) = builder.translate(filter);
    Condition {
        sql,
        params: builder.params,
        exact,
    }
}

const ANYTHING: (&str, bool) = ("TRUE", false);

struct Builder<'d> {
    dialect: &'d dyn Dialect,
    params: Vec<Param>,
}

impl Builder<'_> {
    fn bind(&mut self, param: Param) -> String {
        let placeholder = self.dialect.placeholder(self.params.len() + 1, &param);
        self.params.push(param);
        placeholder
    }

    fn text(&mut self, text: &str) -> String {
        self.bind(Param::Text(text.to_owned()))
    }

    fn translate(&mut self, filter: &Filter) -> (String, bool) {
        match filter {
            Filter::All(conditions) => self.combine(conditions, "AND", "TRUE"),
            Filter::Any(conditions) => self.combine(conditions, "OR", "FALSE"),
            Filter::Not(inner) => {
                let bound = self.params.len();
                match self.translate(inner) {
                    (sql, true) => (format!("NOT ({sql})"), true),
                    _ => {
                        // The inner SQL is dropped: so are its parameters.
                        self.params.truncate(bound);
                        (ANYTHING.0.to_owned(), false)
                    }
                }
            }
            Filter::AnyTag(tags) => {
                let each = tags.iter().map(|t| self.has_tag(t.as_str())).collect();
                (join(each, "OR", "FALSE"), true)
            }
            Filter::AllTags(tags) => {
                let each = tags.iter().map(|t| self.has_tag(t.as_str())).collect();
                (join(each, "AND", "TRUE"), true)
            }
            Filter::NoTag(tags) => {
                let each = tags.iter().map(|t| self.has_tag(t.as_str())).collect();
                (format!("NOT ({})", join(each, "OR", "FALSE")), true)
            }
            Filter::FirstMessage(tag) => (self.column_is("first_message", tag.as_str()), true),
            Filter::Source(source) => (self.column_is("source", source), true),
            Filter::AttributeEquals { attribute, value } => {
                let key = self.text(attribute.as_str());
                let value = self.text(value);
                (self.dialect.attribute_equals(&key, &value), true)
            }
            Filter::AttributeSet(attribute) => {
                let key = self.text(attribute.as_str());
                (self.dialect.attribute_set(&key), true)
            }
            Filter::AttributeEmpty(attribute) => {
                let key = self.text(attribute.as_str());
                (format!("NOT ({})", self.dialect.attribute_set(&key)), true)
            }
            Filter::NameContains(text) if text.is_empty() => ("TRUE".to_owned(), true),
            Filter::NameContains(_) => (ANYTHING.0.to_owned(), ANYTHING.1),
            Filter::CreatedAt(range) => (self.in_range("created_at", range), true),
            Filter::LastActive(range) => {
                let range = self.in_range("last_active", range);
                (format!("(last_active IS NOT NULL AND {range})"), true)
            }
            Filter::Status { status, at } => {
                let active = self.active_at(*at);
                match status {
                    Status::Active => (active, true),
                    Status::Inactive => (format!("NOT {active}"), true),
                }
            }
            Filter::State(Some(state)) => (self.column_is("state", state.as_str()), true),
            Filter::State(None) => ("(state IS NULL)".to_owned(), true),
            // SQLite keeps 0 and 1, PostgreSQL a boolean: both read the
            // bare column as a condition.
            Filter::OptIn(Some(true)) => ("(opt_in IS NOT NULL AND opt_in)".to_owned(), true),
            Filter::OptIn(Some(false)) => ("(opt_in IS NOT NULL AND NOT opt_in)".to_owned(), true),
            Filter::OptIn(None) => ("(opt_in IS NULL)".to_owned(), true),
        }
    }

    fn combine(&mut self, conditions: &[Filter], op: &str, empty: &str) -> (String, bool) {
        let mut pieces = Vec::with_capacity(conditions.len());
        let mut exact = true;
        for condition in conditions {
            let (sql, piece_exact) = self.translate(condition);
            exact &= piece_exact;
            pieces.push(sql);
        }
        // An inexact piece is TRUE: harmless inside AND, swallows an OR.
        (join(pieces, op, empty), exact)
    }

    fn has_tag(&mut self, tag: &str) -> String {
        let tag = self.text(tag);
        self.dialect.has_tag(&tag)
    }

    /// `column = text`, false (not NULL) when the column is NULL.
    fn column_is(&mut self, column: &str, text: &str) -> String {
        let text = self.text(text);
        format!("({column} IS NOT NULL AND {column} = {text})")
    }

    fn in_range(&mut self, column: &str, range: &TimeRange) -> String {
        let mut pieces = Vec::new();
        // Stored times are whole microseconds: t >= from exactly when
        // t >= ceil(from), and t < to exactly when t < ceil(to).
        if let Some(from) = range.from {
            let from = self.bind(Param::Micros(ceil_micros(from)));
            pieces.push(format!("{column} >= {from}"));
        }
        if let Some(to) = range.to {
            let to = self.bind(Param::Micros(ceil_micros(to)));
            pieces.push(format!("{column} < {to}"));
        }
        join(pieces, "AND", "TRUE")
    }

    /// The rule of [`Status::at`]: active when `last_active > now - 24h`,
    /// that is `last_active > floor(since)` in whole microseconds.
    fn active_at(&mut self, at: Timestamp) -> String {
        let since = Status::active_since(at);
        let since = self.bind(Param::Micros(floor_micros(since)));
        format!("(last_active IS NOT NULL AND last_active > {since})")
    }
}

fn join(pieces: Vec<String>, op: &str, empty: &str) -> String {
    if pieces.is_empty() {
        return empty.to_owned();
    }
    let pieces: Vec<String> = pieces.into_iter().map(|p| format!("({p})")).collect();
    format!("({})", pieces.join(&format!(" {op} ")))
}

fn floor_micros(time: Timestamp) -> i64 {
    let nanos = time.as_nanosecond();
    i64::try_from(nanos.div_euclid(1000)).unwrap_or(i64::MIN)
}

fn ceil_micros(time: Timestamp) -> i64 {
    let nanos = time.as_nanosecond();
    i64::try_from(-(-nanos).div_euclid(1000)).unwrap_or(i64::MAX)
}
