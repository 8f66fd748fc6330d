//! Every mutation, fed hostile values in every input field (read from the
//! schema itself, so a new mutation is fuzzed without touching this file):
//! each answer is a GraphQL response whose every error carries a code,
//! never a dropped connection or a 5xx, and the server answers afterwards.

use crate::helpers::*;
use serde_json::{json, Map, Value};

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

/// A small deterministic generator (xorshift), seeded per run and printed,
/// so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const STRINGS: &[&str] = &[
    "",
    " ",
    "Xã Phú Cần",
    "\u{202E}nầC úhP",
    "a\u{200B}b",
    "nul\u{0}byte",
    "line\nbreak",
    "\"}]}",
    "../../etc/passwd",
    "🇻🇳💥",
    "Nga\u{0302}n sa\u{0301}ch",
    "%s%n%x",
    "DROP TABLE chitieu_events;",
];
const IDS: &[&str] = &[
    "",
    "not-an-id",
    "00000000-0000-0000-0000-000000000000",
    "0195f3c0-0000-7000-8000-000000000001",
    "TV.TIEU-CAN",
    "LA.CAN-DUOC",
    "lanh-dao",
    "ubkt",
    "38-CTr/HU",
    "ZZ.NOWHERE",
];
const DECIMALS: &[&str] = &[
    "1.5",
    "71.50",
    "-0",
    "0",
    "1e5",
    "1,5",
    "NaN",
    " 12 ",
    "99999999999999999999999999999999",
    "0.00000000000000000000000000001",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
];
const DATES: &[&str] = &[
    "2025-12-31",
    "2025-02-30",
    "0000-01-01",
    "9999-12-31",
    "+275760-09-13",
    "2025-1-1",
    "",
];
const PERIODS: &[&str] = &[
    "2022",
    "2022-H1",
    "2022-Q4",
    "2020-2025",
    "2022-H3",
    "by 2025",
    "x",
];

struct Schema {
    types: Map<String, Value>,
}

impl Schema {
    fn type_string(t: &Value) -> String {
        match t["kind"].as_str().unwrap() {
            "NON_NULL" => format!("{}!", Self::type_string(&t["ofType"])),
            "LIST" => format!("[{}]", Self::type_string(&t["ofType"])),
            _ => t["name"].as_str().unwrap().to_owned(),
        }
    }

    fn value(&self, t: &Value, field: &str, rng: &mut Rng, depth: usize) -> Value {
        match t["kind"].as_str().unwrap() {
            "NON_NULL" => {
                // Now and then a null where one is not allowed.
                if rng.below(40) == 0 {
                    Value::Null
                } else {
                    self.value(&t["ofType"], field, rng, depth)
                }
            }
            "LIST" => {
                let n = rng.below(3);
                Value::Array(
                    (0..n)
                        .map(|_| self.value(&t["ofType"], field, rng, depth + 1))
                        .collect(),
                )
            }
            _ if rng.below(10) == 0 => Value::Null,
            _ => self.named(t["name"].as_str().unwrap(), field, rng, depth),
        }
    }

    fn named(&self, name: &str, field: &str, rng: &mut Rng, depth: usize) -> Value {
        let lower = field.to_lowercase();
        match name {
            "String" if lower.contains("period") => json!(rng.pick(PERIODS)),
            "String" if rng.below(8) == 0 => json!("x".repeat(5000)),
            "String" => json!(rng.pick(STRINGS)),
            "ID" => json!(rng.pick(IDS)),
            "Int" => json!([0i64, -1, 1, 30, 3650, 2_147_483_647, -2_147_483_648][rng.below(7)]),
            "Float" => json!([0.0, -1.5, 1e300][rng.below(3)]),
            "Boolean" => json!(rng.below(2) == 0),
            "Decimal" => {
                if rng.below(10) == 0 {
                    json!(1.5)
                } else {
                    json!(rng.pick(DECIMALS))
                }
            }
            "Date" => json!(rng.pick(DATES)),
            "DateTime" => json!(["2025-01-01T00:00:00Z", "yesterday"][rng.below(2)]),
            other => {
                let t = &self.types[other];
                match t["kind"].as_str().unwrap() {
                    "ENUM" => {
                        let values = t["enumValues"].as_array().unwrap();
                        if rng.below(10) == 0 {
                            json!("NOT_A_VALUE")
                        } else {
                            values[rng.below(values.len())]["name"].clone()
                        }
                    }
                    "INPUT_OBJECT" if depth < 4 => {
                        let mut object = Map::new();
                        for f in t["inputFields"].as_array().unwrap() {
                            let required = f["type"]["kind"] == "NON_NULL";
                            if required || rng.below(2) == 0 {
                                let name = f["name"].as_str().unwrap();
                                object.insert(
                                    name.to_owned(),
                                    self.value(&f["type"], name, rng, depth + 1),
                                );
                            }
                        }
                        Value::Object(object)
                    }
                    _ => Value::Null,
                }
            }
        }
    }
}

#[tokio::test]
async fn every_mutation_answers_hostile_input_with_coded_errors() {
    let app = spawn_app().await;
    let introspected = app
        .gql(
            "admin",
            &format!("{{ __schema {{ mutationType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} }} }} types {{ name kind inputFields {{ name type {{ {TYPE_REF} }} }} enumValues {{ name }} }} }} }}"),
            json!({}),
        )
        .await;
    let schema = Schema {
        types: introspected["__schema"]["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
            .collect(),
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("fuzz seed {seed}");
    let mut rng = Rng(seed);
    let mutations = introspected["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .clone();
    assert!(mutations.len() >= 19, "{}", mutations.len());
    let mut sent = 0;
    for mutation in &mutations {
        let name = mutation["name"].as_str().unwrap();
        let args = mutation["args"].as_array().unwrap();
        let declared: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, a)| format!("$a{i}: {}", Schema::type_string(&a["type"])))
            .collect();
        let passed: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}: $a{i}", a["name"].as_str().unwrap()))
            .collect();
        let query = if args.is_empty() {
            format!("mutation {{ {name} {{ __typename }} }}")
        } else {
            format!(
                "mutation({}) {{ {name}({}) {{ __typename }} }}",
                declared.join(", "),
                passed.join(", ")
            )
        };
        for _ in 0..25 {
            let mut variables = Map::new();
            for (i, a) in args.iter().enumerate() {
                let arg = a["name"].as_str().unwrap();
                variables.insert(format!("a{i}"), schema.value(&a["type"], arg, &mut rng, 0));
            }
            let reply = app
                .post(
                    Some("admin"),
                    json!({ "query": query, "variables": variables }),
                )
                .await;
            sent += 1;
            assert!(
                reply.status < 500,
                "{name} answered {} to {variables:?}: {}",
                reply.status,
                reply.body
            );
            if let Some(errors) = reply.body.get("errors") {
                for error in errors.as_array().unwrap() {
                    assert!(
                        error["extensions"]["code"].is_string(),
                        "{name}: an error without a code for {variables:?}: {error}"
                    );
                }
            } else {
                assert!(
                    reply.body["data"][name].is_object(),
                    "{name}: {}",
                    reply.body
                );
            }
        }
    }
    eprintln!("{sent} hostile mutations answered");
    let alive = app.gql("admin", "{ today }", json!({})).await;
    assert!(alive["today"].is_string());
}
