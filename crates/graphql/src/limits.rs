//! Limits async-graphql does not have: aliases and directives per request,
//! and a depth limit that gives introspection a budget of its own.
//! (Complexity, recursion and directives per field are set on the schema;
//! page size in the connections; body size, time and batches in the server.)
//!
//! The depth of a request is counted here rather than by async-graphql's
//! `limit_depth`, which counts introspection like any other selection: the
//! standard introspection query (GraphiQL's, GraphQL Code Generator's,
//! `gql`'s) is 13 levels deep because of its `ofType` chain, and a limit
//! low enough to stop abuse of the data refuses every client's schema
//! fetch. Under `__schema` and `__type` the budget is
//! [`INTROSPECTION_DEPTH`] levels, and, as graphql-js's
//! `MaxIntrospectionDepthRule` does, at most
//! [`INTROSPECTION_LIST_NESTING`] nested `fields`, `inputFields`,
//! `interfaces` or `possibleTypes` on one path (what makes an
//! introspection query grow exponentially).
//!
//! As an extension, the check costs every field of every request a trip
//! through the extension chain (a quarter of a cold read's time), so the
//! HTTP transport, which parses each document anyway, calls
//! [`check_aliases`] itself on a schema without the extension
//! ([`crate::build_http_schema`]); WebSockets keep the extension.

use crate::error::Msg;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::ValidationResult;
use async_graphql::{ServerError, ServerResult, Variables};
use std::sync::Arc;

/// Whether a document's text may run (a server's allow-list of operations).
pub type AllowDocument = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Refuses requests with more than `max_aliases` aliased fields, too many
/// directives, nested too deep, or (with `allow`) not in the server's
/// allow-list of operations.
#[derive(Clone)]
pub struct DocumentLimits {
    /// The most aliases a request may use.
    pub max_aliases: usize,
    /// The deepest nesting of data fields.
    pub max_depth: usize,
    /// The only documents that run, when the server has a list.
    pub allow: Option<AllowDocument>,
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

fn count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => count(&i.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Refuses a document with more than `max` aliased fields (in its
/// operations and fragments), with a `VALIDATION` error.
pub fn check_aliases(document: &ExecutableDocument, max: usize) -> ServerResult<()> {
    check_alias_count(alias_count(document), max)
}

/// The aliased fields of a document, in its operations and fragments.
pub fn alias_count(document: &ExecutableDocument) -> usize {
    document
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum::<usize>()
        + document
            .fragments
            .values()
            .map(|f| count(&f.node.selection_set.node))
            .sum::<usize>()
}

/// Most directives one field may carry.
pub const MAX_DIRECTIVES_PER_FIELD: usize = 4;
/// Most directives one document may carry.
pub const MAX_DIRECTIVES_PER_DOCUMENT: usize = 64;

fn directives_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                f.node.directives.len() + directives_in(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => {
                i.node.directives.len() + directives_in(&i.node.selection_set.node)
            }
            Selection::FragmentSpread(s) => s.node.directives.len(),
        })
        .sum()
}

/// The directives of a document, on its operations, fragments and fields.
pub fn directive_count(document: &ExecutableDocument) -> usize {
    document
        .operations
        .iter()
        .map(|(_, op)| op.node.directives.len() + directives_in(&op.node.selection_set.node))
        .sum::<usize>()
        + document
            .fragments
            .values()
            .map(|f| f.node.directives.len() + directives_in(&f.node.selection_set.node))
            .sum::<usize>()
}

/// Deepest nesting under `__schema` or `__type` (the standard introspection
/// query needs 12; tools that follow `ofType` further need a few more).
pub const INTROSPECTION_DEPTH: usize = 24;
/// Most nested `fields` / `inputFields` / `interfaces` / `possibleTypes`
/// on one introspection path (the standard query needs 1).
pub const INTROSPECTION_LIST_NESTING: usize = 2;

/// How deep a document goes: its data selections, and its introspection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depth {
    /// Deepest nesting of fields outside introspection (root fields are 1).
    pub data: usize,
    /// Deepest nesting under `__schema` / `__type` (those fields are 1).
    pub introspection: usize,
    /// Most nested type-listing fields on one introspection path.
    pub introspection_lists: usize,
}

/// Fragments are inlined; a fragment that spreads itself (refused later by
/// validation) is not followed twice on one path. Past this nesting the
/// walk stops: the document is refused anyway.
const WALK_CAP: usize = 256;

fn walk<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    depth: &mut Depth,
    level: usize,
    introspection: Option<(usize, usize)>,
    fragments: &mut Vec<&'a str>,
) {
    if level > WALK_CAP || fragments.len() > WALK_CAP {
        depth.data = depth.data.max(level);
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                let inner = match introspection {
                    Some((d, lists)) => {
                        let lists = lists
                            + usize::from(matches!(
                                name,
                                "fields" | "inputFields" | "interfaces" | "possibleTypes"
                            ));
                        depth.introspection = depth.introspection.max(d + 1);
                        depth.introspection_lists = depth.introspection_lists.max(lists);
                        Some((d + 1, lists))
                    }
                    None if name == "__schema" || name == "__type" => {
                        depth.introspection = depth.introspection.max(1);
                        Some((1, 0))
                    }
                    None => {
                        depth.data = depth.data.max(level + 1);
                        None
                    }
                };
                walk(
                    document,
                    &f.node.selection_set.node,
                    depth,
                    level + 1,
                    inner,
                    fragments,
                );
            }
            Selection::InlineFragment(i) => walk(
                document,
                &i.node.selection_set.node,
                depth,
                level,
                introspection,
                fragments,
            ),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if fragments.contains(&name) {
                    continue;
                }
                if let Some(fragment) = document.fragments.get(&s.node.fragment_name.node) {
                    fragments.push(name);
                    walk(
                        document,
                        &fragment.node.selection_set.node,
                        depth,
                        level,
                        introspection,
                        fragments,
                    );
                    fragments.pop();
                }
            }
        }
    }
}

/// The depth of a document: the deepest of its operations, fragments
/// inlined.
pub fn depth(document: &ExecutableDocument) -> Depth {
    let mut depth = Depth::default();
    for (_, operation) in document.operations.iter() {
        walk(
            document,
            &operation.node.selection_set.node,
            &mut depth,
            0,
            None,
            &mut Vec::new(),
        );
    }
    depth
}

/// A refusal of async-graphql's own kind, worded in both languages
/// (`crate::error::localize` picks one) and with its code.
pub fn refusal(message: Msg, code: &str) -> ServerError {
    let mut error = ServerError::new(message.en.clone(), None);
    error.source = Some(std::sync::Arc::new(message));
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

fn limit_exceeded(message: Msg) -> ServerError {
    refusal(message, "LIMIT_EXCEEDED")
}

/// Refuses a document nested deeper than `max` levels of data, or past
/// the introspection budget, with `LIMIT_EXCEEDED`.
pub fn check_depth(depth: Depth, max: usize) -> ServerResult<()> {
    if depth.data > max {
        return Err(limit_exceeded(Msg::new(
            format!(
                "the query is nested {} levels deep; at most {max} are allowed",
                depth.data
            ),
            format!("truy vấn lồng {} cấp; tối đa {max} cấp", depth.data),
        )));
    }
    if depth.introspection > INTROSPECTION_DEPTH {
        return Err(limit_exceeded(Msg::new(
            format!(
                "the introspection query is nested {} levels deep; at most {INTROSPECTION_DEPTH} are allowed",
                depth.introspection
            ),
            format!(
                "truy vấn cấu trúc (introspection) lồng {} cấp; tối đa {INTROSPECTION_DEPTH} cấp",
                depth.introspection
            ),
        )));
    }
    if depth.introspection_lists > INTROSPECTION_LIST_NESTING {
        return Err(limit_exceeded(Msg::new(
            format!(
                "the introspection query nests `fields`, `inputFields`, `interfaces` or `possibleTypes` {} times on one path; at most {INTROSPECTION_LIST_NESTING} are allowed",
                depth.introspection_lists
            ),
            format!(
                "truy vấn cấu trúc lồng `fields`, `inputFields`, `interfaces` hoặc `possibleTypes` {} lần trên một nhánh; tối đa {INTROSPECTION_LIST_NESTING} lần",
                depth.introspection_lists
            ),
        )));
    }
    Ok(())
}

/// Refuses a count of directives above [`MAX_DIRECTIVES_PER_DOCUMENT`].
pub fn check_directive_count(directives: usize) -> ServerResult<()> {
    if directives > MAX_DIRECTIVES_PER_DOCUMENT {
        return Err(limit_exceeded(Msg::new(
            format!(
                "the request uses {directives} directives; at most {MAX_DIRECTIVES_PER_DOCUMENT} are allowed"
            ),
            format!(
                "yêu cầu dùng {directives} chỉ thị (directive); tối đa {MAX_DIRECTIVES_PER_DOCUMENT}"
            ),
        )));
    }
    Ok(())
}

/// Refuses a count of aliases above `max` (for a transport that counted
/// them once per distinct document).
pub fn check_alias_count(aliases: usize, max: usize) -> ServerResult<()> {
    if aliases > max {
        return Err(refusal(
            Msg::new(
                format!("the request uses {aliases} aliases; at most {max} are allowed"),
                format!("yêu cầu dùng {aliases} bí danh (alias); tối đa {max}"),
            ),
            "VALIDATION",
        ));
    }
    Ok(())
}

#[async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(allow) = &self.allow {
            if !allow(query) {
                return Err(refusal(
                    Msg::new(
                        "this server runs only its registered operations; this one is not among them",
                        "máy chủ này chỉ chạy các thao tác đã đăng ký; thao tác này không có trong danh sách",
                    ),
                    "PERSISTED_QUERY_REQUIRED",
                ));
            }
        }
        let document = next.run(ctx, query, variables).await?;
        check_aliases(&document, self.max_aliases)?;
        check_directive_count(directive_count(&document))?;
        check_depth(depth(&document), self.max_depth)?;
        Ok(document)
    }
    /// Every response of the WebSocket transport (which runs every
    /// operation as a stream) gets its codes and the language of the
    /// connection ([`crate::lang::Lang`] in its data, from the upgrade's
    /// `Accept-Language`), as HTTP responses get them in the server.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: futures_util::stream::BoxStream<'s, async_graphql::Response>,
        next: async_graphql::extensions::NextSubscribe<'_>,
    ) -> futures_util::stream::BoxStream<'s, async_graphql::Response> {
        use futures_util::StreamExt;
        let lang = ctx
            .data_opt::<crate::lang::Lang>()
            .copied()
            .unwrap_or_default();
        let worded = stream
            .map(move |mut response| {
                crate::error::ensure_codes(&mut response);
                crate::error::localize(&mut response, lang);
                response
            })
            .boxed();
        next.run(ctx, worded)
    }
}

/// Measures a document's complexity and stops it there: the schema built
/// with it ([`crate::build_cost_schema`]) has no complexity limit and runs
/// nothing. Used only to tell a client whose query was too complex what
/// it cost.
struct CostProbe;

const COST_MARK: &str = "chitieu-cost:";

impl ExtensionFactory for CostProbe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostProbe)
    }
}

#[async_trait::async_trait]
impl Extension for CostProbe {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        Err(vec![ServerError::new(
            format!("{COST_MARK}{}", result.complexity),
            None,
        )])
    }
}

/// The extension for [`crate::build_cost_schema`].
pub(crate) fn cost_probe() -> impl ExtensionFactory {
    CostProbe
}

/// The complexity of a request, on a schema from
/// [`crate::build_cost_schema`] (nothing is executed).
pub async fn complexity_of(
    cost_schema: &crate::ChitieuSchema,
    request: async_graphql::Request,
) -> Option<usize> {
    let response = cost_schema.execute(request).await;
    response
        .errors
        .iter()
        .find_map(|e| e.message.strip_prefix(COST_MARK)?.parse().ok())
}

/// The message for a query over the complexity limit.
pub fn too_complex(cost: Option<usize>, limit: usize) -> Msg {
    let (en, vi) = match cost {
        Some(c) => (format!(" costs {c}, which is"), format!(" có chi phí {c},")),
        None => (String::new(), String::new()),
    };
    Msg::new(
        format!(
            "the query{en} over the complexity limit of {limit} (a connection costs `first` × the cost of its fields): ask for smaller pages or fewer fields"
        ),
        format!(
            "truy vấn{vi} vượt giới hạn độ phức tạp {limit} (một danh sách tốn `first` × chi phí các trường của nó): hãy xin trang nhỏ hơn hoặc ít trường hơn"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn depth_of(query: &str) -> Depth {
        depth(&parse_query(query).expect("parses"))
    }

    #[test]
    fn the_standard_introspection_query_fits_its_own_budget_not_the_data_limit() {
        let d = depth_of(include_str!("../tests/fixtures/introspection.graphql"));
        assert_eq!(d.data, 0);
        assert_eq!(d.introspection, 15);
        assert_eq!(d.introspection_lists, 1);
        assert!(check_depth(d, 12).is_ok());
    }

    #[test]
    fn data_depth_counts_fields_through_fragments() {
        let q = "{ a { b { ...F } } } fragment F on T { c { d } ... on T { e { f { g } } } }";
        assert_eq!(depth_of(q).data, 5);
        let refused = check_depth(depth_of(q), 4).unwrap_err();
        assert!(refused.message.contains("5 levels"), "{}", refused.message);
        assert_eq!(
            refused.extensions.unwrap().get("code"),
            Some(&async_graphql::Value::from("LIMIT_EXCEEDED"))
        );
        // `__typename` beside data is data.
        assert_eq!(depth_of("{ a { __typename } }").data, 2);
    }

    #[test]
    fn introspection_that_grows_exponentially_is_refused() {
        let q =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        let d = depth_of(q);
        assert_eq!(d.introspection_lists, 3);
        assert!(check_depth(d, 12).is_err());
        let deep = format!(
            "{{ __type(name: \"Query\") {{ {} name {} }} }}",
            "ofType {".repeat(30),
            "}".repeat(30)
        );
        assert!(check_depth(depth_of(&deep), 12).is_err());
    }

    #[test]
    fn a_fragment_that_spreads_itself_ends() {
        let d = depth_of("{ a { ...F } } fragment F on T { b { ...F } }");
        assert_eq!(d.data, 2);
    }
}
