//! Relay connection types, one per record type, from one macro.

use async_graphql::SimpleObject;

use crate::store::keyset::{Page, PageArgs};

/// Where a page stands in the whole list.
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// More items follow this page.
    pub has_next_page: bool,
    /// More items precede this page (when paging forward: `after` was given).
    pub has_previous_page: bool,
    /// The cursor of the first item on the page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item on the page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page info of `page`.
    pub fn of<M>(page: &Page<M>) -> Self {
        PageInfo {
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            start_cursor: page.rows.first().map(|(c, _)| c.clone()),
            end_cursor: page.rows.last().map(|(c, _)| c.clone()),
        }
    }
}

/// Where a connection's `totalCount` comes from.
pub enum Counter<E: sea_orm::EntityTrait> {
    /// A COUNT over the connection's own selection.
    Select(Box<sea_orm::Select<E>>),
    /// A batched count of a nested enrolment connection.
    NestedEnrolments(crate::store::nested::CountKey),
}

/// Collects the Relay arguments.
pub fn args(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> PageArgs {
    PageArgs { first, after, last, before }
}

/// Declares `$conn` and `$edge` for node type `$node` wrapping `$model`.
/// `totalCount` runs a COUNT over the same filter only when asked for.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ident, $entity:path, $what:literal) => {
        #[doc = concat!("An edge in a list of ", $what, ".")]
        #[derive(async_graphql::SimpleObject, Clone)]
        pub struct $edge {
            /// The item's cursor, for `after` or `before`.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[doc = concat!("A page of ", $what, ".")]
        pub struct $conn {
            page: crate::store::keyset::Page<std::sync::Arc<<$entity as sea_orm::EntityTrait>::Model>>,
            count: crate::graphql::connection::Counter<$entity>,
        }

        impl $conn {
            /// Wraps a page and the selection it came from.
            pub fn new(
                page: crate::store::keyset::Page<<$entity as sea_orm::EntityTrait>::Model>,
                count: sea_orm::Select<$entity>,
            ) -> Self {
                $conn { page: page.shared(), count: crate::graphql::connection::Counter::Select(Box::new(count)) }
            }

            /// Wraps a page whose count comes from another source.
            #[allow(dead_code)]
            pub fn counted_by(
                page: crate::store::keyset::Page<std::sync::Arc<<$entity as sea_orm::EntityTrait>::Model>>,
                count: crate::graphql::connection::Counter<$entity>,
            ) -> Self {
                $conn { page, count }
            }
        }

        #[doc = concat!("A page of ", $what, ".")]
        #[async_graphql::Object]
        impl $conn {
            /// The items with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                self.page.rows.iter().map(|(c, m)| $edge { cursor: c.clone(), node: $node(m.clone()) }).collect()
            }

            /// The items.
            async fn nodes(&self) -> Vec<$node> {
                self.page.rows.iter().map(|(_, m)| $node(m.clone())).collect()
            }

            /// Where this page stands.
            async fn page_info(&self) -> crate::graphql::connection::PageInfo {
                crate::graphql::connection::PageInfo::of(&self.page)
            }

            /// How many items match the filter, on all pages.
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i32> {
                use crate::graphql::connection::Counter;
                use crate::graphql::context::Ctx;
                let n = match &self.count {
                    Counter::Select(select) => crate::store::search::count(ctx.store()?, (**select).clone()).await?,
                    Counter::NestedEnrolments(key) => {
                        ctx.loaders()?.nested_enrolment_counts.load_one(key.clone()).await?.unwrap_or(0)
                    }
                };
                Ok(i32::try_from(n).unwrap_or(i32::MAX))
            }
        }
    };
}
pub(crate) use connection;
