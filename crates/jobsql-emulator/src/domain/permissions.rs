//! The rules of job permissions (Permissions API, object type `jobs`): the levels a job
//! grants, a request's `access_control_list` parsed and checked, and how `PATCH` (add or
//! change entries) and `PUT` (replace the direct entries) apply to a job's list.
//!
//! - A job has exactly one owner (`IS_OWNER`), a user or a service principal, never a group.
//! - A principal holds one direct level; PATCH gives it a new one (an `IS_OWNER` entry makes
//!   that principal the owner: the former owner's entry goes).
//! - PUT replaces every direct entry; a list with no `IS_OWNER` keeps the current owner
//!   (a job is never left without one), two owners are refused.
//! - Inherited levels (the `admins` group's `CAN_MANAGE` from `/jobs/`) are not changed by
//!   either: they show as `inherited: true`.

use serde_json::{Map, Value};

use super::errors::ApiError;
use crate::state::acl::{AclEntry, Grantee};

/// The levels a job grants, with what each allows (permissionLevels), weakest first.
pub(crate) const LEVELS: [(&str, &str); 4] = [
    ("CAN_VIEW", "Can view the job and its runs"),
    (
        "CAN_MANAGE_RUN",
        "Can view the job and its runs, run it now and cancel its runs",
    ),
    (
        "IS_OWNER",
        "Can do everything on the job; the one principal it runs as by default",
    ),
    (
        "CAN_MANAGE",
        "Can view, run, edit and delete the job and change its permissions",
    ),
];

/// The `access_control_list` of a PATCH or PUT body, checked.
pub(crate) fn parse(body: &Map<String, Value>) -> Result<Vec<AclEntry>, ApiError> {
    let list = match body.get("access_control_list") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid value for field access_control_list: expected an array",
            ))
        }
    };
    let mut out: Vec<AclEntry> = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(entry) = item else {
            return Err(ApiError::invalid(
                "Invalid value for field access_control_list: expected an array of objects",
            ));
        };
        let named: Vec<Grantee> = [
            ("user_name", Grantee::User as fn(String) -> Grantee),
            ("group_name", Grantee::Group),
            ("service_principal_name", Grantee::ServicePrincipal),
        ]
        .into_iter()
        .filter_map(|(key, make)| {
            let name = entry.get(key)?.as_str()?;
            Some(make(name.to_string()))
        })
        .collect();
        let principal = match named.as_slice() {
            [one] => one.clone(),
            _ => {
                return Err(ApiError::invalid(
                    "Each access control entry needs exactly one of user_name, group_name or \
                     service_principal_name",
                ))
            }
        };
        let level = entry
            .get("permission_level")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::invalid("Missing required field: permission_level"))?;
        if !LEVELS.iter().any(|(l, _)| *l == level) {
            return Err(ApiError::invalid(format!(
                "Invalid permission level {level} for jobs: expected one of CAN_VIEW, \
                 CAN_MANAGE_RUN, IS_OWNER, CAN_MANAGE"
            )));
        }
        if level == "IS_OWNER" {
            if let Grantee::Group(g) = &principal {
                return Err(ApiError::invalid(format!(
                    "Group {g} cannot be the owner of a job: the owner is a user or a service \
                     principal"
                )));
            }
        }
        if out.iter().any(|e| e.principal == principal) {
            return Err(ApiError::invalid(
                "A principal is given more than one permission level in access_control_list",
            ));
        }
        out.push(AclEntry {
            principal,
            level: level.to_string(),
        });
    }
    if out.iter().filter(|e| e.level == "IS_OWNER").count() > 1 {
        return Err(ApiError::invalid("A job must have exactly one owner"));
    }
    Ok(out)
}

/// PATCH: each entry added, or its principal's level changed; a new owner replaces the old.
pub(crate) fn patch(current: &[AclEntry], changes: Vec<AclEntry>) -> Vec<AclEntry> {
    let mut acl = current.to_vec();
    for change in changes {
        if change.level == "IS_OWNER" {
            acl.retain(|e| e.level != "IS_OWNER");
        }
        match acl.iter_mut().find(|e| e.principal == change.principal) {
            Some(e) => e.level = change.level,
            None => acl.push(change),
        }
    }
    acl
}

/// PUT: the direct entries replaced by `new`; with no owner in it, the current owner stays.
pub(crate) fn set(current: &[AclEntry], new: Vec<AclEntry>) -> Vec<AclEntry> {
    if new.iter().any(|e| e.level == "IS_OWNER") {
        return new;
    }
    let mut acl: Vec<AclEntry> = current
        .iter()
        .filter(|e| e.level == "IS_OWNER")
        .filter(|owner| !new.iter().any(|e| e.principal == owner.principal))
        .cloned()
        .collect();
    acl.extend(new);
    acl
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn user(name: &str, level: &str) -> AclEntry {
        AclEntry {
            principal: Grantee::User(name.into()),
            level: level.into(),
        }
    }

    #[test]
    fn owners_stay_one() {
        let current = vec![user("a", "IS_OWNER"), user("b", "CAN_VIEW")];
        let patched = patch(&current, vec![user("b", "IS_OWNER")]);
        assert_eq!(patched, vec![user("b", "IS_OWNER")]);
        let put = set(&current, vec![user("c", "CAN_MANAGE")]);
        assert_eq!(put, vec![user("a", "IS_OWNER"), user("c", "CAN_MANAGE")]);
        let two = json!({"access_control_list": [
            {"user_name": "a", "permission_level": "IS_OWNER"},
            {"user_name": "b", "permission_level": "IS_OWNER"}]});
        assert!(parse(&body(two)).is_err());
        let group = json!({"access_control_list": [
            {"group_name": "users", "permission_level": "IS_OWNER"}]});
        assert!(parse(&body(group)).is_err());
        let bad = json!({"access_control_list": [
            {"user_name": "a", "permission_level": "CAN_RUN"}]});
        assert!(parse(&body(bad)).is_err());
    }
}
