//! Checks of how a method's responses are shaped: its `pagination:` (each key belongs to its
//! style; slicing, newest-first reads and merged pages only where the style can resume from
//! a cursor), where its objects sit (`response.objects`), and the `encoding:` of a range
//! pushdown rule.

use crate::spec::error::Finding;
use crate::spec::model::{
    MethodSpec, PaginationStyle, PushdownOp, PushdownRule, ResourceSpec, TimeEncoding,
};
use crate::spec::resource::Column;
use crate::spec::types::ColumnType;

type Check = Result<(), Finding>;

/// A method's `pagination:` and `response.objects`, at `place` (`resources.x.methods.list`).
pub(super) fn check_method(place: &str, method: &MethodSpec) -> Check {
    if let Some(objects) = &method.response.objects {
        if objects != "." && objects.split('.').any(str::is_empty) {
            return Err(Finding::new(
                format!("{place}.response.objects"),
                format!("`{objects}` is not a dotted path of fields (or `.` for the body)"),
            ));
        }
    }
    let Some(pg) = &method.pagination else {
        return Ok(());
    };
    let at = format!("{place}.pagination");
    let style = pg.style;
    let err = |key: &str, message: String| Err(Finding::new(format!("{at}.{key}"), message));
    let named = style.as_str();
    use PaginationStyle::*;
    let wants_param = matches!(style, Token | Marker | Offset | Page);
    match (&pg.param, wants_param) {
        (None, true) => return err("param", format!("style `{named}` needs a `param`")),
        (Some(_), false) => {
            return err(
                "param",
                format!("style `{named}` follows a URL: it has no `param`"),
            )
        }
        _ => {}
    }
    let wants_next = matches!(style, Token | Marker | NextUrl);
    match (&pg.next, wants_next) {
        (None, true) => {
            return err(
                "next",
                format!("style `{named}` needs `next`: where the body holds the next page"),
            )
        }
        (Some(_), false) => return err("next", format!("style `{named}` has no `next`")),
        (Some(next), true) if next == "." || next.split('.').any(str::is_empty) => {
            return err("next", format!("`{next}` is not a dotted path of fields"))
        }
        _ => {}
    }
    let counted = matches!(style, Offset | Page);
    if let Some(total) = &pg.total {
        if !counted {
            return err(
                "total",
                format!("style `{named}` has no `total` (it is for offset and page)"),
            );
        }
        if total == "." || total.split('.').any(str::is_empty) {
            return err("total", format!("`{total}` is not a dotted path of fields"));
        }
    }
    if pg.first_page.is_some() && style != Page {
        return err("first_page", format!("style `{named}` has no `first_page`"));
    }
    if pg.short_page_ends && !counted {
        return err(
            "short_page_ends",
            format!(
                "style `{named}` stops where its API says; `short_page_ends` is for offset and page"
            ),
        );
    }
    if pg.short_page_ends && pg.page_size.is_none() {
        return err(
            "short_page_ends",
            "needs `page_size`: a page is short of the size asked".into(),
        );
    }
    if let Some(size) = &pg.page_size {
        if size.max == 0 {
            return err("page_size.max", "must be at least 1".into());
        }
        if pg.param.as_ref() == Some(&size.param) {
            return err(
                "page_size.param",
                format!("`{}` is also the paging `param`", size.param),
            );
        }
    }
    if let Some(p) = pg.param.as_ref().filter(|p| method.params.contains_key(*p)) {
        return err(
            "param",
            format!("`{p}` is also a parameter of the method: paging sets it"),
        );
    }
    let bare = method.response.objects.as_deref() == Some(".");
    if let Some(key) = [("next", pg.next.is_some()), ("total", pg.total.is_some())]
        .iter()
        .find(|(_, given)| bare && *given)
        .map(|(key, _)| *key)
    {
        return err(
            key,
            "the body is the array of objects (`objects: \".\"`): it has no fields".into(),
        );
    }
    if !style.is_cursor() {
        let refused = [
            ("merge_arrays", !pg.merge_arrays.is_empty()),
            ("parallel", method.parallel.is_some()),
            ("order", method.order.is_some()),
        ];
        if let Some((key, _)) = refused.iter().find(|(_, given)| *given) {
            let place = if *key == "merge_arrays" {
                format!("{at}.merge_arrays")
            } else {
                format!("{place}.{key}")
            };
            return Err(Finding::new(
                place,
                format!(
                    "needs a listing resumable from a cursor (pagination style `token` or \
                     `marker`), not `{named}`"
                ),
            ));
        }
    }
    Ok(())
}

/// A pushdown rule's `encoding:`: only for `range` on a timestamp column; a `parallel:`
/// listing's rule stays in epoch milliseconds (its slices are cut in them).
pub(super) fn check_encoding(
    place: &str,
    rule: &PushdownRule,
    spec: &ResourceSpec,
    columns: &[Column],
) -> Check {
    if rule.encoding == TimeEncoding::EpochMs {
        return Ok(());
    }
    let at = format!("{place}.encoding");
    let timestamp = columns
        .iter()
        .any(|c| c.name == rule.column && matches!(c.ty, ColumnType::Timestamp(_)));
    if !rule.ops.contains(&PushdownOp::Range) || !timestamp {
        return Err(Finding::new(
            at,
            "an `encoding` is for a `range` rule on a timestamp column",
        ));
    }
    if let Some((name, _)) = spec
        .methods
        .iter()
        .find(|(_, m)| m.parallel.as_ref().is_some_and(|p| p.column == rule.column))
    {
        return Err(Finding::new(
            at,
            format!(
                "method `{name}` slices `{}` in epoch milliseconds (`parallel:`)",
                rule.column
            ),
        ));
    }
    Ok(())
}
