//! End-to-end tests of `watchfire feeds catalogue`: the real binary lists every built-in feed.

use std::process::Command;

use watchfire_formats::catalogue;

fn watchfire(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_watchfire")).args(args).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[test]
fn json_prints_one_object_per_feed_with_every_field() {
    let stdout = watchfire(&["feeds", "catalogue", "--json"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), catalogue::catalogue().len());
    for (line, entry) in lines.iter().zip(catalogue::catalogue()) {
        let parsed: catalogue::CatalogueEntry = serde_json::from_str(line).expect("an entry");
        assert_eq!(&parsed, entry);
    }
    let feodo =
        lines.iter().find(|line| line.contains(r#""name":"abusech-feodotracker-ipblocklist""#));
    assert_eq!(
        feodo,
        Some(
            &r#"{"name":"abusech-feodotracker-ipblocklist","provider":"abuse.ch","description":"Feodo Tracker: botnet C2 servers (Dridex, Emotet, QakBot, ...) with port and malware","url":"https://feodotracker.abuse.ch/downloads/ipblocklist.csv","format":"abusech-feodotracker","terms":"CC0 1.0 (abuse.ch terms of use)","tlp":"TLP:CLEAR","category":"botnet_c2","confidence":95,"refresh":300,"api_key":false}"#
        )
    );
}

#[test]
fn the_table_has_a_header_and_a_row_per_feed() {
    let stdout = watchfire(&["feeds", "catalogue"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{}", lines[0]);
    assert_eq!(lines.len(), catalogue::catalogue().len() + 1);
    for (line, entry) in lines[1..].iter().zip(catalogue::catalogue()) {
        assert!(line.starts_with(&format!("{} ", entry.name)), "{line}");
        assert!(line.ends_with(&entry.url), "{line}");
    }
}
