//! Unit tests of the SQL injection checks.

use super::*;

/// The chunk rules of `is_prose` written plainly, one condition at a time: the one-pass
/// version must agree with it.
fn is_prose_plain(view: &str) -> bool {
    let mut chunks = 0usize;
    let mut words = 0usize;
    let counted =
        view.as_bytes().split(|&b| b == b' ').filter(|c| c.iter().any(|b| b.is_ascii_alphanumeric() || *b >= 0x80));
    for chunk in counted.take(MAX_PROSE_CHUNKS) {
        chunks += 1;
        let core = trim_bytes(trim_bytes(chunk, b".,?!:;", b"(\""), b")\"", b"");
        let quoted = core.first() == Some(&b'\'') || core.last() == Some(&b'\'');
        let letters = core.iter().all(|&b| b.is_ascii_alphabetic() || b == b'\'' || b >= 0x80);
        let plain_ascii = core.iter().all(|&b| b.is_ascii_alphabetic());
        if core.len() >= 2 && letters && !quoted && (!plain_ascii || keyword_bytes(core) == Kw::Ident) {
            words += 1;
        }
    }
    words >= 8 && words * 2 > chunks
}

proptest::proptest! {
    #[test]
    fn is_prose_agrees_with_its_plain_statement(
        chunks in proptest::collection::vec("[a-z]{1,7}|select|or|[0-9]{1,3}|don't|'x|x'|\\(cnn\\)|--|\\||é[a-z]{0,3}|[a-z]{2,5}[.,?!:;]|\"[a-z]{2,4}\"|[a-z]{1,3}\\)\\.", 0..40)
    ) {
        let view = chunks.join(" ");
        proptest::prop_assert_eq!(is_prose(&view), is_prose_plain(&view), "{:?}", view);
    }
}

#[test]
fn is_prose_reads_at_most_its_chunk_budget() {
    // 400 words, then symbols: the symbols are past the budget and do not count.
    let view = format!("{} {}", vec!["word"; MAX_PROSE_CHUNKS].join(" "), vec!["x1=2"; 2 * MAX_PROSE_CHUNKS].join(" "));
    assert!(is_prose(&view));
    assert_eq!(is_prose(&view), is_prose_plain(&view));
    let view = format!("{} {}", vec!["x1=2"; MAX_PROSE_CHUNKS].join(" "), vec!["word"; 2 * MAX_PROSE_CHUNKS].join(" "));
    assert!(!is_prose(&view));
}

/// The score of `s` as a value (a parameter, a field): the probing families below are values.
fn score(s: &str) -> f32 {
    let mut r = ThreatReport::default();
    let mut broken = ThreatReport::default();
    scan_sqli(s, false, &mut r, &mut broken);
    r.merge(broken);
    r.score(Category::Sqli)
}

/// The score of `s` as a whole text someone sent.
fn score_as_written(s: &str) -> f32 {
    let mut r = ThreatReport::default();
    let mut broken = ThreatReport::default();
    scan_sqli(s, true, &mut r, &mut broken);
    r.merge(broken);
    r.score(Category::Sqli)
}

/// SQL code as a person writes it is not a payload; a value that breaks out of its string,
/// stacks a statement after a value, cuts the query off with an empty comment, or hides a
/// keyword in a number still is. Statements written for this test, in the style of the
/// PostgreSQL and SQLite manuals.
#[test]
fn statements_a_person_writes_are_not_payloads() {
    let statements = [
        "select id, name from accounts where created_at > now() - interval '1 day' order by id;",
        "drop table if exists sessions; create table sessions (id bigserial primary key, user_id bigint);",
        "select id from a union select id from b;",
        "insert into cities values ('san francisco', 46); insert into cities values ('berkeley', 12);",
        "with t as (select 1 as x) select x from t -- the common table expression",
        "alter table `t` add c int",
    ];
    for s in statements {
        assert!(score_as_written(s) < 0.5, "statement {s}: {}", score_as_written(s));
    }
    let payloads = [
        "1; drop table users",
        "1' or '1'='1",
        "select 1,2,concat_ws(0x3a,user,password) from users --",
        "select 1; (select 1); update users set password = 99",
        "select 0xunion select 2",
        "select case when (1=1) then 'a' else 'b' end;",
        "drop table if exists album; drop table if exists artist; drop table if exists customer;",
        "select pg_sleep(5)",
    ];
    for p in payloads {
        assert!(score_as_written(p) >= 0.5, "payload {p}: {}", score_as_written(p));
    }
    // The same statement arriving as a value (a parameter) is a payload.
    assert!(score("alter table `t` add c int") >= 0.5);
}

/// Documentation writes `...` for the parts of a statement it leaves out, and queries the
/// standard catalogues as often as payloads do: such statements are SQL written about SQL.
/// The same catalogue read after a value, or an elided statement arriving as a value, is not.
/// Statements written for this test.
#[test]
fn elided_statements_and_catalogue_queries_are_sql_about_sql() {
    let statements = [
        "select name, price from products where ... order by price desc;",
        "update orders set status = 'shipped' where id in (...);",
        "create function total_for(customer_id int) returns numeric as ... ;",
        "select ... from events e join users u on ...",
        "select column_name, data_type from information_schema.columns where table_name = 'orders';",
        "select tablename from pg_catalog.pg_tables where schemaname = 'public';",
        "select name from sqlite_master where type = 'index' order by name;",
    ];
    for s in statements {
        assert!(score_as_written(s) < 0.5, "statement {s}: {}", score_as_written(s));
    }
    let payloads = [
        "1 union select table_name from information_schema.tables--",
        "' union select name from sqlite_master --",
        "select 1,2,3,group_concat(username) from users",
        "select ... from users where id = 1 or 1=1",
    ];
    for p in payloads {
        assert!(score_as_written(p) >= 0.5, "payload {p}: {}", score_as_written(p));
    }
    assert!(score("select tablename from pg_catalog.pg_tables") >= 0.5);
}

#[test]
fn payloads_score_high() {
    for p in ["1' or '1'='1", "-1 union select 1,2,3--", "1; drop table users", "admin'--", "1 and sleep(5)"] {
        assert!(score(p) >= 0.5, "{p}");
    }
}

/// One attack and one look-alike per probing family, written for these tests.
#[test]
fn probing_families_and_their_look_alikes() {
    let families: &[(&str, &str)] = &[
        // a tautology needs no `or`; a false comparison is not one
        ("7=7", "7=8"),
        ("x,'q'<>'r'", "'q' is not 'q'"),
        // an operator alone, as a whole value
        ("<=>", "<3"),
        // a boolean squeezed between quotes, an escaped quote turned against its escaping
        ("z'or'z", "bob's or carol's"),
        ("\\' or 2", "it\\'s and that"),
        // the tail of a query: alias and FROM, a FROM clause with another clause, DDL
        ("9 as \"total\" from", "as evidence from the report"),
        ("from `orders` where", "from home where i live"),
        ("alter table `t` add c int", "create table of contents"),
        // sub-selects
        ("(select top 1 name from sysusers)", "(select one option)"),
        // a quote then a numeric or list context; quotes alone
        ("'>42", "'<3'"),
        ("\"'", "''"),
        // stacked statement and commented tail after a break-out
        ("q';--", "women';s wear"),
        ("k'+email--", "k'~email--"),
        // a closing quote, a boolean and one operand
        ("' or k9", "' or a long sentence follows here"),
        // SQL keyword probes
        ("except select 1", "except selecting"),
        ("execute sp_who", "execute the plan now"),
        ("7.e(version)", "7.e2"),
        ("select pg_sleep", "select one"),
        ("x like '", "i like 'x'"),
        // truncated call probes
        ("round/*x*/(", "round about ("),
        ("year](", "year 2020 ("),
        // JSON operators on a quoted JSON literal
        ("or '{\"k\":1}' ? 'k'", "is '{\"k\":1}' valid json?"),
    ];
    for (attack, benign) in families {
        assert!(score(attack) >= 0.5, "attack {attack}: {}", score(attack));
        assert!(score(benign) < 0.5, "benign {benign}: {}", score(benign));
    }
}

/// Padding cannot push a payload past the tokens one view reads: the rest is read in
/// windows for the shapes that count even in prose. Long benign text stays clean.
#[test]
fn payloads_after_long_padding_are_still_seen() {
    let padding = "the quarterly report covers revenue, costs and the outlook for next year. ".repeat(120);
    assert!(padding.split(' ').count() > 2 * MAX_TOKENS);
    for payload in ["x'; drop table users; --", "1 union select password from users", "1 and sleep(5)"] {
        let text = format!("{padding}{payload}");
        assert!(score(&text) >= 0.5, "{payload}: {}", score(&text));
    }
    let benign = format!("{padding}see the appendix (table 3); it lists every region. {padding}");
    assert!(score(&benign) < 0.5, "{}", score(&benign));
}

#[test]
fn prose_about_sql_scores_low() {
    for p in ["how do i write a select query?", "select the best answer from the list below", "rock and roll"] {
        assert!(score(p) < 0.5, "{p}");
    }
}
