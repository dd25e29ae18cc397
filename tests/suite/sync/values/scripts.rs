//! The Python (`deltalake` + pyarrow) side of `sync::values`: the script that writes the hostile
//! tables and the one that reads their hostile rows back, each run as `PRELUDE` + itself.

/// What both scripts share: the imports, `NESTED` (argv[2]: how much of a value a nested text
/// field holds), and `leaves`, every text (and, asked, binary) value of a column, with whether
/// it is the column's own (top) or a nested field's.
pub(super) const PRELUDE: &str = r#"
import json, os, sys
import pyarrow as pa
from deltalake import DeltaTable

NESTED = int(sys.argv[2])

def is_text(t):
    return pa.types.is_string(t) or pa.types.is_large_string(t)

def cut(v):
    return v.encode()[:NESTED].decode("utf-8", "ignore")

def leaves(value, t, top, binary=False):
    if is_text(t) or (binary and pa.types.is_binary(t)):
        yield value, top
    elif pa.types.is_struct(t) and value is not None:
        for f in t:
            yield from leaves(value.get(f.name), f.type, False, binary)
    elif (pa.types.is_list(t) or pa.types.is_large_list(t)) and value:
        for item in value:
            yield from leaves(item, t.value_type, False, binary)
"#;

/// For each job of the JSON file argv[1], a copy of the table `template` at `path` with two
/// rows added, both still active (`active` NULL), in the partition of the newest row:
/// A, of the template's workspace, every text column but the workspace (string keys included)
/// the value (nested text fields: its first NESTED bytes; lists cut to one item), its integer
/// keys `ints`, starting `overlap + 60 s` before the newest row (so the re-sync fetches it by
/// key); and B, the newest row with the value as its workspace. With `binary`, that column
/// becomes binary (every value its UTF-8 bytes) and holds the value (bytes, not UTF-8) in A,
/// or in B when it is the workspace column. Prints, per job, the template's workspace and the
/// keys of its active rows, as JSON.
pub(super) const WRITE: &str = r#"
from datetime import timedelta
from deltalake import write_deltalake

def fill(value, t, v, top):
    if is_text(t):
        return v if top else cut(v)
    if pa.types.is_struct(t):
        if value is None:
            return None
        return {f.name: fill(value.get(f.name), f.type, v, False) for f in t}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        if not value:
            return value
        return [fill(value[0], t.value_type, v, False)]
    return value

templates = {}
report = []
for job in json.load(open(sys.argv[1])):
    if job["template"] not in templates:
        templates[job["template"]] = DeltaTable(job["template"]).to_pyarrow_table()
    table = templates[job["template"]]
    rows = table.to_pylist()
    ws, start, active = job["workspace"], job["start"], job["active"]
    newest = max(rows, key=lambda r: r[start])
    at = newest[start] - timedelta(seconds=job["overlap"] + 60)
    assert at.date() == newest[start].date(), "the newest run is too close to midnight"
    raw = bytes.fromhex(job["value"]["hex"]) if "hex" in job["value"] else None
    text = raw.decode("utf-8", "replace") if raw is not None else job["value"]["text"]
    a = {}
    for f in table.schema:
        n = f.name
        if n == ws or n == "synced_at":
            a[n] = newest[n]
        elif n in job["ints"]:
            a[n] = job["ints"][n]
        elif n == start:
            a[n] = at
        elif n == "start_date":
            a[n] = at.date()
        elif n == active:
            a[n] = None
        else:
            a[n] = fill(newest[n], f.type, text, True)
    keys = [[r[k] for k in job["key"]] for r in rows if r[active] is None]
    own = newest[ws]
    b = dict(newest)
    b[ws] = text
    b[active] = None
    out = rows + [a, b]
    schema = table.schema
    col = job["binary"]
    if col:
        i = schema.get_field_index(col)
        schema = schema.set(i, pa.field(col, pa.binary()))
        for r in out:
            if isinstance(r[col], str):
                r[col] = r[col].encode()
        (b if col == ws else a)[col] = raw
    write_deltalake(job["path"], pa.Table.from_pylist(out, schema=schema),
                    partition_by=["start_date"])
    if job["partition"]:
        log = os.path.join(job["path"], "_delta_log", "%020d.json" % 0)
        day = str(at.date())
        lines = []
        for line in open(log):
            action = json.loads(line)
            add = action.get("add")
            if add and add.get("partitionValues", {}).get("start_date") == day:
                add["partitionValues"]["start_date"] = text
            lines.append(json.dumps(action))
        open(log, "w").write("\n".join(lines) + "\n")
    size = sum(len(x.encode()) if isinstance(x, str) else len(x)
               for r, f in [(a, g) for g in schema] + [(b, schema.field(ws))]
               for x, _ in leaves(r[f.name], f.type, True, True) if x is not None)
    report.append({"workspace": own, "active": keys, "hostile_bytes": size})
print(json.dumps(report))
# deltalake's runtime threads may abort the interpreter's teardown ("terminate called without
# an active exception", SIGABRT) after all the work is done: leave without it.
sys.stdout.flush()
os._exit(0)
"#;

/// For each job of the JSON file argv[1] (a table the re-sync committed to), what is wrong with
/// its hostile rows: A (found by its keys) must hold the value in every text column but the
/// workspace (nested: its first NESTED bytes), B (the only row of that workspace) must be there,
/// each once. Prints `{path: [problems]}` as JSON.
pub(super) const CHECK: &str = r#"
out = {}
for job in json.load(open(sys.argv[1])):
    table = DeltaTable(job["path"]).to_pyarrow_table()
    rows = table.to_pylist()
    v, ws = job["value"]["text"], job["workspace"]
    problems = []
    def keyed(r):
        for k in job["key"]:
            want = job["ints"][k] if k in job["ints"] else v
            if r[k] != want:
                return False
        return r[ws] == job["own"]
    a = [r for r in rows if keyed(r)]
    b = [r for r in rows if r[ws] == v]
    if len(a) != 1:
        problems.append(f"row A {len(a)} times")
    if len(b) != 1:
        problems.append(f"row B {len(b)} times")
    for r in a:
        for f in table.schema:
            if f.name in (ws, "synced_at") or f.name in job["ints"]:
                continue
            for got, top in leaves(r[f.name], f.type, True):
                want = v if top else cut(v)
                if got != want:
                    shown = repr(got)[:80] if got is not None else None
                    problems.append(f"A.{f.name}: {shown} ({len(got or '')} bytes)")
    if b and b[0][job["active"]] is not None:
        problems.append("row B ended")
    out[job["path"]] = problems
print(json.dumps(out))
# deltalake's runtime threads may abort the interpreter's teardown ("terminate called without
# an active exception", SIGABRT) after all the work is done: leave without it.
sys.stdout.flush()
os._exit(0)
"#;
