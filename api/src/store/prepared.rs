//! Statements shaped for PostgreSQL's plan cache.
//!
//! The driver prepares every statement once per connection and PostgreSQL
//! then chooses, per execution, between a custom plan (planned again with
//! the parameters' values) and a generic plan (planned once). It keeps
//! custom plans when the generic one looks costlier, and a `LIMIT $n`
//! always does: without its value the planner assumes a tenth of the rows
//! will be read. So a page query with a bound `LIMIT` is planned again on
//! every execution, which measured 0.3 ms of database CPU per nested read.
//!
//! A page size is a validated integer the service itself computed (the
//! connection's `first`/`last` plus one), never caller text, so writing it
//! into the SQL is safe; the few distinct sizes each get their own prepared
//! statement, and their plans become generic after PostgreSQL's five
//! custom executions.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, StatementBuilder, Value, Values};

/// Runs a page query with its page sizes written into the SQL ([`inline_limits`]).
pub async fn query_all(db: &impl ConnectionTrait, query: &impl StatementBuilder) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(inline_limits(query.build(&db.get_database_backend()))).await
}

/// `statement` with every `LIMIT $n` whose value is an integer written as a
/// literal, its parameter removed and the later ones renumbered.
/// Statements for other engines are returned unchanged (SQLite plans each
/// execution anyway).
pub fn inline_limits(statement: Statement) -> Statement {
    if statement.db_backend != DbBackend::Postgres {
        return statement;
    }
    let Some(Values(values)) = statement.values else { return statement };
    let sql = statement.sql;
    // The parameters written as literals, by their 1-based number.
    let mut literal: Vec<Option<u64>> = vec![None; values.len()];
    for (at, _) in sql.match_indices("LIMIT $") {
        let digits: String = sql[at + 7..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(number) = digits.parse::<usize>()
            && let Some(value) = values.get(number.wrapping_sub(1))
            && let Some(size) = page_size(value)
        {
            literal[number - 1] = Some(size);
        }
    }
    if literal.iter().all(Option::is_none) {
        return Statement { sql, values: Some(Values(values)), db_backend: statement.db_backend };
    }
    // New numbers of the parameters that stay.
    let mut renumbered = Vec::with_capacity(values.len());
    let mut next = 0usize;
    for size in &literal {
        renumbered.push(if size.is_none() {
            next += 1;
            next
        } else {
            0
        });
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql.as_str();
    let mut quote: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && rest.starts_with(|d: char| d.is_ascii_digit()) => {
                let len = rest.find(|d: char| !d.is_ascii_digit()).unwrap_or(rest.len());
                let number: usize = rest[..len].parse().unwrap_or(0);
                rest = &rest[len..];
                match number.checked_sub(1).and_then(|i| literal.get(i).map(|size| (i, size))) {
                    Some((_, Some(size))) => out.push_str(&size.to_string()),
                    Some((i, None)) => {
                        out.push('$');
                        out.push_str(&renumbered[i].to_string());
                    }
                    None => {
                        out.push('$');
                        out.push_str(&number.to_string());
                    }
                }
            }
            None => out.push(c),
        }
    }
    let kept = values.into_iter().zip(&literal).filter(|(_, size)| size.is_none()).map(|(value, _)| value).collect();
    Statement { sql: out, values: Some(Values(kept)), db_backend: DbBackend::Postgres }
}

/// A page size bound as a parameter, if `value` is one.
fn page_size(value: &Value) -> Option<u64> {
    match value {
        Value::BigUnsigned(Some(n)) => Some(*n),
        Value::BigInt(Some(n)) => u64::try_from(*n).ok(),
        Value::Unsigned(Some(n)) => Some(u64::from(*n)),
        Value::Int(Some(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    #[test]
    fn limits_become_literals_and_later_parameters_are_renumbered() {
        let statement = pg(
            r#"SELECT "a" FROM (SELECT "id" FROM "t" WHERE "x" = $1 LIMIT $2) AS "p" WHERE "y" = $3 AND "z" = '$4' LIMIT $4"#,
            vec![Value::from("c"), Value::BigUnsigned(Some(21)), Value::from(7i64), Value::BigUnsigned(Some(6))],
        );
        let out = inline_limits(statement);
        assert_eq!(
            out.sql,
            r#"SELECT "a" FROM (SELECT "id" FROM "t" WHERE "x" = $1 LIMIT 21) AS "p" WHERE "y" = $2 AND "z" = '$4' LIMIT 6"#
        );
        assert_eq!(out.values, Some(Values(vec![Value::from("c"), Value::from(7i64)])));
    }

    #[test]
    fn statements_without_bound_limits_and_sqlite_are_unchanged() {
        let statement = pg(r#"SELECT 1 WHERE "x" = $1 LIMIT $2"#, vec![Value::from(1i64), Value::from("no")]);
        assert_eq!(inline_limits(statement.clone()).sql, statement.sql);
        let sqlite = Statement::from_sql_and_values(DbBackend::Sqlite, "SELECT 1 LIMIT ?", vec![Value::from(3i64)]);
        assert_eq!(inline_limits(sqlite.clone()).sql, sqlite.sql);
    }
}
