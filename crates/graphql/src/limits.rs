//! Limits async-graphql does not have: aliases and directives per request.
//! (Depth, complexity, recursion and directives per field are set on the
//! schema; page size in the connections; body size, time and batches in
//! the server.)
//!
//! As an extension, the check costs every field of every request a trip
//! through the extension chain (a quarter of a cold read's time), so the
//! HTTP transport, which parses each document anyway, calls
//! [`check_aliases`] itself on a schema without the extension
//! ([`crate::build_http_schema`]); WebSockets keep the extension.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};
use std::sync::Arc;

/// Refuses requests with more than `max` aliased fields.
pub struct AliasLimit {
    /// The most aliases a request may use.
    pub max: usize,
}

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension { max: self.max })
    }
}

struct AliasLimitExtension {
    max: usize,
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

/// Refuses a count of directives above [`MAX_DIRECTIVES_PER_DOCUMENT`].
pub fn check_directive_count(directives: usize) -> ServerResult<()> {
    if directives > MAX_DIRECTIVES_PER_DOCUMENT {
        let mut error = ServerError::new(
            format!(
                "the request uses {directives} directives; at most {MAX_DIRECTIVES_PER_DOCUMENT} are allowed"
            ),
            None,
        );
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "LIMIT_EXCEEDED");
        error.extensions = Some(extensions);
        return Err(error);
    }
    Ok(())
}

/// Refuses a count of aliases above `max` (for a transport that counted
/// them once per distinct document).
pub fn check_alias_count(aliases: usize, max: usize) -> ServerResult<()> {
    if aliases > max {
        let mut error = ServerError::new(
            format!("the request uses {aliases} aliases; at most {max} are allowed"),
            None,
        );
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "VALIDATION");
        error.extensions = Some(extensions);
        return Err(error);
    }
    Ok(())
}

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check_aliases(&document, self.max)?;
        check_directive_count(directive_count(&document))?;
        Ok(document)
    }
}
