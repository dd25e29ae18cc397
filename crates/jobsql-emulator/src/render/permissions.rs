//! A job's permissions as the Permissions API shows them: `object_id` (`/jobs/<id>`),
//! `object_type` (`job`), and `access_control_list`, one entry per principal with its
//! `display_name` and `all_permissions` — its direct level, and the levels it inherits from
//! `/jobs/` (`inherited: true`, `inherited_from_object`). And the permission levels.

use serde_json::{json, Map, Value};

use crate::domain::permissions::LEVELS;
use crate::state::acl::{AclEntry, Grantee, ADMINS, ROOT, SERVICE_PRINCIPALS};

fn display_name(p: &Grantee) -> String {
    match p {
        Grantee::User(u) => {
            let local = u.split('@').next().unwrap_or(u);
            let mut c = local.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => u.clone(),
            }
        }
        Grantee::Group(g) => g.clone(),
        Grantee::ServicePrincipal(id) => SERVICE_PRINCIPALS
            .iter()
            .find(|(sp, _)| sp == id)
            .map_or_else(|| id.clone(), |(_, name)| name.to_string()),
    }
}

fn entry(p: &Grantee, levels: Vec<Value>) -> Value {
    let mut m = Map::new();
    let (key, name) = match p {
        Grantee::User(n) => ("user_name", n),
        Grantee::Group(n) => ("group_name", n),
        Grantee::ServicePrincipal(n) => ("service_principal_name", n),
    };
    m.insert(key.into(), json!(name));
    m.insert("display_name".into(), json!(display_name(p)));
    m.insert("all_permissions".into(), Value::Array(levels));
    Value::Object(m)
}

/// The permissions object of job `job_id` whose direct entries are `acl`.
pub(crate) fn object(job_id: i64, acl: &[AclEntry]) -> Value {
    let admins = Grantee::Group(ADMINS.into());
    let inherited = json!({"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": [ROOT]});
    let mut list: Vec<Value> = Vec::with_capacity(acl.len() + 1);
    let mut admins_direct = None;
    for e in acl {
        let direct = json!({"permission_level": e.level, "inherited": false});
        if e.principal == admins {
            admins_direct = Some(direct);
            continue;
        }
        list.push(entry(&e.principal, vec![direct]));
    }
    let mut admin_levels: Vec<Value> = admins_direct.into_iter().collect();
    admin_levels.push(inherited);
    list.push(entry(&admins, admin_levels));
    json!({
        "object_id": format!("{ROOT}{job_id}"),
        "object_type": "job",
        "access_control_list": list,
    })
}

/// The permission levels of a job.
pub(crate) fn levels() -> Value {
    let levels: Vec<Value> = LEVELS
        .iter()
        .map(|(l, d)| json!({"permission_level": l, "description": d}))
        .collect();
    json!({ "permission_levels": levels })
}
