//! How [`PostgresStore`](crate::PostgresStore) writes a batch: one
//! statement on one connection, or its two halves at once on two
//! connections, committed together (feature `postgres`).

use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, Row};

use crate::contact::Contact;
use crate::store::Version;
use crate::store::pg_array::{ContactArray, Field, VersionArray};

/// One statement per batch: atomic on its own, one round trip. It creates
/// the new contacts whose phone is still absent and updates the others
/// whose row is still at the version (`xmin`) fetched, and returns the
/// phones it wrote: the others conflicted. Under READ COMMITTED, a row
/// that another transaction changed meanwhile is checked again on its new
/// version, whose `xmin` differs. An update leaves created_at, last_active
/// and state as they are: a live service may have changed them since the
/// engine fetched the contact. `$17` is the handle's account; `$18` and `$19` are the opt-ins.
pub(crate) const WRITE: &str = "
WITH created AS (
    INSERT INTO contacts (phone, name, tags, source, first_message, attributes, created_at, last_active, state, account_id, opt_in)
    SELECT phone, name, tags::jsonb, source, first_message, attributes::jsonb, created_at, last_active, state, $17::text, opt_in
    FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::timestamptz[], $8::timestamptz[], $9::text[], $18::boolean[])
         AS batch (phone, name, tags, source, first_message, attributes, created_at, last_active, state, opt_in)
    ON CONFLICT (account_id, phone) DO NOTHING
    RETURNING phone
), updated AS (
    UPDATE contacts SET
        name = batch.name, tags = batch.tags::jsonb, source = batch.source,
        first_message = batch.first_message, attributes = batch.attributes::jsonb,
        opt_in = batch.opt_in
    FROM UNNEST($10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                $16::bigint[], $19::boolean[])
         AS batch (phone, name, tags, source, first_message, attributes, version, opt_in)
    WHERE contacts.account_id = $17::text AND contacts.phone = batch.phone
      AND contacts.xmin::text::bigint = batch.version
    RETURNING contacts.phone
)
SELECT phone FROM created UNION ALL SELECT phone FROM updated";

/// The clause [`WRITE`] creates with. Without it ([`fresh_write`]), a batch
/// whose new phones are all still absent, as in an import into a new book,
/// is written without PostgreSQL's speculative insertion (a pre-check of
/// the key and a confirmation record per row), and a phone that is not
/// absent fails the whole statement with `unique_violation`, which leaves
/// nothing written: the batch is then written again with [`WRITE`].
const ON_CONFLICT: &str = "    ON CONFLICT (account_id, phone) DO NOTHING\n";

/// What [`WRITE`]'s insert returns, and what its statement returns.
const CREATED_RETURNING: &str = "    RETURNING phone\n), updated AS (";
const WRITE_RETURNS: &str = "SELECT phone FROM created UNION ALL SELECT phone FROM updated";

/// [`WRITE`] without [`ON_CONFLICT`], returning only the phones updated:
/// when it succeeds, every create landed (a data-modifying `WITH` runs to
/// completion whether or not its rows are read), so the 1,000 phones of a
/// batch of new contacts need not come back.
pub(crate) fn fresh_write() -> String {
    WRITE
        .replace(ON_CONFLICT, "")
        .replace(CREATED_RETURNING, "), updated AS (")
        .replace(WRITE_RETURNS, "SELECT phone FROM updated")
}

/// Runs `sql`, whose parameters have `types`, as an unnamed statement,
/// which PostgreSQL plans for this batch's values, in one round trip. A
/// prepared statement's cached generic plan, chosen after five batches
/// while the table was young, was measured slower for the rest of an
/// import into an empty database (INTERNALS.md, "PostgreSQL: no GIN
/// indexes").
pub(crate) fn planned_for(
    client: &mut impl GenericClient,
    sql: &str,
    types: &[Type],
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, postgres::Error> {
    let typed: Vec<(&(dyn ToSql + Sync), Type)> =
        params.iter().copied().zip(types.iter().cloned()).collect();
    client.query_typed(sql, &typed)
}

/// How a half's transaction starts: it waits 2 s for a row lock at most. Two halves
/// of one batch commit only together, so a half that waits for another
/// writer's half, whose sibling waits for this batch's other half, would
/// wait for ever: no server sees that cycle. The timeout breaks it; the
/// batch is then rolled back and merged again, as after a deadlock.
const BEGIN_HALF: &str = "BEGIN; SET LOCAL lock_timeout = '2s'";

/// A batch's writes, each list sorted by phone, as [`WRITE`] binds them.
#[derive(Clone, Copy)]
pub(crate) struct Writes<'a> {
    pub created: &'a [&'a Contact],
    pub updated: &'a [&'a Contact],
    /// The versions fetched of `updated`, in the same order.
    pub versions: &'a [(Contact, Version)],
    pub account: &'a str,
}

impl<'a> Writes<'a> {
    /// Runs `sql` (a form of [`WRITE`]) on `client` with these writes.
    pub(crate) fn run(
        self,
        client: &mut impl GenericClient,
        sql: &str,
        types: &[Type],
    ) -> Result<Vec<Row>, postgres::Error> {
        let new = |field| ContactArray {
            contacts: self.created,
            field,
        };
        let old = |field| ContactArray {
            contacts: self.updated,
            field,
        };
        let versions = VersionArray(self.versions);
        let params: [&(dyn ToSql + Sync); 19] = [
            &new(Field::Phone),
            &new(Field::Name),
            &new(Field::Tags),
            &new(Field::Source),
            &new(Field::FirstMessage),
            &new(Field::Attributes),
            &new(Field::CreatedAt),
            &new(Field::LastActive),
            &new(Field::State),
            &old(Field::Phone),
            &old(Field::Name),
            &old(Field::Tags),
            &old(Field::Source),
            &old(Field::FirstMessage),
            &old(Field::Attributes),
            &versions,
            &self.account,
            &new(Field::OptIn),
            &old(Field::OptIn),
        ];
        planned_for(client, sql, types, &params)
    }

    /// The writes in two halves, each with some of them: the first holds
    /// the first half of the creates (rounded up) and of the updates
    /// (rounded down), so that two writes make two non-empty halves. A
    /// phone sent twice stays in one half: in two, the second half's
    /// insert would wait for the first's, which waits for the second to
    /// commit.
    fn halves(self) -> (Writes<'a>, Writes<'a>) {
        let at = same_phone_end(self.created, self.created.len().div_ceil(2));
        let (created, more_created) = self.created.split_at(at);
        let half = same_phone_end(self.updated, self.updated.len() / 2);
        let (updated, more_updated) = self.updated.split_at(half);
        let (versions, more_versions) = self.versions.split_at(half);
        let first = Writes {
            created,
            updated,
            versions,
            account: self.account,
        };
        let second = Writes {
            created: more_created,
            updated: more_updated,
            versions: more_versions,
            account: self.account,
        };
        (first, second)
    }

    fn count(self) -> usize {
        self.created.len() + self.updated.len()
    }
}

/// `at`, moved past the contacts (sorted by phone) whose phone is the one
/// just before it.
fn same_phone_end(contacts: &[&Contact], mut at: usize) -> usize {
    while at > 0 && at < contacts.len() && contacts[at].phone == contacts[at - 1].phone {
        at += 1;
    }
    at
}

/// Runs `sql` with `writes` split in two halves, one in a transaction on
/// each client, at once; both commit when both succeeded, else both roll
/// back and the first error is returned.
///
/// The server writes the halves on two backends, so an import uses a
/// second core. The commits come one after the other: if the connection
/// to the server fails between them, the first half stays written.
pub(crate) fn run_in_halves(
    first: &mut Client,
    second: &mut Client,
    sql: &str,
    types: &[Type],
    writes: Writes<'_>,
) -> Result<Vec<Row>, postgres::Error> {
    if writes.count() < 2 {
        return writes.run(first, sql, types);
    }
    let (mine, theirs) = writes.halves();
    if theirs.count() == 0 {
        return writes.run(first, sql, types);
    }
    first.batch_execute(BEGIN_HALF)?;
    if let Err(error) = second.batch_execute(BEGIN_HALF) {
        return Err(rolled_back(first, second, error));
    }
    let (written, more) = std::thread::scope(|scope| {
        let other = scope.spawn(|| theirs.run(&mut *second, sql, types));
        let written = mine.run(&mut *first, sql, types);
        let more = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, more)
    });
    let (mut rows, more) = match (written, more) {
        (Ok(rows), Ok(more)) => (rows, more),
        (Err(error), _) | (_, Err(error)) => return Err(rolled_back(first, second, error)),
    };
    if let Err(error) = first.batch_execute("COMMIT") {
        return Err(rolled_back(first, second, error));
    }
    second.batch_execute("COMMIT")?;
    rows.extend(more);
    Ok(rows)
}

/// Rolls back both transactions and gives `error`, the cause, back. A
/// rollback that fails too (the connection is gone) leaves the server to
/// end that transaction when it notices.
fn rolled_back(first: &mut Client, second: &mut Client, error: postgres::Error) -> postgres::Error {
    let _ = first.batch_execute("ROLLBACK");
    let _ = second.batch_execute("ROLLBACK");
    error
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::phone::Phone;

    #[test]
    fn the_first_attempt_is_the_write_without_its_on_conflict() {
        for part in [ON_CONFLICT, CREATED_RETURNING, WRITE_RETURNS] {
            assert_eq!(WRITE.matches(part).count(), 1, "{part}");
        }
        let fresh = fresh_write();
        assert!(!fresh.contains("ON CONFLICT"));
        assert_eq!(fresh.matches("RETURNING").count(), 1, "{fresh}");
        assert!(fresh.ends_with("SELECT phone FROM updated"), "{fresh}");
    }

    fn contacts(n: u64) -> Vec<Contact> {
        (0..n)
            .map(|i| {
                let phone = Phone::parse_e164(&format!("+9198765{:05}", i)).unwrap();
                Contact::new(phone, "A".into(), Timestamp::UNIX_EPOCH)
            })
            .collect()
    }

    #[test]
    fn a_phone_sent_twice_stays_in_one_half() {
        let mut owned = contacts(4);
        owned[2].phone = owned[1].phone;
        let created: Vec<&Contact> = owned.iter().collect();
        let writes = Writes {
            created: &created,
            updated: &[],
            versions: &[],
            account: "a",
        };
        let (first, second) = writes.halves();
        assert_eq!(first.created.len(), 3);
        assert_eq!(second.created.len(), 1);
        let all_twice: Vec<&Contact> = vec![&owned[1], &owned[2]];
        let writes = Writes {
            created: &all_twice,
            ..writes
        };
        assert_eq!(writes.halves().1.count(), 0);
    }

    /// Every write is in exactly one half, in order, each update with its
    /// own version; two writes or more make two non-empty halves.
    #[test]
    fn halves_split_every_write_once_and_keep_updates_with_their_versions() {
        for (creates, updates) in [(1, 1), (2, 0), (0, 2), (3, 0), (1, 2), (1000, 30), (5, 7)] {
            let created_owned = contacts(creates);
            let update: Vec<(Contact, Version)> = contacts(updates)
                .into_iter()
                .zip(1..)
                .map(|(c, v)| (c, Version::new(v)))
                .collect();
            let created: Vec<&Contact> = created_owned.iter().collect();
            let updated: Vec<&Contact> = update.iter().map(|(c, _)| c).collect();
            let writes = Writes {
                created: &created,
                updated: &updated,
                versions: &update,
                account: "a",
            };
            let (first, second) = writes.halves();
            assert!(
                first.count() > 0 && second.count() > 0,
                "{creates}+{updates}"
            );
            let joined: Vec<&Contact> = first
                .created
                .iter()
                .chain(second.created)
                .copied()
                .collect();
            assert_eq!(joined, created);
            for half in [first, second] {
                assert_eq!(half.updated.len(), half.versions.len());
                for (contact, (versioned, _)) in half.updated.iter().zip(half.versions) {
                    assert_eq!(contact.phone, versioned.phone);
                }
            }
            assert_eq!(first.updated.len() + second.updated.len(), updated.len());
        }
    }
}
