//! What the loader produces: [`Resource`]s with their columns resolved, in a [`SpecSet`].

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::{ObjectType, ResourceSpec};
use super::provider::{ProviderSpec, ServerSpec};
use super::types::ColumnType;

/// A resolved column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Name (also the JSON field name, unless `field` says otherwise).
    pub name: String,
    /// Resolved type.
    pub ty: ColumnType,
    /// Description from the spec.
    pub description: String,
    /// True for parameter columns (they hold the request's value, not the response's).
    pub is_parameter: bool,
    /// Where the value is in each object (`settings`, `name`), when not at the field `name`.
    pub path: Option<Vec<String>>,
    /// The JSON field the value is read from, when not named as the column (`jobId`).
    pub field: Option<String>,
    /// The fields whose first present one names the value (`which:`); empty for others.
    pub which: Vec<String>,
    /// The request parameter whose value fills the column when an object has none.
    pub from_param: Option<String>,
}

impl Column {
    /// The JSON field of a top-level data column: its `field`, else its name.
    pub fn json_name(&self) -> &str {
        self.field.as_deref().unwrap_or(&self.name)
    }
}

/// One validated resource: everything the provider needs.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Catalog (provider) name.
    pub provider: String,
    /// Schema (service) name.
    pub service: String,
    /// Table (resource) name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// The server template (the provider's).
    pub server: ServerSpec,
    /// The provider's profile: sign-in, errors.
    pub profile: Arc<ProviderSpec>,
    /// The resource as written.
    pub spec: ResourceSpec,
    /// Data columns, then parameter columns.
    pub columns: Vec<Column>,
    /// The result columns of each method called by EXEC (empty: the body as one JSON column).
    pub method_columns: BTreeMap<String, Vec<Column>>,
    /// The file's named object types (for the descriptions of struct fields in messages).
    pub types: BTreeMap<String, ObjectType>,
}

impl Resource {
    /// `provider.service.resource`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}.{}", self.provider, self.service, self.name)
    }

    /// The JSON field of the column named `name` (its name when there is no such column).
    pub fn json_field<'a>(&'a self, name: &'a str) -> &'a str {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map_or(name, Column::json_name)
    }

    /// Index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// All loaded resources, and the profiles of their providers.
#[derive(Debug, Clone, Default)]
pub struct SpecSet {
    /// Resources in file order.
    pub resources: Vec<Arc<Resource>>,
    /// The providers' profiles, by name.
    pub providers: BTreeMap<String, Arc<ProviderSpec>>,
}
