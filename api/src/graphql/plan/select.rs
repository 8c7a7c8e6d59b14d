//! From a validated document to a [`Plan`]: the operation's fields
//! collected as the spec's CollectFields does (fragments inlined, fields of
//! one response key merged, in order of first appearance), each one matched
//! to what the planner can read, and the connections' arguments coerced as
//! the schema coerces them. Any field, argument or directive the planner does
//! not know, and any field the caller may not read, makes [`plan`] answer
//! `None`.

use std::collections::BTreeMap;

use async_graphql::parser::types::{ExecutableDocument, Field as AstField, OperationType, Selection, SelectionSet};
use async_graphql::{InputType, Name, Value, Variables};

use super::fields;
use crate::domain::access::{self, Actor};
use crate::domain::ids::Kind;
use crate::graphql::communities::{self, CommunityFilter, CommunityOrder};
use crate::graphql::enrolments::EnrolmentFilter;
use crate::store::keyset::{self, PageArgs, Window};
use crate::store::{communities as community_store, enrolments as enrolment_store};

/// A planned operation: its root fields and the connections to read.
pub struct Plan {
    /// The root fields, by response key.
    pub roots: Vec<(Name, Connection)>,
    /// What each connection reads, by [`Connection::index`]; a nested one
    /// always comes after its parent.
    pub sources: Vec<Source>,
}

/// Where a connection's rows come from.
pub enum Source {
    /// `Query.communities`.
    Communities { filter: community_store::Filter, window: Window, columns: LevelColumns },
    /// `Community.enrolments`, for every community of connection `parent`.
    CommunityEnrolments { parent: usize, filter: enrolment_store::Filter, window: Window, columns: LevelColumns },
}

/// The table a column of a level comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Table {
    /// The level's own records (communities of a root page, enrolments of
    /// a nested one).
    Own,
    /// An enrolment's programme.
    Programme,
    /// That programme's MOU, when the caller may see it.
    Mou,
}

/// What a level reads: the to-one records to join (for enrolments), and
/// the columns its fields name, in the order of the row's values.
#[derive(Clone, Debug, Default)]
pub struct LevelColumns {
    /// The enrolments' programmes are joined.
    pub programme: bool,
    /// Those programmes' visible MOUs are joined.
    pub mou: bool,
    /// The columns read, each once.
    pub columns: Vec<(Table, fields::Column)>,
    /// The selection reads the level's cursors (`edges.cursor`,
    /// `pageInfo.startCursor` or `endCursor`); when not, none is encoded.
    pub cursors: bool,
}

impl LevelColumns {
    /// The position of `column` of `table` in the row's values.
    fn index(&mut self, table: Table, column: fields::Column) -> usize {
        match self.columns.iter().position(|c| *c == (table, column)) {
            Some(i) => i,
            None => {
                self.columns.push((table, column));
                self.columns.len() - 1
            }
        }
    }
}

/// A connection field.
pub struct Connection {
    /// Its rows in the fetched data.
    pub index: usize,
    /// Its selection.
    pub fields: Vec<(Name, ConnectionField)>,
}

/// A field of a connection type.
pub enum ConnectionField {
    Typename(&'static str),
    Nodes(Object),
    Edges(Vec<(Name, EdgeField)>),
    PageInfo(Vec<(Name, PageInfoField)>),
}

/// A field of an edge type.
pub enum EdgeField {
    Typename(&'static str),
    Cursor,
    Node(Object),
}

/// A field of `PageInfo`.
pub enum PageInfoField {
    Typename,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

/// The selection on one object, by response key.
pub type Object = Vec<(Name, Field)>;

/// A field of an object type.
pub enum Field {
    Typename(&'static str),
    /// `Community.contact`: null when the value at `name` (its name) is.
    Contact {
        name: usize,
        fields: Object,
    },
    /// `Community.enrolments`.
    Enrolments(Connection),
    /// A value of the level's row, by position.
    Column(usize),
    /// `Enrolment.programme`.
    Programme(Object),
    /// `Programme.mou`.
    Mou(Object),
}

/// Fields of one response key, in document order.
type Groups<'a> = Vec<(Name, Vec<&'a AstField>)>;

struct Planning<'a> {
    document: &'a ExecutableDocument,
    variables: Variables,
    actor: &'a Actor,
    sources: Vec<Option<Source>>,
}

/// The plan of `document`'s operation `operation_name`, if the planner can
/// answer all of it for `actor`.
pub fn plan(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: Variables,
    actor: &Actor,
) -> Option<Plan> {
    let operation = crate::graphql::operation(document, operation_name)?;
    if operation.ty != OperationType::Query || !operation.directives.is_empty() {
        return None;
    }
    // Variables as given, or their defaults; absent ones stay absent.
    let mut given = variables;
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        if !definition.directives.is_empty() {
            return None;
        }
        if !given.contains_key(&definition.name.node)
            && let Some(default) = &definition.default_value
        {
            given.insert(definition.name.node.clone(), default.node.clone());
        }
    }
    let mut planning = Planning { document, variables: given, actor, sources: Vec::new() };
    let mut roots = Vec::new();
    for (key, fields) in planning.collect([&operation.selection_set.node], "Query")? {
        match fields[0].name.node.as_str() {
            "communities" => roots.push((key, planning.communities(&fields)?)),
            _ => return None,
        }
    }
    let sources = planning.sources.into_iter().collect::<Option<Vec<_>>>()?;
    Some(Plan { roots, sources })
}

impl<'a> Planning<'a> {
    /// CollectFields over `sets` for an object of type `type_name`.
    fn collect(&self, sets: impl IntoIterator<Item = &'a SelectionSet>, type_name: &str) -> Option<Groups<'a>> {
        let mut groups: Groups<'a> = Vec::new();
        for set in sets {
            self.collect_into(set, type_name, &mut groups)?;
        }
        Some(groups)
    }

    fn collect_into(&self, set: &'a SelectionSet, type_name: &str, groups: &mut Groups<'a>) -> Option<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if !field.directives.is_empty() {
                        return None;
                    }
                    let key = &field.response_key().node;
                    match groups.iter_mut().find(|(k, _)| k == key) {
                        Some((_, fields)) => fields.push(field),
                        None => groups.push((key.clone(), vec![field])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if !spread.node.directives.is_empty() {
                        return None;
                    }
                    let fragment = &self.document.fragments.get(&spread.node.fragment_name.node)?.node;
                    if !fragment.directives.is_empty() || fragment.type_condition.node.on.node != type_name {
                        return None;
                    }
                    self.collect_into(&fragment.selection_set.node, type_name, groups)?;
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    if !inline.directives.is_empty()
                        || inline.type_condition.as_ref().is_some_and(|c| c.node.on.node != type_name)
                    {
                        return None;
                    }
                    self.collect_into(&inline.selection_set.node, type_name, groups)?;
                }
            }
        }
        Some(())
    }

    /// The fields' merged sub-selections, collected for `type_name`.
    fn sub(&self, fields: &[&'a AstField], type_name: &str) -> Option<Groups<'a>> {
        self.collect(fields.iter().map(|f| &f.selection_set.node), type_name)
    }

    /// The arguments of a field (all fields of a response key have the
    /// same, as validation ensures), with variables substituted.
    fn arguments(&self, field: &AstField) -> Option<Arguments> {
        let mut out = BTreeMap::new();
        for (name, value) in &field.arguments {
            let value = value
                .node
                .clone()
                .into_const_with(|variable| Ok::<_, ()>(self.variables.get(&variable).cloned().unwrap_or(Value::Null)));
            out.insert(name.node.to_string(), value.ok()?);
        }
        Some(Arguments(out))
    }

    /// Reserves the index of a connection; its source is set once planned.
    fn reserve(&mut self) -> usize {
        self.sources.push(None);
        self.sources.len() - 1
    }

    /// `Query.communities`.
    fn communities(&mut self, fields: &[&'a AstField]) -> Option<Connection> {
        access::may_read(self.actor, Kind::Community).ok()?;
        let mut arguments = self.arguments(fields[0])?;
        let args = arguments.page()?;
        let filter: Option<CommunityFilter> = arguments.take("filter")?;
        let order_by: Option<CommunityOrder> = arguments.take("orderBy")?;
        arguments.done()?;
        let (filter, key) = communities::list_query(filter, order_by).ok()?;
        // Refused arguments (a bad cursor, a page too large) are the
        // resolver's to report, at this field.
        let window = keyset::window(&args, key).ok()?;
        let index = self.reserve();
        let groups = self.sub(fields, "CommunityConnection")?;
        let mut columns = LevelColumns::default();
        let fields =
            self.connection(groups, "Community", |planning, groups| planning.community(groups, index, &mut columns))?;
        columns.cursors = reads_cursors(&fields);
        self.sources[index] = Some(Source::Communities { filter, window, columns });
        Some(Connection { index, fields })
    }

    /// The fields of a connection type whose nodes `node` plans.
    fn connection(
        &mut self,
        groups: Groups<'a>,
        node_type: &'static str,
        mut node: impl FnMut(&mut Self, Groups<'a>) -> Option<Object>,
    ) -> Option<Vec<(Name, ConnectionField)>> {
        let (connection_type, edge_type) = match node_type {
            "Community" => ("CommunityConnection", "CommunityEdge"),
            "Enrolment" => ("EnrolmentConnection", "EnrolmentEdge"),
            _ => return None,
        };
        let mut out = Vec::with_capacity(groups.len());
        for (key, fields) in groups {
            let planned = match fields[0].name.node.as_str() {
                "__typename" => ConnectionField::Typename(connection_type),
                "nodes" => {
                    let groups = self.sub(&fields, node_type)?;
                    ConnectionField::Nodes(node(self, groups)?)
                }
                "edges" => {
                    let mut edge = Vec::new();
                    for (key, fields) in self.sub(&fields, edge_type)? {
                        edge.push((
                            key,
                            match fields[0].name.node.as_str() {
                                "__typename" => EdgeField::Typename(edge_type),
                                "cursor" => EdgeField::Cursor,
                                "node" => {
                                    let groups = self.sub(&fields, node_type)?;
                                    EdgeField::Node(node(self, groups)?)
                                }
                                _ => return None,
                            },
                        ));
                    }
                    ConnectionField::Edges(edge)
                }
                "pageInfo" => {
                    let mut info = Vec::new();
                    for (key, fields) in self.sub(&fields, "PageInfo")? {
                        info.push((
                            key,
                            match fields[0].name.node.as_str() {
                                "__typename" => PageInfoField::Typename,
                                "hasNextPage" => PageInfoField::HasNextPage,
                                "hasPreviousPage" => PageInfoField::HasPreviousPage,
                                "startCursor" => PageInfoField::StartCursor,
                                "endCursor" => PageInfoField::EndCursor,
                                _ => return None,
                            },
                        ));
                    }
                    ConnectionField::PageInfo(info)
                }
                _ => return None,
            };
            out.push((key, planned));
        }
        Some(out)
    }

    /// The fields of an object of `type_name`: `__typename` from the
    /// type's name, every other field as `field` plans it from its name and
    /// its merged fields (`None`: not plannable).
    fn object(
        &mut self,
        groups: Groups<'a>,
        type_name: &'static str,
        mut field: impl FnMut(&mut Self, &str, &[&'a AstField]) -> Option<Field>,
    ) -> Option<Object> {
        let mut out = Vec::with_capacity(groups.len());
        for (key, asts) in groups {
            let name = asts[0].name.node.as_str();
            let planned = if name == "__typename" { Field::Typename(type_name) } else { field(self, name, &asts)? };
            out.push((key, planned));
        }
        Some(out)
    }

    /// The sub-selection of `asts`, an object of `type_name` whose fields
    /// are all columns of `table`, as `column` names them.
    fn columns(
        &mut self,
        asts: &[&'a AstField],
        type_name: &'static str,
        table: Table,
        level: &mut LevelColumns,
        column: fn(&str) -> Option<fields::Column>,
    ) -> Option<Object> {
        let groups = self.sub(asts, type_name)?;
        self.object(groups, type_name, |_, name, _| Some(Field::Column(level.index(table, column(name)?))))
    }

    /// A `Community`, on a page of connection `parent` reading `level`.
    fn community(&mut self, groups: Groups<'a>, parent: usize, level: &mut LevelColumns) -> Option<Object> {
        self.object(groups, "Community", |planning, name, asts| match name {
            "contact" => {
                access::may_read_contacts(planning.actor).ok()?;
                let contact = planning.columns(asts, "Contact", Table::Own, level, fields::contact)?;
                Some(Field::Contact { name: level.index(Table::Own, fields::CONTACT_NAME), fields: contact })
            }
            "enrolments" => Some(Field::Enrolments(planning.community_enrolments(asts, parent)?)),
            _ => Some(Field::Column(level.index(Table::Own, fields::community(name)?))),
        })
    }

    /// `Community.enrolments` on the communities of connection `parent`.
    fn community_enrolments(&mut self, fields: &[&'a AstField], parent: usize) -> Option<Connection> {
        access::may_read(self.actor, Kind::Enrolment).ok()?;
        let mut arguments = self.arguments(fields[0])?;
        let args = arguments.page()?;
        let filter: Option<EnrolmentFilter> = arguments.take("filter")?;
        arguments.done()?;
        let filter = enrolment_store::Filter::try_from(filter.unwrap_or_default()).ok()?;
        // Refused arguments are the resolver's to report, at this field.
        let window = keyset::window(&args, enrolment_store::SORT).ok()?;
        let index = self.reserve();
        let groups = self.sub(fields, "EnrolmentConnection")?;
        let mut columns = LevelColumns::default();
        let fields =
            self.connection(groups, "Enrolment", |planning, groups| planning.enrolment(groups, &mut columns))?;
        columns.cursors = reads_cursors(&fields);
        self.sources[index] = Some(Source::CommunityEnrolments { parent, filter, window, columns });
        Some(Connection { index, fields })
    }

    /// An `Enrolment`; notes in `level` what its fields read.
    fn enrolment(&mut self, groups: Groups<'a>, level: &mut LevelColumns) -> Option<Object> {
        self.object(groups, "Enrolment", |planning, name, asts| match name {
            "programme" => {
                access::may_read(planning.actor, Kind::Programme).ok()?;
                level.programme = true;
                let groups = planning.sub(asts, "Programme")?;
                Some(Field::Programme(planning.programme(groups, level)?))
            }
            _ => Some(Field::Column(level.index(Table::Own, fields::enrolment(name)?))),
        })
    }

    /// A `Programme` (of an enrolment).
    fn programme(&mut self, groups: Groups<'a>, level: &mut LevelColumns) -> Option<Object> {
        self.object(groups, "Programme", |planning, name, asts| match name {
            "mou" => {
                access::may_read(planning.actor, Kind::Mou).ok()?;
                level.mou = true;
                Some(Field::Mou(planning.columns(asts, "Mou", Table::Mou, level, fields::mou)?))
            }
            _ => Some(Field::Column(level.index(Table::Programme, fields::programme(name)?))),
        })
    }
}

/// A field's arguments, taken one by one and coerced as the schema does.
struct Arguments(BTreeMap<String, Value>);

impl Arguments {
    /// Argument `name` as a `T` (absent: `T`'s absent value).
    fn take<T: InputType>(&mut self, name: &str) -> Option<T> {
        T::parse(self.0.remove(name)).ok()
    }

    /// The Relay arguments.
    fn page(&mut self) -> Option<PageArgs> {
        Some(PageArgs {
            first: self.take("first")?,
            after: self.take("after")?,
            last: self.take("last")?,
            before: self.take("before")?,
        })
    }

    /// `None` if an argument is left that the planner does not know.
    fn done(self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// Whether a connection's fields read its rows' cursors.
fn reads_cursors(fields: &[(Name, ConnectionField)]) -> bool {
    fields.iter().any(|(_, field)| match field {
        ConnectionField::Edges(edge) => edge.iter().any(|(_, f)| matches!(f, EdgeField::Cursor)),
        ConnectionField::PageInfo(info) => {
            info.iter().any(|(_, f)| matches!(f, PageInfoField::StartCursor | PageInfoField::EndCursor))
        }
        _ => false,
    })
}
