//! What the server benches share: reading the banner of a `chitieu demo`
//! the bench started.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

/// The GraphQL URL and the tokens (by demo person id) the server printed,
/// read until it says it is ready.
pub fn read_banner(child: &mut std::process::Child) -> (String, HashMap<String, String>) {
    let stdout = child.stdout.take().expect("stdout");
    let mut url = String::new();
    let mut tokens = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("chitieu: GraphQL at ") {
            url = rest.trim().to_owned();
        }
        if let Some(rest) = line.strip_prefix("chitieu: token ") {
            let mut parts = rest.split_whitespace();
            if let (Some(who), Some(token)) = (parts.next(), parts.next()) {
                tokens.insert(who.to_owned(), token.to_owned());
            }
        }
        if line == "chitieu: ready" {
            break;
        }
    }
    assert!(!url.is_empty(), "the server printed no URL");
    (url, tokens)
}
