//! Loading spec files (embedded, or from `--spec-dir`) and checking every cross-reference.
//!
//! The result is a [`SpecSet`] of [`Resource`]s, each with its columns resolved to
//! [`ColumnType`]s, ready for the table providers.

pub(super) mod checks;
mod flatten;
mod profile;
mod references;
mod shapes;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::error::{Finding, SpecError};
use super::model::ServiceSpec;
use super::provider::ProviderSpec;
use super::resource::{Column, Resource, SpecSet};
use super::types::{ColumnType, TypeRegistry};

const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_specs.rs"));

/// The specs compiled into the binary (from `provider-spec/`).
pub fn load_embedded() -> Result<SpecSet, SpecError> {
    load_sources(EMBEDDED.iter().map(|(f, t)| (f.to_string(), t.to_string())))
}

/// Every `*.yaml` / `*.yml` file under `dir`.
pub fn load_dir(dir: &Path) -> Result<SpecSet, SpecError> {
    let files = super::files::spec_files(dir).map_err(|source| SpecError::Io {
        file: dir.display().to_string(),
        source,
    })?;
    if files.is_empty() {
        return Err(SpecError::Empty(dir.display().to_string()));
    }
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).map_err(|source| SpecError::Io {
            file: name.clone(),
            source,
        })?;
        sources.push((name, text));
    }
    load_sources(sources)
}

/// Whether a file is a provider profile (`provider.yaml`) rather than a service file.
fn is_profile(file: &str) -> bool {
    let name = Path::new(file).file_name().and_then(|n| n.to_str());
    matches!(name, Some("provider.yaml" | "provider.yml"))
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, SpecError> {
    serde_yaml_ng::from_str(text).map_err(|e| SpecError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })
}

/// Parse and validate `(file name, YAML text)` pairs: provider profiles (`provider.yaml`) and
/// service files. A service whose provider has no profile among them uses the built-in
/// profile of that name; with none, it is an error.
pub fn load_sources(
    sources: impl IntoIterator<Item = (String, String)>,
) -> Result<SpecSet, SpecError> {
    let (profiles, services): (Vec<_>, Vec<_>) =
        sources.into_iter().partition(|(file, _)| is_profile(file));
    let mut set = SpecSet::default();
    let mut profile_files: BTreeMap<String, String> = BTreeMap::new();
    for (file, text) in profiles {
        let spec = load_profile(&file, &text)?;
        if let Some(other) = profile_files.insert(spec.provider.clone(), file.clone()) {
            return Err(Finding::new(
                "provider",
                format!(
                    "provider `{}` already has its profile in {other}",
                    spec.provider
                ),
            )
            .in_file(&file));
        }
        set.providers.insert(spec.provider.clone(), Arc::new(spec));
    }
    for (file, text) in services {
        let service: ServiceSpec = parse(&file, &text)?;
        if !set.providers.contains_key(&service.provider) {
            let profile = builtin_profile(&service.provider)?.ok_or_else(|| {
                Finding::new(
                    "provider",
                    format!(
                        "provider `{}` has no profile: add provider-spec/{}/provider.yaml",
                        service.provider, service.provider
                    ),
                )
                .in_file(&file)
            })?;
            set.providers
                .insert(service.provider.clone(), Arc::new(profile));
        }
        let profile = set.providers[&service.provider].clone();
        for resource in validate(&file, service, profile)? {
            let table = resource.qualified_name();
            if let Some(other) = set.resources.iter().find(|r| r.qualified_name() == table) {
                return Err(SpecError::Duplicate {
                    file,
                    table,
                    other: other.file.clone(),
                });
            }
            set.resources.push(Arc::new(resource));
        }
    }
    Ok(set)
}

/// Parse and check one provider profile.
fn load_profile(file: &str, text: &str) -> Result<ProviderSpec, SpecError> {
    let spec: ProviderSpec = parse(file, text)?;
    if !is_identifier(&spec.provider) {
        return Err(Finding::new(
            "provider",
            format!("`{}` is not a SQL identifier", spec.provider),
        )
        .in_file(file));
    }
    profile::check_profile(&spec).map_err(|f| f.in_file(file))?;
    Ok(spec)
}

/// The built-in profile of `provider` (from `provider-spec/`), if there is one.
pub fn builtin_profile(provider: &str) -> Result<Option<ProviderSpec>, SpecError> {
    for (file, text) in EMBEDDED.iter().filter(|(f, _)| is_profile(f)) {
        let spec = load_profile(file, text)?;
        if spec.provider == provider {
            return Ok(Some(spec));
        }
    }
    Ok(None)
}

fn validate(
    file: &str,
    service: ServiceSpec,
    profile: Arc<ProviderSpec>,
) -> Result<Vec<Resource>, SpecError> {
    let invalid = |place: String, message: String| Finding::new(place, message).in_file(file);
    for (what, name) in [
        ("provider", &service.provider),
        ("service", &service.service),
    ] {
        if !is_identifier(name) {
            return Err(invalid(
                what.into(),
                format!("`{name}` is not a SQL identifier"),
            ));
        }
    }
    let registry = TypeRegistry::new(&service.types);
    let mut out = Vec::new();
    for (name, spec) in &service.resources {
        let at = format!("resources.{name}");
        if !is_identifier(name) {
            return Err(invalid(at, format!("`{name}` is not a SQL identifier")));
        }
        let parents = flatten::parent_columns(spec);
        let mut columns = Vec::new();
        for (list, is_parameter) in [(&spec.columns, false), (&spec.parameters, true)] {
            let key = if is_parameter {
                "parameters"
            } else {
                "columns"
            };
            for (i, column) in list.iter().enumerate() {
                let place = format!("{at}.{key}[{i}] ({})", column.name);
                if !is_identifier(&column.name) {
                    return Err(invalid(
                        place,
                        "a column needs a `name` that is a SQL identifier".into(),
                    ));
                }
                let ty = registry
                    .resolve(column, &place)
                    .map_err(|f| f.in_file(file))?;
                if columns.iter().any(|c: &Column| c.name == column.name) {
                    return Err(invalid(
                        place,
                        format!("duplicate column `{}`", column.name),
                    ));
                }
                let path = checks::column_path(&place, column, is_parameter)
                    .map_err(|f| f.in_file(file))?;
                checks::column_field(&place, column, is_parameter, &columns, &parents)
                    .map_err(|f| f.in_file(file))?;
                checks::column_which(&place, column, &ty, is_parameter)
                    .map_err(|f| f.in_file(file))?;
                let select_params = spec
                    .select
                    .iter()
                    .filter_map(|m| spec.methods.get(m))
                    .flat_map(|m| m.params.keys());
                checks::column_from_param(&place, column, &ty, is_parameter, select_params)
                    .map_err(|f| f.in_file(file))?;
                columns.push(Column {
                    name: column.name.clone(),
                    ty,
                    description: column.description.clone(),
                    is_parameter,
                    path,
                    field: column.field.clone(),
                    which: column.which.clone(),
                    from_param: column.from_param.clone(),
                });
            }
        }
        let variable = &profile.server.variable;
        if !columns.iter().any(|c| &c.name == variable) {
            columns.push(Column {
                name: variable.clone(),
                ty: ColumnType::String,
                description: profile.server.description.clone(),
                is_parameter: true,
                path: None,
                field: None,
                which: Vec::new(),
                from_param: None,
            });
        }
        references::check_resource(&at, spec, &columns, variable).map_err(|f| f.in_file(file))?;
        if let Some(history) = &spec.history {
            super::history::check_history(
                &format!("{at}.history"),
                history,
                &columns,
                spec,
                &service.resources,
            )
            .map_err(|f| f.in_file(file))?;
        }
        let method_columns = super::writes::check_writes(&at, spec, &columns, &registry)
            .map_err(|f| f.in_file(file))?;
        if let Some(delete) = &spec.delete {
            super::writes::check_cascade(&at, name, delete, &service.resources)
                .map_err(|f| f.in_file(file))?;
        }
        out.push(Resource {
            provider: service.provider.clone(),
            service: service.service.clone(),
            name: name.clone(),
            file: file.to_string(),
            server: profile.server.clone(),
            profile: profile.clone(),
            spec: spec.clone(),
            columns,
            method_columns,
            types: service.types.clone(),
        });
    }
    Ok(out)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests;
