//! Documents validated once: the GraphQL rules that depend only on a
//! document are not run again on every request that sends it (issue 19).
//!
//! async-graphql runs all 22 validation rules on every request, even for a
//! document it has seen a thousand times: a tenth of a cold read of one
//! indicator. Of those rules only one looks at the request's variables
//! (`ArgumentsOfCorrectType`, which checks each variable's value against
//! the argument it is given to); the others are properties of the document
//! and the operation chosen. So the HTTP transport keeps two schemas:
//!
//! - the **strict** one ([`crate::build_http_schema`]) runs every rule, and
//!   a request that succeeds on it proves that the document's rules pass;
//! - the **checked** one ([`crate::build_checked_schema`], async-graphql's
//!   `ValidationMode::Fast`) skips the rules but still measures complexity
//!   (which depends on the variables: `first: $n`) and refuses what is over
//!   the limit, and looks for fragment cycles.
//!
//! A request runs on the checked schema only when [`may_skip_rules`] says
//! so: its document passed on the strict schema before, with the same
//! operation, and every variable it sends is one whose validity this module
//! can decide exactly as `ArgumentsOfCorrectType` would: a value that is
//! not null, of a scalar variable (`ID`, `String`, `Int`, `Boolean`,
//! `Decimal`, `Date`, `DateTime`), checked by that scalar's own
//! `is_valid`, the very function the schema's registry calls (a variable
//! used in an argument has the argument's named type, which
//! `VariableInAllowedPosition` checked with the document). Anything else
//! (an enum, an input object, a list, a null) runs the strict rules again.
//! So a request gets the same answer, errors included, on either schema.

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition,
};
use async_graphql::{Positioned, Value, Variables};

/// The operation a request runs, when the document has exactly one (named
/// as the request names it, or the request names none); `None` otherwise
/// (the strict schema then decides, and says what is wrong).
pub fn single_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Multiple(ops), name) if ops.len() == 1 => {
            let (op_name, op) = ops.iter().next()?;
            (name.is_none() || name == Some(op_name.as_str())).then_some(op)
        }
        _ => None,
    }
}

/// Whether a request may skip the document's rules: `validated` (its
/// document passed them with this operation before) and every variable
/// sent is one whose check needs no rule (module doc).
pub fn may_skip_rules(
    validated: bool,
    document: &ExecutableDocument,
    name: Option<&str>,
    variables: &Variables,
) -> bool {
    if !validated {
        return false;
    }
    let Some(op) = single_operation(document, name) else {
        return false;
    };
    op.node.variable_definitions.iter().all(|definition| {
        let definition = &definition.node;
        let BaseType::Named(ty) = &definition.var_type.node.base else {
            return false;
        };
        // A variable not sent is not checked by the rule either (execution
        // uses the default or says it is missing, on both schemas).
        let Some(value) = variables.get(&definition.name.node) else {
            return true;
        };
        valid_scalar(ty.as_str(), value)
    })
}

/// Whether a value that is not null is valid for the scalar `ty`, by the
/// very check the schema's registry holds for it (the scalar's
/// `ScalarType::is_valid`); `false` for a null and for any other type
/// (enums, input objects and lists run the rules).
fn valid_scalar(ty: &str, value: &Value) -> bool {
    use async_graphql::ScalarType;
    if matches!(value, Value::Null) {
        return false;
    }
    match ty {
        "ID" => <async_graphql::ID as ScalarType>::is_valid(value),
        "String" => <String as ScalarType>::is_valid(value),
        "Int" => <i32 as ScalarType>::is_valid(value),
        "Boolean" => <bool as ScalarType>::is_valid(value),
        "Decimal" => <crate::scalars::Decimal as ScalarType>::is_valid(value),
        "Date" => <crate::scalars::Date as ScalarType>::is_valid(value),
        "DateTime" => <chrono::DateTime<chrono::Utc> as ScalarType>::is_valid(value),
        _ => false,
    }
}

/// Whether a request that ran on the strict schema proved its document
/// valid for later requests: it had no error at all, and names its
/// document's only operation.
pub fn proves_rules(
    document: &ExecutableDocument,
    name: Option<&str>,
    response: &async_graphql::Response,
) -> bool {
    response.errors.is_empty() && single_operation(document, name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn vars(json: &str) -> Variables {
        Variables::from_json(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn only_a_validated_single_operation_with_builtin_variables_skips() {
        let doc = parse_query("query Q($id: ID!, $n: Int, $b: Boolean) { a }").unwrap();
        let good = vars(r#"{"id": "x", "n": 5, "b": true}"#);
        assert!(may_skip_rules(true, &doc, None, &good));
        assert!(may_skip_rules(true, &doc, Some("Q"), &good));
        assert!(!may_skip_rules(false, &doc, None, &good));
        assert!(!may_skip_rules(true, &doc, Some("R"), &good));
        // Not sent: the rule does not check it either.
        assert!(may_skip_rules(true, &doc, None, &vars(r#"{"id": 7}"#)));
        for bad in [
            r#"{"id": null}"#,
            r#"{"id": 1.5}"#,
            r#"{"id": true}"#,
            r#"{"n": "5"}"#,
            r#"{"n": 5.5}"#,
            r#"{"b": "true"}"#,
            r#"{"id": ["x"]}"#,
        ] {
            assert!(!may_skip_rules(true, &doc, None, &vars(bad)), "{bad}");
        }
    }

    #[test]
    fn other_types_and_documents_run_the_rules() {
        let custom = parse_query("query($v: Decimal!, $d: Date) { a }").unwrap();
        let sent = vars(r#"{"v": "1.5", "d": "2025-12-31"}"#);
        assert!(may_skip_rules(true, &custom, None, &sent));
        // As the scalars' own check says: these let every value through
        // (their parsing refuses a bad one when the field runs, on either
        // schema), and a null runs the rules.
        let odd = vars(r#"{"v": true, "d": 5}"#);
        assert!(may_skip_rules(true, &custom, None, &odd));
        assert!(!may_skip_rules(
            true,
            &custom,
            None,
            &vars(r#"{"v": null}"#)
        ));
        let enumerated = parse_query("query($s: ActualStatus) { a }").unwrap();
        let status = vars(r#"{"s": "FINAL"}"#);
        assert!(!may_skip_rules(true, &enumerated, None, &status));
        let list = parse_query("query($v: [ID!]) { a }").unwrap();
        assert!(!may_skip_rules(true, &list, None, &vars(r#"{"v": ["x"]}"#)));
        let two = parse_query("query A { a } query B { b }").unwrap();
        assert!(!may_skip_rules(
            true,
            &two,
            Some("A"),
            &Variables::default()
        ));
        let anonymous = parse_query("{ a }").unwrap();
        assert!(may_skip_rules(
            true,
            &anonymous,
            None,
            &Variables::default()
        ));
        // An anonymous operation cannot be asked for by name.
        assert!(!may_skip_rules(
            true,
            &anonymous,
            Some("A"),
            &Variables::default()
        ));
    }
}
