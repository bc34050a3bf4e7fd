//! Personalised messages: parsing templates and rendering them per contact.

use contact_import::{
    Attribute, Catalog, Contact, Location, Phone, Template, TemplateError, TemplateErrorKind,
    Variable,
};
use proptest::prelude::*;

fn catalog() -> Catalog {
    Catalog::new().with_attributes(["City", "email", "NameOfPet", "Date of Birth"])
}

fn mohit() -> Contact {
    let mut c = Contact::new(
        Phone::parse_e164("+919876543452").unwrap(),
        "Mohit  Kumar Dua".into(),
        jiff::Timestamp::UNIX_EPOCH,
    );
    c.attributes.set("City".into(), "Delhi".into());
    c.attributes.set("NameOfPet".into(), "Bruno".into());
    c.attributes
        .set("Date of Birth".into(), "1990-04-01".into());
    c
}

fn asha() -> Contact {
    Contact::new(
        Phone::parse_e164("+919876543210").unwrap(),
        "Asha".into(),
        jiff::Timestamp::UNIX_EPOCH,
    )
}

fn render(text: &str, contact: &Contact) -> String {
    Template::parse(text, &catalog()).unwrap().render(contact)
}

fn parse_error(text: &str) -> TemplateError {
    Template::parse(text, &catalog()).unwrap_err()
}

#[test]
fn name_variables_follow_the_guide() {
    // The guide: $Name: Mohit Dua, $FirstName: Mohit, $LastName: Dua.
    let c = mohit();
    assert_eq!(render("$Name", &c), "Mohit Kumar Dua");
    assert_eq!(render("$FirstName", &c), "Mohit");
    assert_eq!(render("$LastName", &c), "Kumar Dua");
    assert_eq!(
        render("Hi $FirstName, greetings from $City!", &c),
        "Hi Mohit, greetings from Delhi!"
    );
}

#[test]
fn the_longest_variable_wins() {
    let c = mohit();
    assert_eq!(render("$NameOfPet", &c), "Bruno");
    assert_eq!(
        render("$Name's pet $NameOfPet", &c),
        "Mohit Kumar Dua's pet Bruno"
    );
    assert_eq!(render("born $Date of Birth.", &c), "born 1990-04-01.");
    // Without a NameOfPet attribute, $NameOfPet is $Name then "OfPet".
    let plain = Template::parse("$NameOfPet", &Catalog::new()).unwrap();
    assert_eq!(plain.render(&c), "Mohit Kumar DuaOfPet");
}

#[test]
fn text_right_after_a_variable_is_kept() {
    let c = mohit();
    assert_eq!(render("Dear $FirstNameji", &c), "Dear Mohitji");
    assert_eq!(render("$NameX", &c), "Mohit Kumar DuaX");
    assert_eq!(render("$City$City", &c), "DelhiDelhi");
}

#[test]
fn two_dollars_are_one_dollar() {
    let c = mohit();
    assert_eq!(render("Pay $$5 by $$$FirstName", &c), "Pay $5 by $Mohit");
    assert_eq!(render("$$Name", &c), "$Name");
    assert_eq!(render("$$$$", &c), "$$");
    assert_eq!(render("no variables at all", &c), "no variables at all");
    assert_eq!(render("", &c), "");
}

#[test]
fn an_unknown_variable_is_named_with_the_closest_one() {
    let error = parse_error("Hello\n  dear $FristName!");
    assert_eq!(error.at, Some(Location { line: 2, column: 8 }));
    match &error.kind {
        TemplateErrorKind::UnknownVariable {
            name, suggestion, ..
        } => {
            assert_eq!(name, "FristName");
            assert_eq!(suggestion.as_deref(), Some("FirstName"));
        }
        other => panic!("expected an unknown variable, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "line 2, column 8: unknown variable $FristName; did you mean $FirstName?"
    );
    let suggest = |text: &str| match parse_error(text).kind {
        TemplateErrorKind::UnknownVariable { suggestion, .. } => suggestion,
        other => panic!("{other:?}"),
    };
    assert_eq!(suggest("$name").as_deref(), Some("Name"));
    assert_eq!(suggest("$Cty").as_deref(), Some("City"));
    assert_eq!(suggest("$Email").as_deref(), Some("email"));
    assert_eq!(suggest("$LastNmae").as_deref(), Some("LastName"));
    assert_eq!(suggest("$Price"), None);
    assert_eq!(
        parse_error("$Price").to_string(),
        "line 1, column 1: unknown variable $Price; the variables are $Name, $FirstName, $LastName, $City, $email, $NameOfPet, $Date of Birth"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let error = parse_error("नमस्ते $Nam");
    assert_eq!(error.at, Some(Location { line: 1, column: 8 }));
}

#[test]
fn a_lone_dollar_asks_for_two() {
    for (text, column) in [("$", 1), ("costs $ 5", 7), ("costs $5", 7), ("$!", 1)] {
        let error = parse_error(text);
        assert_eq!(error.kind, TemplateErrorKind::LoneDollar, "{text:?}");
        assert_eq!(error.at, Some(Location { line: 1, column }), "{text:?}");
        assert!(error.to_string().contains("write $$ for a dollar sign"));
    }
}

#[test]
fn missing_values_use_the_fallbacks() {
    let template = Template::parse("Hi $FirstName $LastName from $City ($email)", &catalog())
        .unwrap()
        .with_fallback("$City", "your city")
        .unwrap()
        .with_fallback("email", "no email")
        .unwrap();
    assert_eq!(
        template.render(&asha()),
        "Hi Asha  from your city (no email)"
    );
    assert_eq!(
        template.render(&mohit()),
        "Hi Mohit Kumar Dua from Delhi (no email)"
    );
    let friendly = template.with_default_fallback("friend");
    assert_eq!(
        friendly.render(&asha()),
        "Hi Asha friend from your city (no email)"
    );

    let mut empty_value = mohit();
    empty_value.attributes.set("City".into(), String::new());
    assert_eq!(
        Template::parse("[$City]", &catalog())
            .unwrap()
            .render(&empty_value),
        "[]"
    );
}

#[test]
fn a_fallback_for_a_variable_that_does_not_exist_is_refused() {
    let error = Template::parse("$Name", &catalog())
        .unwrap()
        .with_fallback("Cyti", "x")
        .unwrap_err();
    assert_eq!(error.at, None);
    assert_eq!(
        error.to_string(),
        "unknown variable $Cyti; did you mean $City?"
    );
}

#[test]
fn variables_lists_what_the_template_uses() {
    let template = Template::parse("$City $FirstName $City $$email", &catalog()).unwrap();
    assert_eq!(
        template.variables(),
        [
            &Variable::Attribute(Attribute::new("City")),
            &Variable::FirstName
        ]
    );
    assert_eq!(Variable::FirstName.to_string(), "$FirstName");
    assert_eq!(Variable::Attribute("City".into()).value(&mohit()), "Delhi");
}

#[test]
fn render_into_appends_to_a_buffer() {
    let template = Template::parse("Hi $FirstName. ", &catalog()).unwrap();
    let mut out = String::new();
    template.render_into(&mohit(), &mut out);
    template.render_into(&asha(), &mut out);
    assert_eq!(out, "Hi Mohit. Hi Asha. ");
}

proptest! {
    #[test]
    fn any_text_parses_or_fails_cleanly_and_renders_without_panicking(
        text in "[$a-zA-Z NOPCitymeF\u{0930}\n]{0,40}",
        name in "[a-zA-Z\u{0930} ]{1,20}",
        city in prop::option::of("[a-z]{0,5}"),
    ) {
        let mut c = Contact::new(Phone::parse_e164("+919876543210").unwrap(), name, jiff::Timestamp::UNIX_EPOCH);
        if let Some(city) = city {
            c.attributes.set("City".into(), city);
        }
        match Template::parse(&text, &catalog()) {
            Ok(template) => { template.render(&c); }
            Err(error) => {
                let at = error.at.unwrap();
                let line = text.lines().nth(at.line - 1).unwrap_or("");
                prop_assert_eq!(line.chars().nth(at.column - 1), Some('$'));
            }
        }
    }

    #[test]
    fn text_without_variables_renders_as_itself(text in "[^$]{0,40}") {
        let escaped = format!("{text}$$");
        let template = Template::parse(&escaped, &catalog()).unwrap();
        prop_assert_eq!(template.render(&asha()), format!("{text}$"));
    }
}
