/**
 * A GraphQL response as a file an analyst opens in a spreadsheet.
 *
 * CSV: the rows are the first list of objects in `data` (depth first, in
 * field order; under a connection its `nodes`, or `edges[].node`, or an
 * aggregate's `groups`). Without such a list, `data` itself is the one row.
 * Nested objects become dotted columns (`province.nameEn`), lists a JSON
 * cell, null an empty cell. Fields are quoted as RFC 4180 says, lines end in
 * CRLF, and the file starts with a UTF-8 byte order mark so that Excel reads
 * Thai text right. A text cell that starts with = + - @ or a tab gets a `'`
 * in front, so that a spreadsheet shows it instead of running it as a formula.
 */

/** The keys of a list of rows, by preference, in a connection or aggregate. */
const LIST_KEYS = ["nodes", "edges", "groups"];

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** The first list of rows under `value`, or null. */
function findList(value) {
  if (Array.isArray(value)) return value.some(isObject) ? value : null;
  if (!isObject(value)) return null;
  for (const key of LIST_KEYS) {
    if (Array.isArray(value[key])) return key === "edges" ? value[key].map((edge) => edge?.node ?? edge) : value[key];
  }
  for (const child of Object.values(value)) {
    const list = findList(child);
    if (list) return list;
  }
  return null;
}

/** Adds `value` to `row` under `prefix`, objects flattened into dotted keys. */
function flatten(value, prefix, row) {
  if (isObject(value) && Object.keys(value).length) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, row);
  } else {
    row[prefix] = Array.isArray(value) || isObject(value) ? JSON.stringify(value) : value;
  }
  return row;
}

/** The rows of `response` (a GraphQL response), each a flat object. */
export function csvRows(response) {
  const data = response?.data;
  if (!isObject(data)) return [];
  return (findList(data) ?? [data]).map((item) => (isObject(item) ? flatten(item, "", {}) : {}));
}

/** One CSV field. */
function field(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * `rows` (from csvRows) as CSV text, a header line first. An object that is
 * null in some rows keeps only its dotted columns (`province.nameEn`, empty
 * there), not a column of its own.
 */
export function toCsv(rows) {
  const keys = [...new Set(rows.flatMap(Object.keys))];
  const columns = keys.filter(
    (key) => !(keys.some((other) => other.startsWith(`${key}.`)) && rows.every((row) => row[key] == null)),
  );
  const lines = [columns, ...rows.map((row) => columns.map((column) => row[column]))];
  return "\uFEFF" + lines.map((line) => line.map(field).join(",") + "\r\n").join("");
}

/** Makes the browser download `text` as the file `name`. */
export function saveFile(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not at once: the download reads the blob after the click.
  setTimeout(() => URL.revokeObjectURL(url), 40000);
}
