//! Objects resolved without a future per field: the hot types of the cold
//! read path (issue 19).
//!
//! async-graphql resolves every field of an object as a boxed future and
//! joins them; for an entry of history that is ten futures, and as many
//! allocations, for ten values already in memory: in a profile of one
//! indicator with 20 history entries, 40 % of the server's time went to
//! resolving the entries. [`resolve`] walks the selection set itself
//! (fields in the order asked, aliases, `__typename`, fragment spreads and
//! inline fragments; `@skip` and `@include` are removed by async-graphql
//! before execution), writes the fields the type can give without a
//! context straight into the response ([`Plain::plain`]), and hands every
//! other field to the type's generated resolver, so arguments, errors and
//! their paths, and nested objects behave exactly as before. Duplicate
//! response keys merge as async-graphql merges them.
//!
//! A type opts in by keeping its `#[Object]` on an inner type named as the
//! GraphQL type and implementing `OutputType` on a wrapper with
//! [`fast_output_type!`].

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::{ContainerType, ContextSelectionSet, Name, Positioned, ServerResult, Value};

/// A GraphQL object some of whose fields need no context to resolve.
pub trait Plain: ContainerType + Sync {
    /// The GraphQL type's name (what fragments' conditions name).
    const NAME: &'static str;

    /// The value of `field` when it needs nothing but `self` (and, for a
    /// nested plain object, its selection: see [`object`]); `None` sends
    /// the field to the generated resolver.
    fn plain(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> Option<Value>;
}

/// The fields a selection set selects on an object of type `name`, in order,
/// fragments flattened.
pub(crate) fn collect<'a>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    name: &str,
    out: &mut Vec<&'a Positioned<Field>>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => out.push(field),
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = ctx.query_env.fragments.get(&spread.node.fragment_name.node)
                {
                    if fragment.node.type_condition.node.on.node == name {
                        collect(ctx, &fragment.node.selection_set.node, name, out);
                    }
                }
            }
            Selection::InlineFragment(fragment) => {
                let applies = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .is_none_or(|c| c.node.on.node == name);
                if applies {
                    collect(ctx, &fragment.node.selection_set.node, name, out);
                }
            }
        }
    }
}

/// async-graphql's merge of a response key given twice (`actor { id }
/// actor { name }`): objects merge, the first scalar stays.
pub(crate) fn insert(target: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    match target.get_mut(&name) {
        Some(Value::Object(existing)) => {
            if let Value::Object(more) = value {
                for (key, value) in more {
                    insert(existing, key, value);
                }
            }
        }
        Some(Value::List(existing)) => {
            if let Value::List(more) = value {
                for (index, value) in more.into_iter().enumerate() {
                    if let (Some(Value::Object(existing)), Value::Object(more)) =
                        (existing.get_mut(index), value)
                    {
                        for (key, value) in more {
                            insert(existing, key, value);
                        }
                    }
                }
            }
        }
        Some(_) => {}
        None => {
            target.insert(name, value);
        }
    }
}

/// The key a field answers under, as a `Name` of this response's own. A
/// clone of the document's `Name` would be cheaper alone, but the parsed
/// document is cached and shared by every request: each clone and drop
/// is an atomic on a reference count that both cores write, hundreds of
/// times per response. A fresh one is a small allocation on this thread
/// (one indicator with 20 history entries: 14.5–14.9k → 15.6k req/s).
pub(crate) fn response_key(field: &Positioned<Field>) -> Name {
    Name::new(field.node.response_key().node.as_str())
}

/// Resolves `root` on the selection set of `ctx`.
pub async fn resolve<T: Plain>(root: &T, ctx: &ContextSelectionSet<'_>) -> ServerResult<Value> {
    let mut fields = Vec::new();
    collect(ctx, &ctx.item.node, T::NAME, &mut fields);
    let mut out = IndexMap::with_capacity(fields.len());
    for field in fields {
        let key = response_key(field);
        let value = if field.node.name.node == "__typename" {
            Some(Value::String(T::NAME.to_owned()))
        } else {
            root.plain(ctx, field)
        };
        let value = match value {
            Some(value) => value,
            None => match root.resolve_field(&ctx.with_field(field)).await {
                Ok(value) => value.unwrap_or_default(),
                // As async-graphql does: the error is the response's, the
                // key is left out (a non-null parent turns null upstream).
                Err(error) => {
                    ctx.add_error(error);
                    continue;
                }
            },
        };
        insert(&mut out, key, value);
    }
    Ok(Value::Object(out))
}

/// A nested object of type `name` whose every selected field is plain
/// (`plain` gives it from borrowed data, with no copy of the object
/// first), resolved in place for the `field` of `ctx` that selects it;
/// `None` when one is not (the caller then leaves the field to the
/// generated resolver).
pub fn object(
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    name: &str,
    plain: impl Fn(&Positioned<Field>) -> Option<Value>,
) -> Option<Value> {
    let ctx_field = ctx.with_field(field);
    let ctx = ctx_field.with_selection_set(&field.node.selection_set);
    let mut fields = Vec::new();
    collect(&ctx, &ctx.item.node, name, &mut fields);
    let mut out = IndexMap::with_capacity(fields.len());
    for field in fields {
        let value = if field.node.name.node == "__typename" {
            Value::String(name.to_owned())
        } else {
            plain(field)?
        };
        insert(&mut out, response_key(field), value);
    }
    Some(Value::Object(out))
}

/// `OutputType` for `$outer`, a wrapper of `$inner` (whose `#[Object]` is
/// named as the GraphQL type): the schema is the inner type's, resolution
/// goes through [`resolve`].
#[macro_export]
macro_rules! fast_output_type {
    ($outer:ty, $inner:ty) => {
        impl async_graphql::OutputType for $outer {
            fn type_name() -> std::borrow::Cow<'static, str> {
                <$inner as async_graphql::OutputType>::type_name()
            }

            fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                <$inner as async_graphql::OutputType>::create_type_info(registry)
            }

            async fn resolve(
                &self,
                ctx: &async_graphql::ContextSelectionSet<'_>,
                _field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                $crate::fast::resolve(&self.0, ctx).await
            }
        }
    };
}
