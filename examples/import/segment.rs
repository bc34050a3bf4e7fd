//! The segment flags: which contacts `--export` and `--render` are about.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use contact_import::{Catalog, Filter, State, Status, Template, TimeRange};

/// Which contacts `--export` and `--render` are about, and what they do.
/// Every filter flag narrows the segment; none means every contact.
#[derive(clap::Args, Debug)]
pub struct SegmentArgs {
    /// After the import, write the contacts of the segment to this CSV file
    /// (the import format, plus Status, State, Last Active and Created At).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["dry_run", "suggest"])]
    export: Option<PathBuf>,
    /// Print "PHONE<TAB>MESSAGE" for each contact of the segment, with
    /// $Name, $FirstName, $LastName and $<attribute> filled in ($$ is a $).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["dry_run", "suggest"])]
    render: Option<String>,
    /// With --render, write messages to contacts who opted in only.
    #[arg(long, requires = "render")]
    opted_in_only: bool,
    /// Only contacts who opted in (yes), opted out (no), or neither (unknown).
    #[arg(long, value_enum, value_name = "STATE")]
    opt_in: Option<OptInState>,
    /// Only contacts with this tag. Repeatable: every one of them.
    #[arg(long, value_name = "TAG")]
    with_tag: Vec<String>,
    /// Only contacts with at least one of these tags. Repeatable.
    #[arg(long, value_name = "TAG")]
    with_any_tag: Vec<String>,
    /// Only contacts without this tag. Repeatable.
    #[arg(long, value_name = "TAG")]
    without_tag: Vec<String>,
    /// Only contacts whose first-message tag is this one.
    #[arg(long, value_name = "TAG")]
    first_message: Option<String>,
    /// Only contacts with exactly this source (e.g. IMPORT).
    #[arg(long, value_name = "TEXT")]
    source: Option<String>,
    /// Only contacts whose attribute NAME is exactly VALUE. Repeatable.
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    attrs: Vec<String>,
    /// Only contacts with a value for this attribute. Repeatable.
    #[arg(long, value_name = "NAME")]
    attr_set: Vec<String>,
    /// Only contacts without a value for this attribute. Repeatable.
    #[arg(long, value_name = "NAME")]
    attr_empty: Vec<String>,
    /// Only contacts whose name contains this text, ignoring case.
    #[arg(long, value_name = "TEXT")]
    name_contains: Option<String>,
    /// Only contacts ACTIVE (last active within 24 hours) at WHEN: "now" or
    /// an RFC 3339 time such as 2024-06-01T12:00:00Z.
    #[arg(long, value_name = "WHEN")]
    active_at: Option<String>,
    /// Only contacts INACTIVE at WHEN ("now" or an RFC 3339 time).
    #[arg(long, value_name = "WHEN")]
    inactive_at: Option<String>,
    /// Only contacts in this state (Intervened, Requesting, Closed,
    /// "Handled by Assistant"), or "none" for contacts without one.
    #[arg(long, value_name = "STATE")]
    state: Option<String>,
    /// Only contacts created at or after WHEN.
    #[arg(long, value_name = "WHEN")]
    created_since: Option<String>,
    /// Only contacts created before WHEN.
    #[arg(long, value_name = "WHEN")]
    created_before: Option<String>,
    /// A filter in its JSON form, e.g. '{"any": [{"source": "API"}, {"any_tag": ["MBA"]}]}'.
    #[arg(long, value_name = "JSON")]
    filter: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum OptInState {
    Yes,
    No,
    Unknown,
}

/// What `--export` and `--render` do, checked before the import runs.
pub struct Segment {
    pub filter: Filter,
    pub export: Option<PathBuf>,
    pub template: Option<Template>,
}

impl SegmentArgs {
    /// The segment to write, or `None` without `--export` and `--render`.
    pub fn prepare(&self, catalog: &Catalog) -> Result<Option<Segment>> {
        if self.export.is_none() && self.render.is_none() {
            return Ok(None);
        }
        let template = match &self.render {
            Some(text) => Some(Template::parse(text, catalog).context("--render")?),
            None => None,
        };
        let template = template.map(|t| match self.opted_in_only {
            true => t.opted_in_only(),
            false => t,
        });
        Ok(Some(Segment {
            filter: self.filter()?,
            export: self.export.clone(),
            template,
        }))
    }

    fn filter(&self) -> Result<Filter> {
        let mut filter = Filter::everyone();
        if !self.with_tag.is_empty() {
            filter = filter & Filter::all_tags(&self.with_tag);
        }
        if !self.with_any_tag.is_empty() {
            filter = filter & Filter::any_tag(&self.with_any_tag);
        }
        if !self.without_tag.is_empty() {
            filter = filter & Filter::no_tag(&self.without_tag);
        }
        if let Some(tag) = &self.first_message {
            filter = filter & Filter::first_message(tag);
        }
        if let Some(source) = &self.source {
            filter = filter & Filter::source(source);
        }
        for attr in &self.attrs {
            let Some((name, value)) = attr.split_once('=') else {
                bail!("--attr {attr:?}: expected NAME=VALUE, e.g. \"City=Delhi\"");
            };
            filter = filter & Filter::attribute_equals(name.trim(), value.trim());
        }
        for name in &self.attr_set {
            filter = filter & Filter::attribute_set(name);
        }
        for name in &self.attr_empty {
            filter = filter & Filter::attribute_empty(name);
        }
        if let Some(text) = &self.name_contains {
            filter = filter & Filter::name_contains(text);
        }
        for (when, status) in [
            (&self.active_at, Status::Active),
            (&self.inactive_at, Status::Inactive),
        ] {
            if let Some(when) = when {
                filter = filter & Filter::status(status, parse_when(when)?);
            }
        }
        if let Some(state) = &self.state {
            filter = filter & Filter::state(parse_state(state)?);
        }
        if let Some(opt_in) = self.opt_in {
            filter = filter
                & Filter::opt_in(match opt_in {
                    OptInState::Yes => Some(true),
                    OptInState::No => Some(false),
                    OptInState::Unknown => None,
                });
        }
        let created = TimeRange {
            from: self.created_since.as_deref().map(parse_when).transpose()?,
            to: self.created_before.as_deref().map(parse_when).transpose()?,
        };
        if created != TimeRange::default() {
            filter = filter & Filter::created(created);
        }
        if let Some(json) = &self.filter {
            let parsed: Filter =
                serde_json::from_str(json).with_context(|| format!("--filter {json:?}"))?;
            filter = filter & parsed;
        }
        Ok(filter)
    }
}

/// "now" (this machine's clock) or an RFC 3339 time.
fn parse_when(text: &str) -> Result<jiff::Timestamp> {
    if text.trim().eq_ignore_ascii_case("now") {
        return Ok(jiff::Timestamp::now());
    }
    text.trim().parse().with_context(|| {
        format!("{text:?} is not a time: write \"now\" or e.g. 2024-06-01T12:00:00Z")
    })
}

fn parse_state(text: &str) -> Result<Option<State>> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match State::parse(text) {
        Some(state) => Ok(Some(state)),
        None => bail!(
            "--state {text:?}: expected Intervened, Requesting, Closed, \"Handled by Assistant\" or none"
        ),
    }
}
