//! Personalised messages: `Hello $FirstName from $City` filled in per contact.

use std::fmt;

use crate::catalog::Catalog;
use crate::contact::{Attribute, Contact};
use crate::filter::Filter;

/// A value a template can show: a part of the contact's name, or one of its
/// custom attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Variable {
    /// `$Name`: the full name.
    Name,
    /// `$FirstName`: the first word of the name.
    FirstName,
    /// `$LastName`: the words of the name after the first.
    LastName,
    /// `$<attribute>`: a custom attribute of the catalog, e.g. `$City`.
    Attribute(Attribute),
}

impl Variable {
    /// The name written after `$`, e.g. `FirstName` or `City`.
    pub fn name(&self) -> &str {
        match self {
            Variable::Name => "Name",
            Variable::FirstName => "FirstName",
            Variable::LastName => "LastName",
            Variable::Attribute(attribute) => attribute.as_str(),
        }
    }

    /// The contact's value, empty when it has none.
    pub fn value<'c>(&self, contact: &'c Contact) -> &'c str {
        match self {
            Variable::Name => contact.name(),
            Variable::FirstName => contact.first_name(),
            Variable::LastName => contact.last_name(),
            Variable::Attribute(attribute) => {
                contact.attributes.get(attribute.as_str()).unwrap_or("")
            }
        }
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.name())
    }
}

/// What is wrong with a template. Match on it to show your own message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateErrorKind {
    /// `$` followed by a word that no variable starts it.
    #[error("unknown variable ${name}; {}", hint(suggestion.as_deref(), known))]
    UnknownVariable {
        /// The word after `$`.
        name: String,
        /// The closest variable's name, when one is close.
        suggestion: Option<String>,
        /// Every variable's name, for the message.
        known: Vec<String>,
    },
    /// `$` followed by no word, or by a number (`$5`).
    #[error(
        "a lone $; write $$ for a dollar sign, or $Name, $FirstName, $LastName or $<attribute>"
    )]
    LoneDollar,
}

/// A template that cannot be used, with where the problem is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{}{kind}", at.map(|at| at.to_string() + ": ").unwrap_or_default())]
pub struct TemplateError {
    /// What is wrong.
    pub kind: TemplateErrorKind,
    /// Where the `$` is in the template's text; `None` for a fallback given
    /// for a variable that does not exist.
    pub at: Option<Location>,
}

/// A place in a template's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column in the line, in characters, from 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

fn hint(suggestion: Option<&str>, known: &[String]) -> String {
    match suggestion {
        Some(name) => format!("did you mean ${name}?"),
        None => {
            let names: Vec<String> = known.iter().take(12).map(|n| format!("${n}")).collect();
            let more = if known.len() > names.len() {
                ", ..."
            } else {
                ""
            };
            format!("the variables are {}{more}", names.join(", "))
        }
    }
}

/// A message with variables, parsed once and rendered for many contacts.
///
/// `$Name`, `$FirstName`, `$LastName` and `$<attribute>` for each attribute
/// of the catalog are variables; `$$` is a dollar sign. The longest variable
/// that follows a `$` wins: with a `NameOfPet` attribute, `$NameOfPet` is
/// that attribute, not `$Name` followed by `OfPet`. Text right after a
/// variable is kept, so `Dear $FirstNameji` gives `Dear Mohitji`. A `$`
/// followed by a word that no variable starts is an error naming the word
/// and suggesting the closest variable.
///
/// A value the contact does not have (an attribute not set, the last name of
/// a one-word name) renders as the variable's fallback, or the template's
/// default fallback, which is empty unless set.
///
/// ```
/// use contact_import::{Catalog, Contact, Phone, Template};
///
/// let catalog = Catalog::new().with_attributes(["City", "NameOfPet"]);
/// let template = Template::parse("Hi $FirstName! Is $NameOfPet enjoying $City? Reply $$5 to win.", &catalog)?
///     .with_fallback("City", "your city")?;
///
/// let mut mohit = Contact::new(Phone::parse_e164("+919876543452").unwrap(), "Mohit Dua".into(), jiff::Timestamp::UNIX_EPOCH);
/// mohit.attributes.set("NameOfPet".into(), "Bruno".into());
/// assert_eq!(template.render(&mohit), "Hi Mohit! Is Bruno enjoying your city? Reply $5 to win.");
///
/// let typo = Template::parse("Hello $FristName", &catalog).unwrap_err();
/// assert_eq!(typo.to_string(), "line 1, column 7: unknown variable $FristName; did you mean $FirstName?");
/// # Ok::<(), contact_import::TemplateError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    literals: String,
    /// Every variable of the catalog, with its fallback.
    slots: Vec<Slot>,
    default_fallback: String,
    /// Whether only contacts who opted in get a message.
    opted_in_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// A byte range of `literals`.
    Literal(usize, usize),
    /// An index into `slots`.
    Variable(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot {
    variable: Variable,
    fallback: Option<String>,
}

impl Template {
    /// Parses `text` with the variables of `catalog`.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<Template, TemplateError> {
        let slots = variables(catalog)
            .map(|variable| Slot {
                variable,
                fallback: None,
            })
            .collect();
        let mut template = Template {
            parts: Vec::new(),
            literals: String::with_capacity(text.len()),
            slots,
            default_fallback: String::new(),
            opted_in_only: false,
        };
        let mut by_length: Vec<usize> = (0..template.slots.len()).collect();
        by_length.sort_by_key(|&i| std::cmp::Reverse(template.slots[i].variable.name().len()));
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            template.push_literal(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            if let Some(after_escape) = after.strip_prefix('$') {
                template.push_literal("$");
                rest = after_escape;
                continue;
            }
            let found = by_length
                .iter()
                .copied()
                .find(|&i| after.starts_with(template.slots[i].variable.name()));
            let Some(slot) = found else {
                let offset = text.len() - rest.len() + dollar;
                return Err(template.unknown(text, offset, after));
            };
            template.parts.push(Part::Variable(slot));
            rest = &after[template.slots[slot].variable.name().len()..];
        }
        template.push_literal(rest);
        Ok(template)
    }

    /// Sets what `variable` (`"City"` or `"$City"`) shows for a contact that
    /// has no value for it. Fails when no such variable exists.
    pub fn with_fallback(mut self, variable: &str, text: &str) -> Result<Template, TemplateError> {
        let name = variable.strip_prefix('$').unwrap_or(variable);
        match self.slots.iter_mut().find(|s| s.variable.name() == name) {
            Some(slot) => {
                slot.fallback = Some(text.to_owned());
                Ok(self)
            }
            None => Err(TemplateError {
                kind: self.unknown_kind(name),
                at: None,
            }),
        }
    }

    /// Sets what a variable without its own fallback shows for a contact that
    /// has no value for it (empty unless set).
    pub fn with_default_fallback(mut self, text: &str) -> Template {
        self.default_fallback = text.to_owned();
        self
    }

    /// Limits the template to contacts who opted in to WhatsApp messages
    /// ([`Contact::opt_in`] is `Some(true)`): [`render_for`](Self::render_for)
    /// renders nothing for the others, and [`audience`](Self::audience)
    /// narrows a segment to them, so that a store filters them out in SQL.
    ///
    /// ```
    /// use contact_import::{Catalog, Contact, Filter, Phone, Template};
    ///
    /// let template = Template::parse("Hi $FirstName", &Catalog::new())?.opted_in_only();
    /// let mut asha = Contact::new(Phone::parse_e164("+919876543210").unwrap(), "Asha Rao".into(), jiff::Timestamp::UNIX_EPOCH);
    /// let mut message = String::new();
    /// assert!(!template.render_for(&asha, &mut message)); // opt-in unknown: no message
    /// asha.opt_in = Some(true);
    /// assert!(template.render_for(&asha, &mut message));
    /// assert_eq!(message, "Hi Asha");
    /// assert_eq!(template.audience(Filter::everyone()), Filter::everyone() & Filter::opted_in());
    /// # Ok::<(), contact_import::TemplateError>(())
    /// ```
    pub fn opted_in_only(mut self) -> Template {
        self.opted_in_only = true;
        self
    }

    /// True when the template renders for opted-in contacts only.
    pub fn is_opted_in_only(&self) -> bool {
        self.opted_in_only
    }

    /// True when `contact` gets a message: always, unless the template is
    /// [`opted_in_only`](Self::opted_in_only) and the contact did not opt in.
    pub fn addresses(&self, contact: &Contact) -> bool {
        !self.opted_in_only || contact.is_opted_in()
    }

    /// `segment`, narrowed to the contacts the template
    /// [`addresses`](Self::addresses): the segment to scan.
    pub fn audience(&self, segment: Filter) -> Filter {
        match self.opted_in_only {
            true => segment & Filter::opted_in(),
            false => segment,
        }
    }

    /// Appends the message for `contact` to `out` if the template
    /// [`addresses`](Self::addresses) the contact; returns whether it did.
    pub fn render_for(&self, contact: &Contact, out: &mut String) -> bool {
        let addressed = self.addresses(contact);
        if addressed {
            self.render_into(contact, out);
        }
        addressed
    }

    /// The variables the template uses, in order of first use.
    pub fn variables(&self) -> Vec<&Variable> {
        let mut used: Vec<&Variable> = Vec::new();
        for part in &self.parts {
            if let Part::Variable(i) = part {
                let variable = &self.slots[*i].variable;
                if !used.contains(&variable) {
                    used.push(variable);
                }
            }
        }
        used
    }

    /// The message for `contact`, whatever its opt-in (see
    /// [`render_for`](Self::render_for)).
    pub fn render(&self, contact: &Contact) -> String {
        let mut out = String::with_capacity(self.literals.len() + 32);
        self.render_into(contact, &mut out);
        out
    }

    /// Appends the message for `contact` to `out`: for rendering many
    /// messages with one buffer.
    pub fn render_into(&self, contact: &Contact, out: &mut String) {
        for part in &self.parts {
            match *part {
                Part::Literal(start, end) => {
                    out.push_str(self.literals.get(start..end).unwrap_or(""))
                }
                Part::Variable(i) => {
                    let Some(slot) = self.slots.get(i) else {
                        continue;
                    };
                    let value = slot.variable.value(contact);
                    out.push_str(if value.is_empty() {
                        slot.fallback.as_deref().unwrap_or(&self.default_fallback)
                    } else {
                        value
                    });
                }
            }
        }
    }

    fn push_literal(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let start = self.literals.len();
        self.literals.push_str(text);
        let end = self.literals.len();
        match self.parts.last_mut() {
            Some(Part::Literal(_, last_end)) if *last_end == start => *last_end = end,
            _ => self.parts.push(Part::Literal(start, end)),
        }
    }

    fn unknown(&self, text: &str, offset: usize, after: &str) -> TemplateError {
        let word: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let kind = if !word.starts_with(char::is_alphabetic) {
            TemplateErrorKind::LoneDollar
        } else {
            self.unknown_kind(&word)
        };
        let before = text.get(..offset).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.get(line_start..).unwrap_or("");
        TemplateError {
            kind,
            at: Some(Location {
                line: before.matches('\n').count() + 1,
                column: line.chars().count() + 1,
            }),
        }
    }

    fn unknown_kind(&self, word: &str) -> TemplateErrorKind {
        let known: Vec<String> = self
            .slots
            .iter()
            .map(|s| s.variable.name().to_owned())
            .collect();
        TemplateErrorKind::UnknownVariable {
            name: word.to_owned(),
            suggestion: closest(word, &known).map(str::to_owned),
            known,
        }
    }
}

/// Every variable of `catalog`: the name's three, then the attributes.
fn variables(catalog: &Catalog) -> impl Iterator<Item = Variable> + '_ {
    [Variable::Name, Variable::FirstName, Variable::LastName]
        .into_iter()
        .chain(
            catalog
                .attributes()
                .iter()
                .cloned()
                .map(Variable::Attribute),
        )
}

/// The name closest to `word` by edit distance, ignoring case, when it is
/// close enough to be a typo of it (at most 2 edits, or a third of its length).
fn closest<'a>(word: &str, names: &'a [String]) -> Option<&'a str> {
    let word = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    names
        .iter()
        .map(|name| (strsim::osa_distance(&word, &name.to_lowercase()), name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.as_str())
}
