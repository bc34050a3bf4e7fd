//! Which of a batch's phones an import fetches before merging: every one,
//! or, into a book that holds none of them, only those an earlier batch
//! wrote ([`ContactStore::creates_without_fetch`]).

use crate::phone::{Phone, PhoneMap, phone_map};
use crate::store::Stored;

#[cfg(doc)]
use crate::store::ContactStore;

/// The fetches of one import, batch after batch.
pub(crate) struct FetchPlan {
    guess: Guess,
    /// The phones earlier batches wrote, while the guess may still be made.
    written: PhoneMap<()>,
    /// The phones to fetch of the last batch, when not all of them.
    to_fetch: Vec<Phone>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Guess {
    /// Every phone is fetched: the store or the import mode does not allow
    /// a guess, or a guess was wrong.
    Never,
    /// The first batch fetches every phone: if it finds none, the book is
    /// taken to hold none of the file's phones.
    Watching,
    /// Phones no earlier batch wrote are taken as new, unfetched.
    New,
}

impl FetchPlan {
    /// A plan that fetches every phone, or (`guess`) that watches for a
    /// book that holds none of the file's phones.
    pub(crate) fn new(guess: bool) -> FetchPlan {
        FetchPlan {
            guess: if guess { Guess::Watching } else { Guess::Never },
            written: phone_map(0),
            to_fetch: Vec::new(),
        }
    }

    /// The phones of a batch's `phones` to fetch: all of them, or, once
    /// the book is taken to hold none of the file's new phones, those an
    /// earlier batch wrote.
    pub(crate) fn phones_to_fetch<'a>(&'a mut self, phones: &'a [Phone]) -> &'a [Phone] {
        if self.guess != Guess::New {
            return phones;
        }
        let written = &self.written;
        self.to_fetch.clear();
        self.to_fetch
            .extend(phones.iter().filter(|p| written.contains_key(p)));
        &self.to_fetch
    }

    /// Notes what a batch's fetch found (before any conflict).
    pub(crate) fn fetched(&mut self, found: &[Stored]) {
        if self.guess != Guess::Watching {
            return;
        }
        if found.is_empty() {
            self.guess = Guess::New;
        } else {
            self.stop();
        }
    }

    /// How many of a batch's first `conflicts` were phones taken as new
    /// and stored after all; the first such conflict ends the guessing.
    pub(crate) fn guessed_wrong(&mut self, conflicts: &[Phone]) -> usize {
        if self.guess != Guess::New {
            return 0;
        }
        let wrong = conflicts
            .iter()
            .filter(|p| !self.written.contains_key(p))
            .count();
        if wrong > 0 {
            self.stop();
        }
        wrong
    }

    /// Notes the phones a batch wrote.
    pub(crate) fn wrote(&mut self, phones: &[Phone]) {
        if self.guess != Guess::Never {
            self.written.extend(phones.iter().map(|p| (*p, ())));
        }
    }

    fn stop(&mut self) {
        self.guess = Guess::Never;
        self.written = phone_map(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Contact;
    use crate::store::Version;
    use jiff::Timestamp;

    fn phone(n: u8) -> Phone {
        Phone::parse_e164(&format!("+9198765432{n:02}")).unwrap()
    }

    fn stored(n: u8) -> Stored {
        Stored {
            contact: Contact::new(phone(n), "A".into(), Timestamp::UNIX_EPOCH),
            version: Version::new(1),
        }
    }

    #[test]
    fn a_plan_without_guessing_fetches_every_phone() {
        let mut plan = FetchPlan::new(false);
        plan.fetched(&[]);
        plan.wrote(&[phone(1)]);
        assert_eq!(
            plan.phones_to_fetch(&[phone(1), phone(2)]),
            [phone(1), phone(2)]
        );
    }

    #[test]
    fn after_a_fetch_that_found_nothing_only_written_phones_are_fetched() {
        let mut plan = FetchPlan::new(true);
        let first = [phone(1), phone(2)];
        assert_eq!(plan.phones_to_fetch(&first), first);
        plan.fetched(&[]);
        plan.wrote(&first);
        assert_eq!(plan.phones_to_fetch(&[phone(3), phone(1)]), [phone(1)]);
    }

    #[test]
    fn finding_phones_no_batch_wrote_keeps_fetching_everything() {
        let mut plan = FetchPlan::new(true);
        plan.fetched(&[stored(1)]);
        plan.wrote(&[phone(1), phone(2)]);
        plan.fetched(&[]);
        assert_eq!(plan.phones_to_fetch(&[phone(3)]), [phone(3)]);
    }

    #[test]
    fn a_conflict_of_a_fetched_phone_is_no_wrong_guess() {
        let mut plan = FetchPlan::new(true);
        plan.fetched(&[]);
        plan.wrote(&[phone(1)]);
        assert_eq!(plan.guessed_wrong(&[phone(1)]), 0, "phone 1 was fetched");
        assert_eq!(plan.phones_to_fetch(&[phone(1), phone(2)]), [phone(1)]);
    }

    #[test]
    fn the_first_wrong_guess_stops_guessing_for_good() {
        let mut plan = FetchPlan::new(true);
        plan.fetched(&[]);
        plan.wrote(&[phone(1)]);
        assert_eq!(plan.guessed_wrong(&[phone(1), phone(2), phone(3)]), 2);
        plan.fetched(&[]);
        plan.wrote(&[phone(2)]);
        assert_eq!(
            plan.phones_to_fetch(&[phone(4), phone(2)]),
            [phone(4), phone(2)]
        );
        assert_eq!(plan.guessed_wrong(&[phone(4)]), 0);
    }
}
