//! What the loader produces: [`Resource`]s with their columns resolved, in a [`SpecSet`].

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::{ObjectType, ResourceSpec};
use super::provider::{ProviderSpec, ServerSpec};
use super::types::ColumnType;

/// A resolved column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Name (also the JSON field name).
    pub name: String,
    /// Resolved type.
    pub ty: ColumnType,
    /// Description from the spec.
    pub description: String,
    /// True for parameter columns (they hold the request's value, not the response's).
    pub is_parameter: bool,
    /// Where the value is in each object (`settings`, `name`), when not at the field `name`.
    pub path: Option<Vec<String>>,
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
