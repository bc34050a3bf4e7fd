//! Contacts out of the store: the segment's CSV file and messages
//! (`--export`, `--render`) and `--dump`.
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::{Context, Result};
use contact_import::{Catalog, Contact, ContactScan, Template};

use crate::segment::Segment;
use crate::{create, out};

impl Segment {
    /// Writes the segment of `store` to the export file, and its messages to stdout.
    pub fn write<S: ContactScan>(
        &self,
        store: &mut S,
        catalog: &Catalog,
        quiet: bool,
    ) -> Result<()> {
        if let Some(path) = &self.export {
            let now = jiff::Timestamp::now();
            let written = contact_import::export(store, &self.filter, catalog, now, create(path)?)
                .with_context(|| format!("exporting to {}", path.display()))?;
            if !quiet {
                out!(
                    "exported {} to {}",
                    crate::contacts(written),
                    path.display()
                );
            }
        }
        if let Some(template) = &self.template {
            self.render(store, template)?;
        }
        Ok(())
    }

    /// Prints "PHONE<TAB>MESSAGE" for each contact of the segment.
    fn render<S: ContactScan>(&self, store: &mut S, template: &Template) -> Result<()> {
        let mut out = std::io::stdout().lock();
        let mut message = String::new();
        let audience = template.audience(self.filter.clone());
        write_each(
            |visit| store.scan_filtered(&audience, visit),
            |contact| {
                message.clear();
                template.render_into(contact, &mut message);
                Ok(writeln!(out, "{}\t{message}", contact.phone)?)
            },
        )
        .context("listing the segment")?
    }
}

/// `--dump`: every contact of the store as JSON Lines, in phone order.
pub fn dump<S: ContactScan>(store: &mut S, path: &Path) -> Result<()> {
    let mut out = create(path)?;
    write_each(
        |visit| store.scan(visit),
        |contact| {
            serde_json::to_writer(&mut out, contact)?;
            Ok(out.write_all(b"\n")?)
        },
    )??;
    out.flush()?;
    Ok(())
}

/// Calls `write` with each contact `scan` visits, and stops at its first
/// error: the outer error is the scan's, the inner one `write`'s.
fn write_each<E>(
    scan: impl FnOnce(&mut dyn FnMut(&Contact) -> ControlFlow<()>) -> Result<(), E>,
    mut write: impl FnMut(&Contact) -> Result<()>,
) -> Result<Result<()>, E> {
    let mut failure = None;
    scan(&mut |contact| match write(contact) {
        Ok(()) => ControlFlow::Continue(()),
        Err(error) => {
            failure = Some(error);
            ControlFlow::Break(())
        }
    })?;
    Ok(failure.map_or(Ok(()), Err))
}
