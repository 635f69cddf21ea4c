//! Key declarations: every configuration key is declared once, in a
//! [`section!`](crate::section) invocation, with its type, unit, default,
//! check and description. Parsing, validation, the resolved-config writer and
//! docs/config.md are all derived from those declarations.

use crate::{ConfigError, Source};

/// A declared key, as listed in docs/config.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDoc {
    pub path: String,
    pub kind: String,
    pub unit: &'static str,
    /// The default as TOML text; `None` when the key is required.
    pub default: Option<String>,
    pub description: String,
}

/// A TOML table of declared keys.
pub trait Section: Sized {
    /// Dotted path of the table (`""` for the document root).
    const PATH: &'static str;
    /// One-line description of the table.
    const DESCRIPTION: &'static str;
    /// Declarations of this table's own keys (not of nested tables).
    fn keys() -> Vec<KeyDoc>;
    /// Dotted path and description of this table and of every nested table.
    fn tables() -> Vec<(&'static str, &'static str)>;
    /// Declarations of this table's keys and of every nested table's keys.
    fn all_keys() -> Vec<KeyDoc>;
    /// Reads and checks every declared key, filling in defaults.
    fn resolve(source: &Source) -> Result<Self, ConfigError>;
    /// Writes every value as used (defaults filled in) into `doc`.
    fn write(&self, doc: &mut toml_edit::DocumentMut);
}

/// `section.key`, or `key` at the root.
pub fn join(section: &str, key: &str) -> String {
    if section.is_empty() {
        key.to_owned()
    } else {
        format!("{section}.{key}")
    }
}

/// Reads one declared key: the value from the source or the default, then
/// the key's check. Used by [`section!`](crate::section).
pub fn read_key<T: crate::ConfigValue>(
    source: &Source,
    path: &str,
    default: Option<T>,
    check: fn(&T) -> Result<(), String>,
) -> Result<T, ConfigError> {
    let (value, origin) = match source.lookup(path)? {
        Some((raw, origin)) => {
            let value = T::from_toml(&raw)
                .map_err(|reason| ConfigError::new(origin.clone(), path, reason))?;
            (value, origin)
        }
        None => match default {
            Some(value) => (value, source.origin_of(path)),
            None => {
                return Err(ConfigError::new(
                    source.origin_of(path),
                    path,
                    format!("required key is missing (expected {})", T::kind()),
                ))
            }
        },
    };
    check(&value).map_err(|reason| ConfigError::new(origin, path, reason))?;
    Ok(value)
}

/// Sets `path` to `value` in `doc`, creating tables on the way.
pub fn write_key(doc: &mut toml_edit::DocumentMut, path: &str, value: Option<toml_edit::Value>) {
    let Some(value) = value else { return };
    let mut segments: Vec<&str> = path.split('.').collect();
    let leaf = segments.pop().unwrap_or(path);
    let mut table = doc.as_table_mut();
    for segment in segments {
        let item = table
            .entry(segment)
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
        table = match item.as_table_mut() {
            Some(t) => t,
            None => return,
        };
    }
    table.insert(leaf, toml_edit::Item::Value(value));
}

/// Declares a configuration table: a struct of typed fields plus its
/// [`Section`] implementation. Each field is
/// `/// description` `name: Type = default, unit = "…", check = path;`,
/// and the table itself `pub struct Name at "dotted.path", "description" { … }`.
/// where `default` is `required` or a parenthesised expression.
#[macro_export]
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident at $path:literal, $table_doc:literal {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:tt, unit = $unit:literal, check = $check:path;
            )*
            $( tables { $( $sub:ident : $subty:ty ),* $(,)? } )?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
            $( $( pub $sub: $subty, )* )?
        }

        impl $crate::schema::Section for $name {
            const PATH: &'static str = $path;
            const DESCRIPTION: &'static str = $table_doc;

            fn keys() -> Vec<$crate::schema::KeyDoc> {
                vec![$(
                    $crate::schema::KeyDoc {
                        path: $crate::schema::join($path, stringify!($field)),
                        kind: <$ty as $crate::ConfigValue>::kind(),
                        unit: $unit,
                        default: $crate::section!(@default $ty, $default)
                            .and_then(|d| <$ty as $crate::ConfigValue>::to_toml(&d))
                            .map(|v| v.to_string().trim().to_owned()),
                        description: [$($doc),+].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "),
                    },
                )*]
            }

            fn tables() -> Vec<(&'static str, &'static str)> {
                #[allow(unused_mut)]
                let mut tables = vec![($path, $table_doc)];
                $( $( tables.extend(<$subty as $crate::schema::Section>::tables()); )* )?
                tables
            }

            fn all_keys() -> Vec<$crate::schema::KeyDoc> {
                #[allow(unused_mut)]
                let mut keys = Self::keys();
                $( $( keys.extend(<$subty as $crate::schema::Section>::all_keys()); )* )?
                keys
            }

            fn resolve(source: &$crate::Source) -> Result<Self, $crate::ConfigError> {
                Ok($name {
                    $(
                        $field: $crate::schema::read_key::<$ty>(
                            source,
                            &$crate::schema::join($path, stringify!($field)),
                            $crate::section!(@default $ty, $default),
                            $check,
                        )?,
                    )*
                    $( $( $sub: <$subty as $crate::schema::Section>::resolve(source)?, )* )?
                })
            }

            fn write(&self, doc: &mut toml_edit::DocumentMut) {
                $(
                    $crate::schema::write_key(
                        doc,
                        &$crate::schema::join($path, stringify!($field)),
                        <$ty as $crate::ConfigValue>::to_toml(&self.$field),
                    );
                )*
                $( $( <$subty as $crate::schema::Section>::write(&self.$sub, doc); )* )?
            }
        }
    };
    (@default $ty:ty, required) => { None::<$ty> };
    (@default $ty:ty, ($value:expr)) => { Some::<$ty>($value) };
}
